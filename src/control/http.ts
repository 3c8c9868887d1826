// hbd's HTTP API: read-only status, Prometheus metrics, server-sent events and the dashboard
// for anyone who can reach the listen address; standby and takeover for bearer-token holders.
//
// Off unless `http_listen ADDR:PORT` (ha.cf) or `--http-listen` says where. Every error is
// JSON `{ "error": { "code": "E_...", "message": "..." } }` with a stable code. A handler that
// throws answers 500 and the daemon goes on: nothing a client sends can take hbd down.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createHash, timingSafeEqual } from 'node:crypto';
import { open } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { ClusterConfig } from '../config/types.js';
import type { Scope } from '../core/node.js';
import type { Logger } from '../lib/logger.js';
import { RateLimiter } from '../lib/ratelimit.js';
import type { ClusterView } from '../status/cluster-view.js';
import type { StatusSnapshot } from '../status/snapshot.js';
import { Metrics } from './metrics.js';
import { FAVICON_SVG, INDEX_HTML, STYLE_CSS } from './dashboard/page.js';

export type HttpErrorCode =
  | 'E_BAD_REQUEST'
  | 'E_BAD_JSON'
  | 'E_AUTH_REQUIRED'
  | 'E_BAD_TOKEN'
  | 'E_NOT_FOUND'
  | 'E_METHOD_NOT_ALLOWED'
  | 'E_TOO_LARGE'
  | 'E_UNSUPPORTED_MEDIA_TYPE'
  | 'E_HEADERS_TOO_LARGE'
  | 'E_CONTROLS_DISABLED'
  | 'E_TOO_MANY_CLIENTS'
  | 'E_NOT_READY'
  | 'E_INTERNAL';

export interface HttpApiOptions {
  /** `ADDRESS:PORT`; port 0 picks a free port (the log line and `address()` tell which). */
  listen: string;
  /** Bearer token for POST /standby and /takeover; null: those answer 503. */
  tokenFile: string | null;
  view: ClusterView;
  config: ClusterConfig;
  /** Carries out a standby or takeover on this node (Daemon.dispatch). */
  dispatch: (event: { kind: 'standby' | 'takeover'; scope: Scope }) => void;
  log: Logger;
  maxBodyBytes?: number;
  maxEventClients?: number;
  /** How often /events repeats the status when nothing happens (it doubles as the stream's heartbeat). */
  eventIntervalMs?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024;
export const DEFAULT_MAX_EVENT_CLIENTS = 32;
const TOKEN_MIN = 16;
const TOKEN_MAX = 4096;
const SCOPES = new Set<string>(['all', 'local', 'foreign']);
/** Effects worth pushing to dashboards at once; heartbeats alone wait for the periodic push. */
const PUSH_ON = new Set(['node-status', 'link-status', 'transition', 'group-phase', 'drift', 'settled', 'node-restarted']);

type TokenState = { ok: true; digest: Buffer } | { ok: false; reason: string };

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || !(port >= 0 && port <= 65535)) throw new Error(`HTTP listen address "${text}" must be ADDRESS:PORT, e.g. 127.0.0.1:8694`);
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port };
}

export class HttpApi {
  private server: Server | null = null;
  readonly metrics: Metrics;
  private readonly maxBody: number;
  private readonly maxClients: number;
  private readonly intervalMs: number;
  private readonly clients = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private pushTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private tokenState: TokenState = { ok: false, reason: 'no http_token_file configured' };
  private tokenCheckedAt = -Infinity;
  private readonly warnLimiter = new RateLimiter({ windowMs: 60_000 });
  private readonly version: string;
  private appJs: Buffer | null = null;

  constructor(private readonly o: HttpApiOptions) {
    this.maxBody = o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.maxClients = o.maxEventClients ?? DEFAULT_MAX_EVENT_CLIENTS;
    this.intervalMs = o.eventIntervalMs ?? 2000;
    this.version = packageVersion();
    this.metrics = new Metrics(o.view, o.config, { version: this.version });
    o.view.onUpdate((effects) => {
      if (this.clients.size > 0 && effects.some((e) => PUSH_ON.has(e.kind))) this.schedulePush();
    });
  }

  /** Starts listening; resolves with the bound address. */
  async listen(): Promise<{ host: string; port: number }> {
    const { host, port } = parseListen(this.o.listen);
    await this.refreshToken(true);
    const server = createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => this.onRequest(req, res));
    server.headersTimeout = 10_000;
    server.requestTimeout = 15_000;
    server.keepAliveTimeout = 5_000;
    server.maxHeadersCount = 100;
    server.maxConnections = 256;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      if (!socket.writable) return socket.destroy();
      const tooBig = err.code === 'HPE_HEADER_OVERFLOW';
      const body = errorBody(tooBig ? 'E_HEADERS_TOO_LARGE' : 'E_BAD_REQUEST', tooBig ? 'request headers too large' : 'malformed HTTP request');
      socket.end(`HTTP/1.1 ${tooBig ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.o.log.error(`HTTP API: ${err.message}`));
    const addr = this.address();
    this.tickTimer = setInterval(() => this.tick(), this.intervalMs);
    this.tickTimer.unref();
    const controls = this.tokenState.ok
      ? `standby/takeover with the bearer token of ${this.o.tokenFile}`
      : `read-only (${this.tokenState.reason}; POST /standby and /takeover answer 503)`;
    this.o.log.info(`HTTP API listening on http://${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}/ (status, metrics, dashboard); ${controls}.`);
    return addr;
  }

  address(): { host: string; port: number } {
    const a = this.server?.address();
    if (!a || typeof a === 'string') throw new Error('HTTP API not listening');
    return { host: a.address, port: a.port };
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.pushTimer) clearTimeout(this.pushTimer);
    this.tickTimer = this.pushTimer = null;
    for (const c of this.clients) c.end();
    this.clients.clear();
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const sock of this.sockets) sock.destroy();
    await closed;
  }

  // --- requests ---------------------------------------------------------------------------

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    res.on('error', () => undefined);
    req.on('error', () => undefined);
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    this.route(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) return this.sendError(req, res, err);
      this.warnOnce('internal', `HTTP API: internal error on ${req.method} ${String(req.url).slice(0, 100)}: ${(err as Error)?.stack ?? String(err)}`);
      this.sendError(req, res, new HttpError(500, 'E_INTERNAL', 'internal error; see the hbd log'));
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://hbd.invalid').pathname;
    } catch {
      throw new HttpError(400, 'E_BAD_REQUEST', 'the request target is not a valid URL path');
    }
    const method = req.method ?? 'GET';
    const routes: Record<string, Record<string, () => Promise<void> | void>> = {
      '/': { GET: () => this.sendAsset(res, 'text/html; charset=utf-8', INDEX_HTML) },
      '/index.html': { GET: () => this.sendAsset(res, 'text/html; charset=utf-8', INDEX_HTML) },
      '/dashboard.css': { GET: () => this.sendAsset(res, 'text/css; charset=utf-8', STYLE_CSS) },
      '/favicon.svg': { GET: () => this.sendAsset(res, 'image/svg+xml', FAVICON_SVG) },
      '/dashboard.js': { GET: () => this.sendAsset(res, 'text/javascript; charset=utf-8', this.dashboardJs()) },
      '/status': { GET: () => this.sendJson(res, 200, this.status()) },
      '/metrics': { GET: () => this.sendMetrics(res) },
      '/events': { GET: () => this.openEvents(req, res) },
      '/standby': { POST: () => this.mutate(req, res, 'standby') },
      '/takeover': { POST: () => this.mutate(req, res, 'takeover') },
    };
    const r = routes[path];
    if (!r) throw new HttpError(404, 'E_NOT_FOUND', `no such endpoint: ${path.slice(0, 100)}; try GET /status, /metrics, /events, / or POST /standby, /takeover`);
    const allowed = Object.keys(r);
    if (allowed.includes('GET') && path !== '/events') allowed.push('HEAD');
    const handler = r[method === 'HEAD' && allowed.includes('HEAD') ? 'GET' : method];
    if (!handler) throw new HttpError(405, 'E_METHOD_NOT_ALLOWED', `${method.slice(0, 20)} is not allowed on ${path}; use ${allowed.join(' or ')}`, { Allow: allowed.join(', ') });
    // A GET has no use for a body: refuse a large one rather than read it.
    if (method !== 'POST') {
      this.checkDeclaredLength(req);
      req.resume();
    }
    await handler();
  }

  private status(): StatusSnapshot & { api: { controls: boolean; version: string; generatedAt: string } } {
    let s: StatusSnapshot;
    try {
      s = this.o.view.snapshot(performance.now());
    } catch {
      throw new HttpError(503, 'E_NOT_READY', 'hbd is still starting; try again in a moment', { 'Retry-After': '1' });
    }
    return { ...s, api: { controls: this.tokenState.ok, version: this.version, generatedAt: new Date().toISOString() } };
  }

  private async sendMetrics(res: ServerResponse): Promise<void> {
    const m = await this.metrics.render();
    res.writeHead(200, { 'Content-Type': m.contentType });
    res.end(m.body);
  }

  private dashboardJs(): Buffer {
    if (this.appJs) return this.appJs;
    // The dashboard's script is compiled by tsc next to this module (dist/src/control/dashboard/app.js).
    const here = dirname(fileURLToPath(import.meta.url));
    const file = join(here, 'dashboard', 'app.js');
    if (!existsSync(file)) throw new HttpError(503, 'E_NOT_READY', 'the dashboard script is not built: run npm run build');
    this.appJs = readFileSync(file);
    return this.appJs;
  }

  private sendAsset(res: ServerResponse, type: string, body: string | Buffer): void {
    res.writeHead(200, { 'Content-Type': type, 'Content-Security-Policy': CSP, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  private sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = `${JSON.stringify(value)}\n`;
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers });
    res.end(body);
  }

  private sendError(req: IncomingMessage, res: ServerResponse, e: HttpError): void {
    const headers = { ...e.headers };
    // A client still sending a body we will not read gets its connection closed after the answer.
    if (!req.complete) headers.Connection = 'close';
    this.sendJson(res, e.status, JSON.parse(errorBody(e.code, e.message)), headers);
    if (!req.complete) {
      req.resume();
      res.once('finish', () => setTimeout(() => req.socket.destroy(), 1000).unref());
    }
  }

  // --- standby / takeover -----------------------------------------------------------------

  private async mutate(req: IncomingMessage, res: ServerResponse, kind: 'standby' | 'takeover'): Promise<void> {
    await this.refreshToken(false);
    const ts = this.tokenState;
    if (!ts.ok) throw new HttpError(503, 'E_CONTROLS_DISABLED', `standby and takeover are disabled on this node: ${ts.reason}`);
    this.authorize(req, ts.digest);
    const type = String(req.headers['content-type'] ?? '');
    this.checkDeclaredLength(req);
    const body = await this.readBody(req);
    let scope: Scope = 'all';
    if (body.length > 0) {
      if (!/^application\/json\s*(;.*)?$/i.test(type)) throw new HttpError(415, 'E_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json, e.g. {"scope":"all"}, or send no body');
      let raw: unknown;
      try {
        raw = JSON.parse(body.toString('utf8'));
      } catch {
        throw new HttpError(400, 'E_BAD_JSON', 'the request body is not valid JSON');
      }
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new HttpError(400, 'E_BAD_REQUEST', 'the body must be a JSON object such as {"scope":"all"}');
      const extra = Object.keys(raw).filter((k) => k !== 'scope');
      if (extra.length) throw new HttpError(400, 'E_BAD_REQUEST', `unknown field ${JSON.stringify(extra[0]!.slice(0, 40))}; the only field is "scope"`);
      const s = (raw as { scope?: unknown }).scope ?? 'all';
      if (typeof s !== 'string' || !SCOPES.has(s)) throw new HttpError(400, 'E_BAD_REQUEST', `scope must be "all", "local" or "foreign" (got ${JSON.stringify(s)?.slice(0, 40)})`);
      scope = s as Scope;
    }
    this.status(); // 503 while starting
    this.o.log.info(`HTTP API: ${kind} (scope ${scope}) requested by ${req.socket.remoteAddress ?? '?'}.`);
    this.o.dispatch({ kind, scope });
    this.sendJson(res, 202, { accepted: true, action: kind, scope, node: this.o.view.me });
  }

  private authorize(req: IncomingMessage, expected: Buffer): void {
    const header = req.headers.authorization;
    const who = req.socket.remoteAddress ?? '?';
    if (!header) {
      this.metrics.httpAuthFailures.inc();
      throw new HttpError(401, 'E_AUTH_REQUIRED', 'send the token of http_token_file as "Authorization: Bearer TOKEN"', { 'WWW-Authenticate': 'Bearer realm="hbd"' });
    }
    const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
    const given = createHash('sha256').update(m?.[1] ?? '').digest();
    // Both sides hashed to 32 bytes first: the comparison time says nothing about the token.
    if (!m || !timingSafeEqual(given, expected)) {
      this.metrics.httpAuthFailures.inc();
      this.warnOnce(`auth:${who}`, `HTTP API: refused ${req.method} ${req.url?.slice(0, 40)} from ${who}: wrong bearer token.`);
      throw new HttpError(401, 'E_BAD_TOKEN', 'the bearer token is not valid', { 'WWW-Authenticate': 'Bearer realm="hbd", error="invalid_token"' });
    }
  }

  private checkDeclaredLength(req: IncomingMessage): void {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.maxBody) throw new HttpError(413, 'E_TOO_LARGE', `request body over ${this.maxBody} bytes`);
  }

  private readBody(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let done = false;
      const fail = (e: HttpError) => {
        if (done) return;
        done = true;
        reject(e);
      };
      req.on('data', (chunk: Buffer) => {
        if (done) return;
        size += chunk.length;
        if (size > this.maxBody) return fail(new HttpError(413, 'E_TOO_LARGE', `request body over ${this.maxBody} bytes`));
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (done) return;
        done = true;
        resolve(Buffer.concat(chunks));
      });
      req.on('aborted', () => fail(new HttpError(400, 'E_BAD_REQUEST', 'request aborted')));
      req.on('error', () => fail(new HttpError(400, 'E_BAD_REQUEST', 'request aborted')));
    });
  }

  /** Re-reads the token file (at most once a second): a chmod or a new token applies without a restart. */
  private async refreshToken(force: boolean): Promise<void> {
    const now = performance.now();
    if (!force && now - this.tokenCheckedAt < 1000) return;
    this.tokenCheckedAt = now;
    const before = this.tokenState;
    this.tokenState = this.o.tokenFile ? await readToken(this.o.tokenFile) : { ok: false, reason: 'no http_token_file configured' };
    const after = this.tokenState;
    if (force) {
      if (!after.ok && this.o.tokenFile) this.o.log.error(`HTTP API: standby and takeover disabled: ${after.reason}.`);
    } else if (before.ok !== after.ok || (!before.ok && !after.ok && before.reason !== after.reason)) {
      if (after.ok) this.o.log.info(`HTTP API: token file ${this.o.tokenFile} is usable again: standby and takeover enabled.`);
      else this.o.log.error(`HTTP API: standby and takeover disabled: ${after.reason}.`);
    }
  }

  // --- server-sent events -----------------------------------------------------------------

  private openEvents(req: IncomingMessage, res: ServerResponse): void {
    if (this.clients.size >= this.maxClients) {
      throw new HttpError(503, 'E_TOO_MANY_CLIENTS', `already ${this.maxClients} clients on /events; poll GET /status instead`, { 'Retry-After': '10' });
    }
    const first = JSON.stringify(this.status());
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    req.socket.setNoDelay(true);
    req.socket.setTimeout(0);
    res.write(`retry: 2000\n\nevent: status\ndata: ${first}\n\n`);
    this.clients.add(res);
    this.metrics.sseClients.set(this.clients.size);
    const drop = () => {
      this.clients.delete(res);
      this.metrics.sseClients.set(this.clients.size);
    };
    // (Not req's 'close': for a GET that fires as soon as the request has been read.)
    res.on('close', drop);
  }

  private schedulePush(): void {
    if (this.pushTimer) return;
    // Coalesce the effects of one burst (a death, then a takeover) into one message.
    this.pushTimer = setTimeout(() => {
      this.pushTimer = null;
      this.push();
    }, 30);
    this.pushTimer.unref();
  }

  private push(): void {
    if (this.clients.size === 0) return;
    let data: string;
    try {
      data = `event: status\ndata: ${JSON.stringify(this.status())}\n\n`;
    } catch {
      data = ': starting\n\n';
    }
    for (const c of this.clients) {
      // A dashboard that stopped reading must not make us buffer without bound.
      if (c.writableLength > 1024 * 1024) {
        c.destroy();
        this.clients.delete(c);
        continue;
      }
      c.write(data);
    }
  }

  private tick(): void {
    try {
      this.push();
      if (this.o.tokenFile) void this.refreshToken(false).catch(() => undefined);
    } catch (err) {
      this.warnOnce('tick', `HTTP API: ${(err as Error).message}`);
    }
  }

  private warnOnce(key: string, text: string): void {
    const r = this.warnLimiter.check(key, performance.now());
    if (r.allowed) this.o.log.warn(r.suppressed > 0 ? `${text} (${r.suppressed} similar messages suppressed)` : text);
  }
}

function errorBody(code: HttpErrorCode, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/**
 * The token file must be a regular file no one but its owner can read or write (mode 0600 or
 * stricter), owned by root or by the user hbd runs as, holding one token of 16+ printable
 * characters. Anything else disables the mutating endpoints: a world-readable token is no secret.
 */
export async function readToken(path: string): Promise<TokenState> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, reason: `token file ${path} cannot be read (${code === 'ENOENT' ? 'it does not exist' : code ?? (err as Error).message}): create it with one random token, chmod 600` };
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { ok: false, reason: `token file ${path} is not a regular file` };
    const mode = st.mode & 0o777;
    if (mode & 0o077) {
      return { ok: false, reason: `token file ${path} has mode ${mode.toString(8).padStart(4, '0')}: others can read or change it; run chmod 600 ${path}` };
    }
    const me = typeof process.getuid === 'function' ? process.getuid() : 0;
    if (st.uid !== 0 && st.uid !== me) return { ok: false, reason: `token file ${path} is owned by uid ${st.uid}, not by root or the hbd user (uid ${me}); chown it` };
    if (st.size > TOKEN_MAX) return { ok: false, reason: `token file ${path} is over ${TOKEN_MAX} bytes; it must hold one token` };
    const text = (await fh.readFile({ encoding: 'utf8' })).trim();
    if (!/^[\x21-\x7e]+$/.test(text)) return { ok: false, reason: `token file ${path} must hold one token of printable characters without spaces` };
    if (text.length < TOKEN_MIN) return { ok: false, reason: `the token in ${path} is shorter than ${TOKEN_MIN} characters; use e.g. openssl rand -hex 32` };
    return { ok: true, digest: createHash('sha256').update(text).digest() };
  } catch (err) {
    return { ok: false, reason: `token file ${path}: ${(err as Error).message}` };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      try {
        const v = (JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string });
        if (v.name === 'heartbeat-ts' && v.version) return v.version;
      } catch {
        /* keep looking */
      }
    }
    dir = dirname(dir);
  }
  return 'unknown';
}
