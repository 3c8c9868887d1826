// HTTP calls to a cloud API and its metadata service, the way an HA agent needs them: each
// attempt bounded in time, the whole operation bounded by the agent call's deadline, retries
// with exponential backoff on 5xx, timeouts and broken connections, a 429 retried when the
// provider's rate-limit headers say the budget is back, and every other 4xx turned into one
// line that says what to fix. The token goes in the Authorization header and nowhere else: no
// message built here contains it.
import { performance } from 'node:perf_hooks';

/** Why a call failed, in a word (also the metrics' `result` label). */
export type CloudFailure = 'unauthorized' | 'forbidden' | 'not_found' | 'invalid' | 'rate_limited' | 'server_error' | 'timeout' | 'network' | 'bad_answer' | 'action_failed';

export class CloudError extends Error {
  constructor(
    readonly reason: CloudFailure,
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

/** One attempt of one API call, for /metrics. */
export interface ApiCallRecord {
  provider: string;
  /** What was asked, in the provider's words (e.g. `assign`, `get_reserved_ip`, `metadata_id`). */
  operation: string;
  ms: number;
  result: 'ok' | CloudFailure;
}

export interface HttpDeps {
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  /** Wall-clock ms, for rate-limit reset times (epoch seconds in the headers). */
  wallNow: () => number;
}

export const realHttpDeps: HttpDeps = {
  fetch: (...a) => fetch(...a),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  wallNow: () => Date.now(),
};

export interface CloudHttpOptions {
  /** The provider's name in messages and metrics: `digitalocean`, `hetzner`, `aws`. */
  provider: string;
  /** How the provider's API names itself in messages, e.g. "DigitalOcean API". */
  apiName: string;
  callTimeoutMs: number;
  /** performance.now() by which the whole operation must be over (the agent call's timeout). */
  deadline: number;
  /** Bearer token for the API (not for the metadata service). */
  token: string | null;
  /** Where the token came from, to name in a 401/403 message. */
  tokenFile: string | null;
  log: (level: 'warn' | 'debug', message: string) => void;
  observe: (r: ApiCallRecord) => void;
  deps?: HttpDeps;
}

export interface Request {
  operation: string;
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send the bearer token (API calls) or not (metadata service). */
  auth: boolean;
  /** Accepted statuses other than 2xx (e.g. 404 when asking whether something exists). */
  accept?: number[];
}

export interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

/** Attempts of one call at most: the first and four retries. */
const MAX_ATTEMPTS = 5;
const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 4000;
/** A rate-limit wait is never shorter (clock skew, a reset "now"). */
const RATE_WAIT_MIN_MS = 100;

const STATUS_WORDS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 422: 'Unprocessable Entity', 423: 'Locked', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

/** The provider's own words from an error body, on one short line (DigitalOcean's {id,message}, Hetzner's {error:{code,message}}). */
export function errorWords(text: string): string {
  let words = '';
  try {
    const j = JSON.parse(text) as { id?: unknown; message?: unknown; error?: { code?: unknown; message?: unknown } };
    const code = j.error?.code ?? j.id;
    const message = j.error?.message ?? j.message;
    words = [typeof code === 'string' ? code : '', typeof message === 'string' ? message : ''].filter(Boolean).join(': ');
  } catch {
    words = /<Code>([^<]{1,80})<\/Code>/.exec(text)?.[1] ?? '';
  }
  return words.replace(/\s+/g, ' ').slice(0, 200);
}

/**
 * How long a 429 asks us to wait: `Retry-After` (seconds), or the reset time of the
 * `RateLimit-Reset` header both DigitalOcean and Hetzner send (Unix epoch seconds).
 */
export function rateLimitWaitMs(headers: Headers, wallNow: number): { ms: number; from: string } | null {
  const after = headers.get('retry-after');
  if (after !== null && /^\d+(\.\d+)?$/.test(after.trim())) return { ms: Math.max(RATE_WAIT_MIN_MS, Number(after) * 1000), from: `Retry-After: ${after.trim()}` };
  const reset = headers.get('ratelimit-reset');
  if (reset !== null && /^\d+(\.\d+)?$/.test(reset.trim())) {
    const n = Number(reset);
    // Epoch seconds (both providers); a small number would be "seconds from now" (the IETF draft).
    const ms = n > 1e9 ? n * 1000 - wallNow : n * 1000;
    return { ms: Math.max(RATE_WAIT_MIN_MS, Math.ceil(ms)), from: `RateLimit-Reset: ${reset.trim()}` };
  }
  return null;
}

export class CloudHttp {
  private readonly deps: HttpDeps;

  constructor(readonly o: CloudHttpOptions) {
    this.deps = o.deps ?? realHttpDeps;
  }

  /** Milliseconds left before the operation's deadline. */
  remaining(): number {
    return this.o.deadline - performance.now();
  }

  async json<T>(req: Request): Promise<{ status: number; body: T }> {
    const a = await this.call(req);
    if (a.status === 204 || a.text === '') return { status: a.status, body: {} as T };
    try {
      return { status: a.status, body: JSON.parse(a.text) as T };
    } catch {
      throw new CloudError('bad_answer', `${this.o.apiName}: ${this.where(req)} answered ${a.status} with a body that is not JSON`, a.status);
    }
  }

  async text(req: Request): Promise<string> {
    return (await this.call(req)).text;
  }

  private where(req: Request): string {
    return `${req.method} ${new URL(req.url).pathname}`;
  }

  /** One call with its retries; resolves with a 2xx (or accepted) answer, else throws CloudError. */
  async call(req: Request): Promise<Answer> {
    return this.retrying(() => this.attempt(req));
  }

  /**
   * One operation through an SDK (AWS): `run` gets an abort signal for this attempt's time
   * budget; `classify` turns what it threw into a CloudError. Retries, metrics and messages as
   * for plain HTTP calls.
   */
  async sdk<T>(operation: string, run: (signal: AbortSignal) => Promise<T>, classify: (err: unknown, timedOut: boolean, budgetMs: number) => CloudError): Promise<T> {
    return this.retrying<{ value: T }>(async () => {
      const budget = Math.round(Math.min(this.o.callTimeoutMs, Math.max(0, this.remaining())));
      if (budget <= 0) return new CloudError('timeout', `${this.o.apiName}: ${operation}: no time left for the call`);
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), budget);
      const started = performance.now();
      try {
        const r = await run(abort.signal);
        this.o.observe({ provider: this.o.provider, operation, ms: performance.now() - started, result: 'ok' });
        this.o.log('debug', `${this.o.apiName}: ${operation}: ok in ${Math.round(performance.now() - started)} ms`);
        return { value: r };
      } catch (err) {
        const e = classify(err, abort.signal.aborted, budget);
        this.o.observe({ provider: this.o.provider, operation, ms: performance.now() - started, result: e.reason });
        return e;
      } finally {
        clearTimeout(timer);
      }
    }).then((r) => r.value);
  }

  private async retrying<T>(attemptOnce: () => Promise<T | (CloudError & { rateWait?: { ms: number; from: string } | null })>): Promise<T> {
    let last: CloudError | null = null;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const r = await attemptOnce();
      if (!(r instanceof CloudError)) return r;
      last = r;
      const wait = this.retryWait(r, attempt);
      if (wait === null) throw r;
      if (attempt === MAX_ATTEMPTS) break;
      if (wait.ms >= this.remaining() - 50) {
        throw new CloudError(r.reason, `${r.message}; not retried: the wait before the next attempt (${wait.ms} ms${wait.why ? `, ${wait.why}` : ''}) is longer than the ${Math.max(0, Math.round(this.remaining()))} ms left of this call`, r.status);
      }
      this.o.log('warn', `${r.message}; retry ${attempt} of ${MAX_ATTEMPTS - 1} in ${wait.ms} ms${wait.why ? ` (${wait.why})` : ''}`);
      await this.deps.sleep(wait.ms);
    }
    throw new CloudError(last!.reason, `${last!.message} (gave up after ${MAX_ATTEMPTS} attempts)`, last!.status);
  }

  private retryWait(e: CloudError & { rateWait?: { ms: number; from: string } | null }, attempt: number): { ms: number; why: string } | null {
    if (e.reason === 'rate_limited') {
      if (e.rateWait) return { ms: e.rateWait.ms, why: `rate limit: ${e.rateWait.from}` };
      return { ms: this.backoff(attempt), why: 'rate limit, no reset header' };
    }
    if (e.reason === 'server_error' || e.reason === 'timeout' || e.reason === 'network') return { ms: this.backoff(attempt), why: '' };
    // Hetzner's 423 `locked`: another action on the address is still running; it ends by itself.
    if (e.status === 423) return { ms: this.backoff(attempt), why: 'locked by a running action' };
    return null;
  }

  private backoff(attempt: number): number {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (attempt - 1));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  private async attempt(req: Request): Promise<Answer | (CloudError & { rateWait?: { ms: number; from: string } | null })> {
    const budget = Math.round(Math.min(this.o.callTimeoutMs, Math.max(0, this.remaining())));
    const where = this.where(req);
    const name = `${this.o.apiName}: ${where}`;
    if (budget <= 0) return new CloudError('timeout', `${name}: no time left for the call`);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'heartbeat-ts', ...req.headers };
    if (req.auth && this.o.token) headers.authorization = `Bearer ${this.o.token}`;
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    const started = performance.now();
    const done = (result: ApiCallRecord['result']) => this.o.observe({ provider: this.o.provider, operation: req.operation, ms: performance.now() - started, result });
    // A timer of our own, not AbortSignal.timeout(): that one is unref'd, and a call must keep
    // the process alive until it ends.
    const abort = new AbortController();
    const signal = abort.signal;
    const timer = setTimeout(() => abort.abort(), budget);
    try {
      const res = await this.deps.fetch(req.url, { method: req.method, headers, body: req.body === undefined ? undefined : JSON.stringify(req.body), signal, redirect: 'error' });
      const text = await res.text();
      const ms = Math.round(performance.now() - started);
      this.o.log('debug', `${name}: ${res.status} in ${ms} ms`);
      if ((res.status >= 200 && res.status < 300) || req.accept?.includes(res.status)) {
        done('ok');
        return { status: res.status, text, headers: res.headers };
      }
      const e = this.httpError(res.status, text, name) as CloudError & { rateWait?: { ms: number; from: string } | null };
      if (res.status === 429) e.rateWait = rateLimitWaitMs(res.headers, this.deps.wallNow());
      done(e.reason);
      return e;
    } catch (err) {
      const timedOut = signal.aborted;
      const e = timedOut
        ? new CloudError('timeout', `${name}: no answer within ${budget} ms`)
        : new CloudError('network', `${name}: ${(err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message}`);
      done(e.reason);
      return e;
    } finally {
      clearTimeout(timer);
    }
  }

  private httpError(status: number, text: string, name: string): CloudError {
    const words = errorWords(text);
    const head = `${name}: ${status} ${STATUS_WORDS[status] ?? ''}`.trimEnd() + (words ? ` (${words})` : '');
    const file = this.o.tokenFile ? ` in ${this.o.tokenFile}` : '';
    if (status === 401) return new CloudError('unauthorized', `${head} — the token${file} was refused: put a valid API token there`, status);
    if (status === 403) return new CloudError('forbidden', `${head} — the token${file} may not do this: it needs write access`, status);
    if (status === 404) return new CloudError('not_found', `${head} — check the address or id in haresources and that it belongs to this account`, status);
    if (status === 422 || status === 400 || status === 409 || status === 423) return new CloudError('invalid', `${head} — the provider refused the request`, status);
    if (status === 429) return new CloudError('rate_limited', head, status);
    if (status >= 500) return new CloudError('server_error', head, status);
    return new CloudError('bad_answer', head, status);
  }
}
