// What the DigitalOcean and Hetzner emulators share: two HTTP servers (the API and the metadata
// service, each on the address it is given), bearer-token checks, rate-limit headers on every
// API answer, the fault plan, machines recognised by the source address of their metadata
// requests (as a real metadata service knows which VM asks), and a report of every request and
// assignment to whoever runs the emulator. A report never carries the token.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultPlan, type Fault } from './faults.js';

/** A droplet or server: its id at the provider, its name and its address on the LAN. */
export interface Machine {
  id: string;
  name: string;
  address: string;
}

export interface RequestReport {
  service: 'api' | 'metadata';
  method: string;
  path: string;
  /** What was asked, where the path does not say it (EC2's Query API: the Action). */
  operation?: string;
  status: number | 'hung';
  /** Whether the request carried the token the emulator accepts (never the token itself). */
  authorized: boolean;
  from: string;
}

export interface EmulatorHooks {
  request?: (r: RequestReport) => void;
  /** An assignment took effect: `ip` now points at `machine` (null: at nothing). */
  assigned?: (ip: string, machine: Machine | null) => void;
}

export interface ApiAnswer {
  status: number;
  body?: unknown;
  text?: string;
  /** For `text`: its media type (default text/plain). */
  contentType?: string;
}

/** What an API or metadata handler may look at besides the path. */
export interface Asked {
  method: string;
  headers: IncomingMessage['headers'];
  /** The request body as sent (API requests). */
  raw: string;
}

export interface Listen {
  host: string;
  port: number;
}

const MAX_BODY = 64 * 1024;

export abstract class EmulatedCloud {
  readonly faults = new FaultPlan();
  /** The bearer token the API accepts; the tests change it to play a revoked token. */
  token: string;
  private readonly servers: Server[] = [];
  private readonly hung = new Set<ServerResponse>();
  protected remaining: number;

  constructor(
    token: string,
    readonly machines: Machine[],
    protected readonly hooks: EmulatorHooks,
    /** Requests per rate-limit window, as the provider advertises it. */
    protected readonly limit: number,
  ) {
    this.token = token;
    this.remaining = limit;
  }

  /** The API: method, path with query, JSON body (undefined when none or not JSON). */
  protected abstract api(method: string, url: URL, body: unknown, asked: Asked): ApiAnswer | Promise<ApiAnswer>;
  /** The metadata service, for the machine at the request's source address (null: unknown). */
  protected abstract metadata(path: string, machine: Machine | null, asked: Asked): ApiAnswer;

  /** An error answer in the provider's form (JSON by default; AWS's is XML). */
  protected errorAnswer(status: number, code: string, message: string): ApiAnswer {
    return { status, body: this.error(status, code, message) };
  }

  /**
   * Why the API refuses a request's credentials, in the provider's words (code, message); null
   * when it accepts them. A bearer token by default; AWS checks the request's signature.
   */
  protected async refusal(req: IncomingMessage, _raw: string): Promise<[string, string] | null> {
    return req.headers.authorization === `Bearer ${this.token}` ? null : this.words.unauthorized;
  }
  /** The provider's error body. */
  protected abstract error(status: number, code: string, message: string): unknown;
  /** Error code words for 401, 429 and 5xx in the provider's vocabulary. */
  protected abstract readonly words: { unauthorized: [string, string]; rateLimited: [string, string]; serverError: [string, string] };
  /** Rate-limit headers of an answer; `resetAtS` is the reset time (Unix seconds). */
  protected abstract rateHeaders(remaining: number, resetAtS: number): Record<string, string>;

  fault(f: Fault): void {
    this.faults.add(f);
  }

  machineAt(address: string): Machine | null {
    return this.machines.find((m) => m.address === address.replace(/^::ffff:/, '')) ?? null;
  }

  machineById(id: string): Machine | null {
    return this.machines.find((m) => m.id === id) ?? null;
  }

  /** Starts the API and the metadata service; resolves with the ports they listen on. */
  async listen(api: Listen, metadata: Listen): Promise<{ api: number; metadata: number }> {
    const a = await this.serve(api, (req, res) => void this.onApi(req, res));
    const m = await this.serve(metadata, (req, res) => this.onMetadata(req, res));
    return { api: a, metadata: m };
  }

  private serve(at: Listen, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
    const server = createServer(handler);
    server.keepAliveTimeout = 1000;
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(at.port, at.host, () => resolve((server.address() as AddressInfo).port));
    });
  }

  async close(): Promise<void> {
    for (const res of this.hung) res.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); })));
  }

  private onMetadata(req: IncomingMessage, res: ServerResponse): void {
    const a = this.metadata(new URL(req.url ?? '/', 'http://metadata').pathname, this.machineAt(req.socket.remoteAddress ?? ''), { method: req.method ?? 'GET', headers: req.headers, raw: '' });
    this.report('metadata', req, a.status, false);
    this.send(res, a, {});
  }

  private async onApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) {
      raw += String(chunk);
      if (raw.length > MAX_BODY) return void res.destroy();
    }
    const refused = await this.refusal(req, raw);
    const authorized = refused === null;
    const now = Date.now();
    const verdict = this.faults.next(now);
    if (verdict.kind === 'hang') {
      // Never answered: the client's own timeout must end it. close() drops the connection.
      this.hung.add(res);
      res.once('close', () => this.hung.delete(res));
      this.report('api', req, 'hung', authorized, this.operationOf(raw));
      return;
    }
    if (verdict.delayMs > 0) await new Promise((r) => setTimeout(r, verdict.delayMs));
    const windowReset = Math.ceil(now / 1000) + 60;
    let answer: ApiAnswer;
    let headers: Record<string, string>;
    if (verdict.kind === 'rate-limit') {
      const [code, message] = this.words.rateLimited;
      answer = this.errorAnswer(429, code, message);
      headers = this.rateHeaders(0, verdict.resetAtS);
    } else {
      if (verdict.kind === 'status') {
        const [code, message] = verdict.status >= 500 ? this.words.serverError : ['error', 'injected'];
        answer = this.errorAnswer(verdict.status, code, message);
      } else if (refused) {
        answer = this.errorAnswer(401, ...refused);
      } else {
        let body: unknown;
        try {
          body = raw ? JSON.parse(raw) : undefined;
        } catch {
          body = undefined;
        }
        answer = await this.api(req.method ?? 'GET', new URL(req.url ?? '/', 'http://api'), body, { method: req.method ?? 'GET', headers: req.headers, raw });
      }
      this.remaining = Math.max(0, this.remaining - 1);
      headers = this.rateHeaders(this.remaining, windowReset);
    }
    this.report('api', req, answer.status, authorized, this.operationOf(raw));
    this.send(res, answer, headers);
  }

  /** The operation a request body names, for APIs whose paths do not (none by default). */
  protected operationOf(_raw: string): string | undefined {
    return undefined;
  }

  private report(service: RequestReport['service'], req: IncomingMessage, status: number | 'hung', authorized: boolean, operation?: string): void {
    this.hooks.request?.({ service, ...(operation ? { operation } : {}), method: req.method ?? '', path: (req.url ?? '').split('?')[0] ?? '', status, authorized, from: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '') });
  }

  private send(res: ServerResponse, a: ApiAnswer, headers: Record<string, string>): void {
    if (a.text !== undefined) {
      res.writeHead(a.status, { 'content-type': a.contentType ?? 'text/plain; charset=utf-8', ...headers });
      res.end(a.text);
      return;
    }
    res.writeHead(a.status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(a.body === undefined ? '' : JSON.stringify(a.body));
  }
}

/** ISO 8601 without milliseconds, as both providers print times. */
export const isoNow = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
