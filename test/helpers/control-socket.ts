// Raw clients of the control socket for its tests: a server in a temp dir, an exchange of
// chunks, and connections held open whose reply lines are read one at a time.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ControlServer, type ControlHandler, type ControlServerOptions } from '../../src/control/server.js';
import { LineSplitter } from '../../src/lib/lines.js';
import { Wakeup, waitFor } from '../../src/lib/wait.js';

export type Reply = { ok: boolean; result?: unknown; error?: { code: string; message: string } };

/** A regular expression matching `s` literally (paths hold dots). */
export const literally = (s: string): RegExp => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

export const echoHandler: ControlHandler = (req) => ({ got: req.cmd });

export async function withServer(
  fn: (path: string, server: ControlServer) => Promise<void>,
  opts: ControlServerOptions = {},
  handler: ControlHandler = echoHandler,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hbts-ctl-'));
  const server = new ControlServer(join(dir, 'hbd.sock'), handler, opts);
  try {
    await server.listen();
    await fn(server.path, server);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes `chunks` one by one and collects the reply lines until the server ends. */
export function exchange(path: string, chunks: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let text = '';
    sock.setEncoding('utf8');
    sock.on('data', (c: string) => (text += c));
    sock.on('error', reject);
    sock.on('close', () => resolve(text.split('\n').filter(Boolean)));
    sock.on('connect', async () => {
      for (const c of chunks) {
        sock.write(c);
        await new Promise((r) => setTimeout(r, 20));
      }
      sock.end();
    });
  });
}

/** A connection held open: requests go out with send(), replies are read with next(). */
export class LineClient {
  private readonly lines: string[] = [];
  private read = 0;
  private readonly wake = new Wakeup();
  closed = false;

  private constructor(readonly sock: Socket) {
    const splitter = new LineSplitter();
    sock.setEncoding('utf8');
    sock.on('data', (c: string) => {
      this.lines.push(...splitter.push(c));
      this.wake.notify();
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      this.closed = true;
      this.wake.notify();
    });
  }

  static open(path: string): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const sock = connect(path);
      sock.once('error', reject);
      sock.once('connect', () => {
        sock.off('error', reject);
        resolve(new LineClient(sock));
      });
    });
  }

  send(req: unknown): void {
    this.sock.write(`${JSON.stringify(req)}\n`);
  }

  /** The next reply, parsed. */
  async next(timeoutMs = 5000): Promise<Reply> {
    const deadline = performance.now() + timeoutMs;
    while (this.lines[this.read] === undefined) {
      if (this.closed) throw new Error('the server closed the connection without a reply');
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms`);
      await this.wake.next(left);
    }
    return JSON.parse(this.lines[this.read++] ?? '') as Reply;
  }

  /** Resolves once the server has closed the connection. */
  async ended(timeoutMs = 5000): Promise<void> {
    await waitFor('the server to close the connection', () => this.closed, { timeoutMs, wake: this.wake });
  }

  close(): void {
    this.sock.destroy();
  }
}
