// hbd's HTTP API: read-only status, Prometheus metrics, server-sent events and the dashboard
// for anyone who can reach the listen address; standby and takeover for bearer-token holders.
//
// Off unless `http_listen ADDR:PORT` (ha.cf) or `--http-listen` says where. Every error is
// JSON `{ "error": { "code": "E_...", "message": "..." } }` with a stable code. A handler that
// throws answers 500 and the daemon goes on: nothing a client sends can take hbd down.
// This module is the server itself, its limits and its routes; the handlers live beside it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
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
import { EventStream } from './http-events.js';
import { HostPolicy } from './http-host.js';
import { AddressSlots, clientAddress } from './http-limits.js';
import { answerAndClose, checkDeclaredLength, HttpError, SECURITY_HEADERS, sendAsset, sendError, sendJson } from './http-reply.js';
import { requestSwitch, type SwitchContext } from './http-switch.js';
import { requestClear } from './http-clear.js';
import { BearerToken } from './http-token.js';

export type { HttpErrorCode } from './http-reply.js';
export { readToken } from './http-token.js';

export interface HttpApiOptions {
  /** `ADDRESS:PORT`; port 0 picks a free port (the log line and `address()` tell which). */
  listen: string;
  /** Bearer token for POST /standby and /takeover; null: those answer 503. */
  tokenFile: string | null;
  view: ClusterView;
  config: ClusterConfig;
  /** Carries out a standby or takeover on this node (Daemon.dispatch). */
  dispatch: (event: { kind: 'standby' | 'takeover'; scope: Scope }) => void;
  /** Carries out `hbctl clear` of these groups (by id) on this node (Daemon.dispatch). */
  clear?: (groups: string[]) => void;
  log: Logger;
  /** Names besides the listen address that Host may carry; default: ha.cf `http_allowed_hosts`. */
  allowedHosts?: readonly string[];
  maxBodyBytes?: number;
  maxEventClients?: number;
  maxEventClientsPerAddress?: number;
  /** Open connections, in all and from one client address. */
  maxConnections?: number;
  maxConnectionsPerAddress?: number;
  /** How long a client has from connecting to the end of its request's headers. */
  headersTimeoutMs?: number;
  /** How often /events repeats the status when nothing happens (it doubles as the stream's heartbeat). */
  eventIntervalMs?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024;
export const DEFAULT_MAX_EVENT_CLIENTS = 32;
/** A person with a few dashboard tabs; a single client cannot take all 32 streams. */
export const DEFAULT_MAX_EVENT_CLIENTS_PER_ADDRESS = 4;
export const DEFAULT_MAX_CONNECTIONS = 256;
/** A browser opens at most 6 connections to a server; room for that, a scraper and a few scripts. */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 16;
/** Clients send their headers in milliseconds; this only has to outlast a slow link. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 5_000;

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
  private readonly intervalMs: number;
  private readonly sockets = new Set<Socket>();
  private readonly connections: AddressSlots;
  /** Connections over their address's cap: answered and closed, their requests ignored. */
  private readonly refused = new WeakSet<Socket>();
  private hosts: HostPolicy | null = null;
  private readonly events: EventStream;
  private readonly token: BearerToken;
  private readonly switchContext: SwitchContext;
  private tickTimer: NodeJS.Timeout | null = null;
  private readonly warnLimiter = new RateLimiter({ windowMs: 60_000 });
  private readonly version: string;
  private appJs: Buffer | null = null;

  constructor(private readonly o: HttpApiOptions) {
    this.maxBody = o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.intervalMs = o.eventIntervalMs ?? 2000;
    this.version = packageVersion();
    this.metrics = new Metrics(o.view, o.config, { version: this.version });
    this.token = new BearerToken(o.tokenFile, o.log);
    this.connections = new AddressSlots(o.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS);
    this.events = new EventStream({
      maxClients: o.maxEventClients ?? DEFAULT_MAX_EVENT_CLIENTS,
      maxClientsPerAddress: o.maxEventClientsPerAddress ?? DEFAULT_MAX_EVENT_CLIENTS_PER_ADDRESS,
      status: () => this.status(),
      onClients: (n) => this.metrics.sseClients.set(n),
    });
    this.switchContext = {
      token: this.token,
      maxBody: this.maxBody,
      log: o.log,
      me: o.view.me,
      dispatch: o.dispatch,
      ...(o.clear ? { clear: o.clear } : {}),
      ready: () => void this.status(),
      onAuthFailure: () => this.metrics.httpAuthFailures.inc(),
      warnOnce: (key, text) => this.warnOnce(key, text),
    };
    o.view.onUpdate((effects) => this.events.noteEffects(effects));
  }

  /** Starts listening; resolves with the bound address. */
  async listen(): Promise<{ host: string; port: number }> {
    const { host, port } = parseListen(this.o.listen);
    await this.token.refresh(true);
    const headersTimeout = this.o.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
    const server = createServer(
      {
        maxHeaderSize: 16 * 1024,
        headersTimeout,
        // Bodies are 16 KiB at most: the whole request gets a few seconds more than its headers.
        requestTimeout: headersTimeout + 5_000,
        // Node checks these timeouts only this often (30 s by default): a connection that
        // sends nothing would hold its slot for up to headersTimeout + 30 s.
        connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 4))),
      },
      (req, res) => this.onRequest(req, res),
    );
    server.keepAliveTimeout = 5_000;
    server.maxHeadersCount = 100;
    server.maxConnections = this.o.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    server.on('connection', (s: Socket) => this.onConnection(s));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket & { _httpMessage?: { headersSent?: boolean } }) => {
      // An answer already under way (a refused upload still sending its body) must not be
      // corrupted by a second one: node's own handler makes the same check.
      if (socket._httpMessage?.headersSent) socket.destroy();
      else if (err.code === 'HPE_HEADER_OVERFLOW') answerAndClose(socket, '431 Request Header Fields Too Large', 'E_HEADERS_TOO_LARGE', 'request headers too large');
      else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') answerAndClose(socket, '408 Request Timeout', 'E_REQUEST_TIMEOUT', `request not received in time: headers are due within ${headersTimeout} ms of connecting, the whole request within ${headersTimeout + 5_000} ms`);
      else answerAndClose(socket, '400 Bad Request', 'E_BAD_REQUEST', 'malformed HTTP request');
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        // Before the first request can arrive: until then route() refuses every Host.
        this.hosts = new HostPolicy({ listenHost: host, boundAddress: this.address().host, allowedHosts: this.o.allowedHosts ?? this.o.config.ha.ext.httpAllowedHosts });
        resolve();
      });
    });
    server.on('error', (err) => this.o.log.error(`HTTP API: ${err.message}`));
    const addr = this.address();
    this.tickTimer = setInterval(() => this.tick(), this.intervalMs);
    this.tickTimer.unref();
    const token = this.token.state;
    const controls = token.ok
      ? `standby/takeover with the bearer token of ${this.o.tokenFile}`
      : `read-only (${token.reason}; POST /standby and /takeover answer 503)`;
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
    this.tickTimer = null;
    this.events.close();
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const sock of this.sockets) sock.destroy();
    await closed;
  }

  // --- requests ---------------------------------------------------------------------------

  private onConnection(s: Socket): void {
    this.sockets.add(s);
    const who = clientAddress(s);
    if (this.connections.take(who)) {
      s.once('close', () => {
        this.sockets.delete(s);
        this.connections.release(who);
      });
      return;
    }
    s.once('close', () => this.sockets.delete(s));
    this.refused.add(s);
    const max = this.connections.perAddress;
    this.warnOnce('connections', `HTTP API: refused a connection from ${who}: it already has ${max} open.`);
    // Closed as soon as the answer is handed to the kernel: lingering refused connections
    // would fill the global cap just as well as accepted ones.
    answerAndClose(s, '503 Service Unavailable', 'E_TOO_MANY_CONNECTIONS', `already ${max} connections from ${who}; close some and retry`, { 'Retry-After': '5' }, 0);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    res.on('error', () => undefined);
    req.on('error', () => undefined);
    if (this.refused.has(req.socket)) {
      req.resume();
      return;
    }
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    this.route(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) return sendError(req, res, err);
      this.warnOnce('internal', `HTTP API: internal error on ${req.method} ${String(req.url).slice(0, 100)}: ${(err as Error)?.stack ?? String(err)}`);
      sendError(req, res, new HttpError(500, 'E_INTERNAL', 'internal error; see the hbd log'));
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = req.headers.host;
    if (!this.hosts?.allows(host)) {
      const shown = JSON.stringify(String(host).slice(0, 100));
      this.warnOnce('host', `HTTP API: refused ${req.method} ${String(req.url).slice(0, 40)} from ${clientAddress(req.socket)} for Host ${shown}, not an address of this server (a DNS-rebinding web page?); if that name is how you reach hbd, add it to http_allowed_hosts in ha.cf.`);
      throw new HttpError(421, 'E_BAD_HOST', `this server does not answer to Host ${shown}; use the address hbd listens on, or list the name in http_allowed_hosts (ha.cf)`);
    }
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://hbd.invalid').pathname;
    } catch {
      throw new HttpError(400, 'E_BAD_REQUEST', 'the request target is not a valid URL path');
    }
    const method = req.method ?? 'GET';
    const routes: Record<string, Record<string, () => Promise<void> | void>> = {
      '/': { GET: () => sendAsset(res, 'text/html; charset=utf-8', INDEX_HTML) },
      '/index.html': { GET: () => sendAsset(res, 'text/html; charset=utf-8', INDEX_HTML) },
      '/dashboard.css': { GET: () => sendAsset(res, 'text/css; charset=utf-8', STYLE_CSS) },
      '/favicon.svg': { GET: () => sendAsset(res, 'image/svg+xml', FAVICON_SVG) },
      '/dashboard.js': { GET: () => sendAsset(res, 'text/javascript; charset=utf-8', this.dashboardJs()) },
      '/status': { GET: () => sendJson(res, 200, this.status()) },
      '/metrics': { GET: () => this.sendMetrics(res) },
      '/events': { GET: () => this.events.open(req, res) },
      '/standby': { POST: () => requestSwitch(req, res, 'standby', this.switchContext) },
      '/takeover': { POST: () => requestSwitch(req, res, 'takeover', this.switchContext) },
      '/clear': { POST: () => requestClear(req, res, this.switchContext, () => this.status()) },
    };
    const r = routes[path];
    if (!r) throw new HttpError(404, 'E_NOT_FOUND', `no such endpoint: ${path.slice(0, 100)}; try GET /status, /metrics, /events, / or POST /standby, /takeover, /clear`);
    const allowed = Object.keys(r);
    if (allowed.includes('GET') && path !== '/events') allowed.push('HEAD');
    const handler = r[method === 'HEAD' && allowed.includes('HEAD') ? 'GET' : method];
    if (!handler) throw new HttpError(405, 'E_METHOD_NOT_ALLOWED', `${method.slice(0, 20)} is not allowed on ${path}; use ${allowed.join(' or ')}`, { Allow: allowed.join(', ') });
    // A GET has no use for a body: refuse a large one rather than read it.
    if (method !== 'POST') {
      checkDeclaredLength(req, this.maxBody);
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
    return { ...s, api: { controls: this.token.state.ok, version: this.version, generatedAt: new Date().toISOString() } };
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

  private tick(): void {
    try {
      this.events.push();
      if (this.o.tokenFile) void this.token.refresh(false).catch(() => undefined);
    } catch (err) {
      this.warnOnce('tick', `HTTP API: ${(err as Error).message}`);
    }
  }

  private warnOnce(key: string, text: string): void {
    const r = this.warnLimiter.check(key, performance.now());
    if (r.allowed) this.o.log.warn(r.suppressed > 0 ? `${text} (${r.suppressed} similar messages suppressed)` : text);
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
