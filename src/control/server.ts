// A control socket hbd listens on: a unix stream socket, one JSON request per line.
//
// Who may connect is decided by the kernel, not by us: on Linux, connect() needs write
// permission on the socket file (unix(7)), so the file's mode and group are the access
// control — Heartbeat's apiauth idea. Node cannot read SO_PEERCRED, so rights cannot be
// checked per request; instead hbd opens two of these: the full socket (status, standby,
// takeover) and a read-only one (status), each with its own group (see hbd.ts).
//
// Nothing a client sends may grow hbd without bound: one request is at most
// MAX_REQUEST_BYTES, replies a client leaves unread stop hbd from reading its further
// requests, and at most `maxConnections` clients are served at once.
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, chownSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { LineSplitter } from '../lib/lines.js';
import {
  CONTROL_IDLE_TIMEOUT_MS,
  MAX_CONTROL_CONNECTIONS,
  MAX_QUEUED_REPLY_BYTES,
  MAX_REQUEST_BYTES,
  parseRequest,
  type ControlReply,
  type ControlRequest,
} from './protocol.js';

export type ControlHandler = (req: ControlRequest) => unknown;

export interface ControlServerOptions {
  /** Also let this group connect (mode 0660); null or absent: the owner only (0600). */
  gid?: number | null;
  /** Answer status only; standby and takeover are refused with E_READ_ONLY. */
  readOnly?: boolean;
  maxConnections?: number;
  maxQueuedReplyBytes?: number;
  idleTimeoutMs?: number;
}

const TOO_LARGE = Symbol('request too large');

/**
 * Requests answered for one client before the event loop gets a turn: a client pipelining
 * thousands of status requests must not hold up heartbeats while they are computed.
 */
const ANSWERS_PER_TURN = 32;

/** How long a refused client has to read why before the connection is cut. */
const REFUSAL_GRACE_MS = 2000;

export class ControlServer {
  private server: Server | null = null;
  /** Every open connection, served or being refused: close() ends them all. */
  private readonly sockets = new Set<Socket>();
  private served = 0;
  private readonly gid: number | null;
  private readonly readOnly: boolean;
  private readonly maxConnections: number;
  private readonly maxQueuedReplyBytes: number;
  private readonly idleTimeoutMs: number;

  constructor(
    readonly path: string,
    private readonly handler: ControlHandler,
    opts: ControlServerOptions = {},
  ) {
    this.gid = opts.gid ?? null;
    this.readOnly = opts.readOnly ?? false;
    this.maxConnections = opts.maxConnections ?? MAX_CONTROL_CONNECTIONS;
    this.maxQueuedReplyBytes = opts.maxQueuedReplyBytes ?? MAX_QUEUED_REPLY_BYTES;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? CONTROL_IDLE_TIMEOUT_MS;
  }

  async listen(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o755 });
    // A socket file left by a daemon that crashed would make listen() fail.
    if (existsSync(this.path)) unlinkSync(this.path);
    const server = createServer({ allowHalfOpen: true }, (sock) => this.accept(sock));
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

  private accept(sock: Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => undefined);
    sock.setTimeout(this.idleTimeoutMs, () => sock.destroy());
    if (this.served >= this.maxConnections) {
      // Said, not just dropped (as net.Server#maxConnections would), so the operator sees why.
      this.refuse(sock, {
        code: 'E_TOO_MANY_CLIENTS',
        message: `too many connections to ${this.path} (at most ${this.maxConnections} at once); try again later`,
      });
      return;
    }
    this.served++;
    sock.on('close', () => this.served--);
    this.serve(sock);
  }

  /**
   * Answers one error and closes. What the client still sends is read and dropped: closing a
   * unix socket with unread data would reset the connection, and the client might then miss
   * the reason.
   */
  private refuse(sock: Socket, error: { code: 'E_TOO_MANY_CLIENTS' | 'E_TOO_LARGE'; message: string }): void {
    sock.removeAllListeners('data');
    sock.on('data', () => undefined);
    sock.resume();
    sock.end(line({ ok: false, error }));
    const cut = setTimeout(() => sock.destroy(), REFUSAL_GRACE_MS);
    sock.once('close', () => clearTimeout(cut));
  }

  private serve(sock: Socket): void {
    const lines = new LineSplitter();
    // Lines read but not yet answered: at most what one read brought, since reading stops
    // whenever they cannot be answered.
    let queue: (string | typeof TOO_LARGE)[] = [];
    let next = 0;
    let readEnded = false;
    let draining = false;
    let yielding = false;
    let done = false;

    const pump = (): void => {
      if (sock.destroyed) return;
      let answered = 0;
      while (!draining && !yielding && !done && next < queue.length) {
        if (answered++ === ANSWERS_PER_TURN) {
          yielding = true;
          setImmediate(() => {
            yielding = false;
            pump();
          });
          break;
        }
        const item = queue[next++]!;
        if (item === TOO_LARGE || Buffer.byteLength(item) > MAX_REQUEST_BYTES) {
          done = true;
          this.refuse(sock, { code: 'E_TOO_LARGE', message: `request over ${MAX_REQUEST_BYTES} bytes` });
          return;
        }
        if (item.trim() === '') continue;
        // Backpressure: a client that does not read its replies is not read from either, so
        // what hbd holds for it is bounded by maxQueuedReplyBytes plus one reply.
        const flushed = sock.write(line(this.answer(item)));
        if (!flushed && sock.writableLength >= this.maxQueuedReplyBytes) draining = true;
      }
      if (done) return;
      if (next >= queue.length) {
        queue = [];
        next = 0;
      }
      if (draining || yielding) sock.pause();
      else if (readEnded && queue.length === 0) {
        if (!sock.writableEnded) sock.end();
      } else sock.resume();
    };

    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      if (done) return;
      for (const l of lines.push(chunk)) queue.push(l);
      // The line still open is bounded too, or a client could send one without end.
      if (lines.pending > MAX_REQUEST_BYTES) {
        lines.clear();
        queue.push(TOO_LARGE);
      }
      pump();
    });
    sock.on('drain', () => {
      draining = false;
      pump();
    });
    // Half-open is allowed so that replies to requests still queued go out after the client
    // has finished sending; we end our side once they are written.
    sock.on('end', () => {
      readEnded = true;
      pump();
    });
  }

  private answer(text: string): ControlReply {
    const req = parseRequest(text);
    if ('error' in req) return { ok: false, error: req.error };
    if (this.readOnly && req.cmd !== 'status') {
      return {
        ok: false,
        error: { code: 'E_READ_ONLY', message: `${req.cmd} is not allowed on the read-only socket ${this.path}: it needs the control socket (root or --control-group)` },
      };
    }
    try {
      return { ok: true, result: this.handler(req) };
    } catch (err) {
      return { ok: false, error: { code: 'E_NOT_READY', message: err instanceof Error ? err.message : String(err) } };
    }
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    for (const sock of this.sockets) sock.destroy();
    await closeServer(s);
    try {
      unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}

/** A reply as one line; a result that cannot be serialised is an error reply, not a crash. */
function line(r: ControlReply): string {
  try {
    return `${JSON.stringify(r)}\n`;
  } catch (err) {
    return `${JSON.stringify({ ok: false, error: { code: 'E_INTERNAL', message: `reply could not be encoded: ${(err as Error).message}` } })}\n`;
  }
}

function closeServer(s: Server): Promise<void> {
  return new Promise((resolve) => s.close(() => resolve()));
}
