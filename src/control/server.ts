// The control socket hbd listens on: a unix socket readable only by root (mode 0600), or by
// root and one group (mode 0660) when a group is configured — Heartbeat's apiauth idea.
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, chownSync, mkdirSync, unlinkSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { LineSplitter } from '../lib/lines.js';
import { MAX_REQUEST_BYTES, parseRequest, type ControlReply, type ControlRequest } from './protocol.js';

export type ControlHandler = (req: ControlRequest) => unknown;

export class ControlServer {
  private server: Server | null = null;

  constructor(
    readonly path: string,
    private readonly handler: ControlHandler,
    private readonly gid: number | null = null,
  ) {}

  async listen(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o755 });
    // A socket file left by a daemon that crashed would make listen() fail.
    if (existsSync(this.path)) unlinkSync(this.path);
    const server = createServer((sock) => this.serve(sock));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => undefined);
    if (this.gid !== null) {
      chownSync(this.path, 0, this.gid);
      chmodSync(this.path, 0o660);
    } else {
      chmodSync(this.path, 0o600);
    }
  }

  private serve(sock: Socket): void {
    const lines = new LineSplitter();
    sock.setEncoding('utf8');
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on('error', () => undefined);
    sock.on('data', (chunk: string) => {
      // Bounds what one chunk and the incomplete line before it may hold, lines and all.
      if (lines.pending + chunk.length > MAX_REQUEST_BYTES) {
        this.reply(sock, { ok: false, error: { code: 'E_TOO_LARGE', message: `request over ${MAX_REQUEST_BYTES} bytes` } });
        sock.end();
        lines.clear();
        return;
      }
      for (const line of lines.push(chunk)) {
        if (line.trim() === '') continue;
        const req = parseRequest(line);
        if ('error' in req) {
          this.reply(sock, { ok: false, error: req.error });
          continue;
        }
        try {
          this.reply(sock, { ok: true, result: this.handler(req) });
        } catch (err) {
          this.reply(sock, { ok: false, error: { code: 'E_NOT_READY', message: (err as Error).message } });
        }
      }
    });
  }

  private reply(sock: Socket, r: ControlReply): void {
    if (!sock.destroyed) sock.write(`${JSON.stringify(r)}\n`);
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}
