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
import { connect, createServer, type Server, type Socket } from 'node:net';
import { chmodSync, chownSync, linkSync, lstatSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { LineSplitter } from '../lib/lines.js';
import {
  CONTROL_IDLE_TIMEOUT_MS,
  MAX_CONTROL_CONNECTIONS,
  MAX_QUEUED_REPLY_BYTES,
  MAX_REQUEST_BYTES,
  ControlError,
  parseRequest,
  READ_ONLY_COMMANDS,
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

/** sockaddr_un holds 108 bytes with the final NUL; libuv silently cuts a longer path. */
const MAX_SOCKET_PATH_BYTES = 107;

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
  /** The inode we linked at `path`, so close() never removes a successor's socket. */
  private ours: { dev: number; ino: number } | null = null;
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

  /**
   * Binds the socket and makes it appear at `path` with its final mode and group.
   *
   * Why a private directory: bind() creates the file with the process umask, and chmod can
   * only follow; in between, a client could connect with rights it should not have. So the
   * socket is bound in a fresh directory made by mkdtemp (mode 0700: nobody else can reach
   * anything in it), given its mode and group there, and only then hard-linked at `path`:
   * the name appears atomically with its final mode. link(), unlike rename(), fails when
   * anything is already at `path`, so a file put there meanwhile is never replaced.
   * Not process.umask(): it is process-wide, so it would also apply to files other code
   * creates on the thread pool at that moment, and worker threads may not change it.
   */
  async listen(): Promise<void> {
    if (this.server) throw new Error(`control socket ${this.path} is already listening`);
    checkLength(this.path, this.path);
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    await removeStaleSocket(this.path);
    const priv = mkdtempSync(join(dir, '.hbd-'));
    const bound = join(priv, 's');
    const server = createServer({ allowHalfOpen: true }, (sock) => this.accept(sock));
    try {
      checkLength(bound, this.path);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(bound, () => {
          server.off('error', reject);
          resolve();
        });
      });
      if (this.gid !== null) chownSync(bound, -1, this.gid);
      chmodSync(bound, this.gid !== null ? 0o660 : 0o600);
      try {
        linkSync(bound, this.path);
      } catch (err) {
        throw new Error(`cannot create control socket ${this.path}: ${(err as Error).message}`);
      }
    } catch (err) {
      await closeServer(server);
      throw err;
    } finally {
      rmSync(priv, { recursive: true, force: true });
    }
    const st = lstatSync(this.path);
    this.ours = { dev: st.dev, ino: st.ino };
    server.on('error', () => undefined);
    this.server = server;
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
    if (this.readOnly && !READ_ONLY_COMMANDS.has(req.cmd)) {
      return {
        ok: false,
        error: { code: 'E_READ_ONLY', message: `${req.cmd} is not allowed on the read-only socket ${this.path}: it needs the control socket (root or --control-group)` },
      };
    }
    try {
      return { ok: true, result: this.handler(req) };
    } catch (err) {
      return { ok: false, error: { code: err instanceof ControlError ? err.code : 'E_NOT_READY', message: err instanceof Error ? err.message : String(err) } };
    }
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    for (const sock of this.sockets) sock.destroy();
    await closeServer(s);
    try {
      const st = lstatSync(this.path);
      if (this.ours && st.dev === this.ours.dev && st.ino === this.ours.ino) unlinkSync(this.path);
    } catch {
      /* already gone */
    }
    this.ours = null;
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

function checkLength(path: string, wanted: string): void {
  const n = Buffer.byteLength(path);
  if (n > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`control socket path ${wanted} is too long for a unix socket (${path} is ${n} bytes, at most ${MAX_SOCKET_PATH_BYTES}): choose a shorter one`);
  }
}

function describe(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  return 'a special file';
}

/**
 * Makes room at `path`: nothing there is fine; a socket nobody listens on (left by a daemon
 * that was killed) is removed; anything else is refused, since it is someone's file or a
 * running daemon's socket.
 */
async function removeStaleSocket(path: string): Promise<void> {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new Error(`cannot check control socket path ${path}: ${(err as Error).message}`);
  }
  if (!st.isSocket()) {
    throw new Error(`control socket path ${path} is ${describe(st)}, not a socket: hbd does not remove it; move it away or choose another path`);
  }
  // Whether anyone listens: a connection is accepted (or the backlog is full) if so.
  const code = await new Promise<string>((resolve) => {
    const probe = connect(path);
    const timer = setTimeout(() => {
      probe.destroy();
      resolve('ETIMEDOUT');
    }, 1000);
    probe.once('connect', () => {
      clearTimeout(timer);
      probe.destroy();
      resolve('CONNECTED');
    });
    probe.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code ?? 'EIO');
    });
  });
  if (code === 'EACCES' || code === 'EPERM') {
    throw new Error(`control socket path ${path} is a socket hbd may not connect to (${code}), so it cannot tell whether it is in use: not removing it`);
  }
  if (code !== 'ECONNREFUSED' && code !== 'ENOENT') {
    throw new Error(`another process is listening on control socket ${path} (is hbd already running?)${code === 'CONNECTED' ? '' : `: ${code}`}`);
  }
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot remove stale control socket ${path}: ${(err as Error).message}`);
  }
}
