// The cloud agents' HTTP layer on its own, with a scripted fetch and a recorded sleep: which
// answers are retried and after how long, which end the call at once, and what the messages say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { CloudError, CloudHttp, rateLimitWaitMs, type ApiCallRecord, type HttpDeps } from '../../src/agents/cloud/http.js';

const TOKEN = 'secret-token-0123456789';

function scripted(answers: (Response | 'hang' | Error)[], wallNow = 1_700_000_000_000) {
  const sleeps: number[] = [];
  const seen: { url: string; auth: string | null }[] = [];
  const deps: HttpDeps = {
    fetch: async (url, init) => {
      seen.push({ url: String(url), auth: new Headers(init?.headers).get('authorization') });
      const next = answers.shift();
      if (!next) throw new Error('no more scripted answers');
      if (next === 'hang') {
        return new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
      }
      if (next instanceof Error) throw next;
      return next;
    },
    sleep: async (ms) => void sleeps.push(ms),
    wallNow: () => wallNow,
  };
  return { deps, sleeps, seen };
}

function client(deps: HttpDeps, opts: { callTimeoutMs?: number; budgetMs?: number } = {}) {
  const logs: string[] = [];
  const calls: ApiCallRecord[] = [];
  const http = new CloudHttp({
    provider: 'digitalocean',
    apiName: 'DigitalOcean API',
    callTimeoutMs: opts.callTimeoutMs ?? 1000,
    deadline: performance.now() + (opts.budgetMs ?? 60_000),
    token: TOKEN,
    tokenFile: '/etc/ha.d/digitalocean.token',
    log: (l, m) => void (l === 'warn' && logs.push(m)),
    observe: (r) => void calls.push(r),
    deps,
  });
  return { http, logs, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const req = { operation: 'get_reserved_ip', method: 'GET' as const, url: 'http://api.test/v2/reserved_ips/45.55.96.8', auth: true };

test('500 twice then 200: retried with growing backoff, each retry logged, the token sent only as a bearer header', async () => {
  const s = scripted([json(500, { id: 'server_error', message: 'Server Error' }), json(500, { id: 'server_error', message: 'Server Error' }), json(200, { reserved_ip: { ip: '45.55.96.8' } })]);
  const c = client(s.deps);
  const r = await c.http.json<{ reserved_ip: { ip: string } }>(req);
  assert.equal(r.body.reserved_ip.ip, '45.55.96.8');
  assert.equal(s.sleeps.length, 2);
  assert.ok(s.sleeps[0]! >= 200 && s.sleeps[0]! <= 300 && s.sleeps[1]! >= 400 && s.sleeps[1]! <= 600, `backoff ${s.sleeps.join(', ')}`);
  assert.match(c.logs[0]!, /DigitalOcean API: GET \/v2\/reserved_ips\/45\.55\.96\.8: 500 Internal Server Error \(server_error: Server Error\); retry 1 of 4 in \d+ ms/);
  assert.deepEqual(s.seen.map((x) => x.auth), Array(3).fill(`Bearer ${TOKEN}`));
  assert.deepEqual(c.calls.map((x) => x.result), ['server_error', 'server_error', 'ok']);
  assert.ok(!c.logs.join('\n').includes(TOKEN));
});

test('429 with RateLimit-Reset: waits until the reset time the header gives, then succeeds', async () => {
  const now = 1_700_000_000_000;
  const s = scripted([json(429, { id: 'too_many_requests', message: 'API Rate limit exceeded.' }, { 'ratelimit-limit': '5000', 'ratelimit-remaining': '0', 'ratelimit-reset': String(now / 1000 + 3) }), json(200, {})], now);
  const c = client(s.deps);
  await c.http.json(req);
  assert.deepEqual(s.sleeps, [3000]);
  assert.match(c.logs[0]!, /429 Too Many Requests \(too_many_requests: API Rate limit exceeded\.\); retry 1 of 4 in 3000 ms \(rate limit: RateLimit-Reset: 1700000003\)/);
  assert.equal(rateLimitWaitMs(new Headers({ 'retry-after': '2' }), now)?.ms, 2000);
});

test('a 429 whose reset is beyond the call budget fails at once instead of sleeping past the deadline', async () => {
  const now = 1_700_000_000_000;
  const s = scripted([json(429, { id: 'too_many_requests', message: 'API Rate limit exceeded.' }, { 'ratelimit-reset': String(now / 1000 + 120) })], now);
  const c = client(s.deps, { budgetMs: 5000 });
  await assert.rejects(c.http.json(req), (e: CloudError) => e.reason === 'rate_limited' && /not retried: the wait before the next attempt \(120000 ms, rate limit: RateLimit-Reset: \d+\) is longer than the \d+ ms left/.test(e.message));
  assert.deepEqual(s.sleeps, []);
});

test('401, 403, 404 and 422 end the call at once with one line that says what to fix', async () => {
  const cases: [number, unknown, RegExp][] = [
    [401, { id: 'Unauthorized', message: 'Unable to authenticate you' }, /^DigitalOcean API: GET \/v2\/reserved_ips\/45\.55\.96\.8: 401 Unauthorized \(Unauthorized: Unable to authenticate you\) — the token in \/etc\/ha\.d\/digitalocean\.token was refused/],
    [403, { id: 'forbidden', message: 'You do not have access for the attempted action.' }, /403 Forbidden .* needs write access/],
    [404, { id: 'not_found', message: 'The resource you were accessing could not be found.' }, /404 Not Found .* check the address or id in haresources/],
    [422, { id: 'unprocessable_entity', message: 'Droplet already has a pending event.' }, /422 Unprocessable Entity \(unprocessable_entity: Droplet already has a pending event\.\) — the provider refused/],
  ];
  for (const [status, body, re] of cases) {
    const s = scripted([json(status, body)]);
    const c = client(s.deps);
    await assert.rejects(c.http.json(req), (e: CloudError) => {
      assert.match(e.message, re);
      assert.ok(!e.message.includes('\n') && !e.message.includes(TOKEN));
      return true;
    });
    assert.deepEqual(s.sleeps, [], `${status} must not be retried`);
  }
});

test('a hung API times out per attempt, is retried, and the whole call ends within its budget', async () => {
  const s = scripted(['hang', 'hang', 'hang', 'hang', 'hang']);
  const c = client({ ...s.deps, sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))) }, { callTimeoutMs: 150, budgetMs: 700 });
  const t0 = performance.now();
  await assert.rejects(c.http.json(req), (e: CloudError) => e.reason === 'timeout');
  const took = performance.now() - t0;
  assert.ok(took < 1000, `took ${took} ms`);
  assert.ok(c.calls.length >= 2 && c.calls.every((x) => x.result === 'timeout'), JSON.stringify(c.calls));
});

test('a connection refused is retried as a network error', async () => {
  const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
  const s = scripted([refused, json(200, {})]);
  const c = client(s.deps);
  await c.http.json(req);
  assert.match(c.logs[0]!, /GET \/v2\/reserved_ips\/45\.55\.96\.8: ECONNREFUSED; retry 1 of 4/);
});
