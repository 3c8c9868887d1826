// The HTTP API of real hbd daemons: every endpoint, and every way a client can get it wrong.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { sleep } from '../../src/lib/wait.js';
import { HttpCluster, TOKEN } from './cluster.js';

const auth = { Authorization: `Bearer ${TOKEN}` };
const json = { 'Content-Type': 'application/json' };

function assertError(r: { status: number; json: any; headers: Record<string, unknown> }, status: number, code: string): void {
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.match(String(r.headers['content-type']), /^application\/json/);
  assert.equal(r.json?.error?.code, code, JSON.stringify(r.json));
  assert.equal(typeof r.json.error.message, 'string');
  assert.ok(r.json.error.message.length > 0);
}

/** Sends raw bytes and returns what comes back before the server closes (or 2 s pass). */
function raw(url: string, bytes: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = connect(Number(u.port), u.hostname);
    let out = '';
    s.on('data', (d) => (out += d.toString('utf8')));
    s.on('error', () => resolve(out));
    s.on('close', () => resolve(out));
    s.setTimeout(2000, () => s.destroy());
    s.write(bytes);
  });
}

describe('HTTP API on a real 2-node cluster', { timeout: 60_000 }, () => {
  const c = new HttpCluster();
  before(async () => {
    c.startAll();
    await c.settled();
  });
  after(async () => {
    await c.cleanup();
  });

  it('GET /status: nodes, links, groups with owner, transitions with times, config digests', async () => {
    const r = await c.get('alpha', '/status');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    assert.equal(r.headers['cache-control'], 'no-store');
    const s = r.json;
    assert.equal(s.node, 'alpha');
    assert.deepEqual(s.nodes.map((n: any) => [n.name, n.status]), [['alpha', 'active'], ['beta', 'active']]);
    const beta = s.nodes.find((n: any) => n.name === 'beta');
    assert.deepEqual(beta.links, [{ name: 'lo', up: true }]);
    assert.match(beta.digest, /^[0-9a-f]{64}$/);
    assert.equal(beta.digest, s.digest);
    assert.deepEqual(s.drift, []);
    assert.deepEqual(s.driftParts, {});
    assert.equal(s.groups.length, 1);
    assert.equal(s.groups[0].owner, 'alpha');
    assert.equal(s.groups[0].preferredNode, 'alpha');
    assert.ok(s.transitions.length > 0);
    for (const t of s.transitions) assert.ok(!Number.isNaN(Date.parse(t.at)), t.at);
    assert.ok(s.transitions.some((t: any) => t.tag === 'running'));
    assert.equal(s.api.controls, true);
    // The other node sees the same owner.
    assert.equal((await c.get('beta', '/status')).json.groups[0].owner, 'alpha');
  });

  it('HEAD /status answers without a body; query strings are ignored', async () => {
    const r = await c.request('alpha', 'HEAD', '/status');
    assert.equal(r.status, 200);
    assert.equal(r.text, '');
    assert.equal((await c.get('alpha', '/status?x=1')).status, 200);
  });

  it('GET / and its assets: the dashboard, under a strict CSP', async () => {
    const page = await c.get('alpha', '/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    assert.match(page.text, /<script type="module" src="\/dashboard\.js">/);
    const js = await c.get('alpha', '/dashboard.js');
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.match(js.text, /EventSource\('\/events'\)/);
    const css = await c.get('alpha', '/dashboard.css');
    assert.equal(css.status, 200);
    assert.match(String(css.headers['content-type']), /^text\/css/);
    assert.equal((await c.get('alpha', '/favicon.svg')).status, 200);
  });

  it('GET /metrics: Prometheus text', async () => {
    const r = await c.get('alpha', '/metrics');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.match(r.text, /^# TYPE hbd_heartbeats_sent_total counter$/m);
    assert.match(r.text, /^hbd_group_owner\{group="alpha svc::web",node="alpha"\} 1$/m);
  });

  it('GET /events: server-sent events starting with the current status', async () => {
    const u = new URL(c.url('beta'));
    const text = await new Promise<string>((resolve, reject) => {
      const s = connect(Number(u.port), u.hostname);
      let out = '';
      s.on('data', (d) => {
        out += d.toString('utf8');
        if (/\n\nevent: status\ndata: .*\n\n/.test(out)) {
          s.destroy();
          resolve(out);
        }
      });
      s.on('error', reject);
      s.setTimeout(4000, () => {
        s.destroy();
        reject(new Error(`no status event: ${out}`));
      });
      s.write(`GET /events HTTP/1.1\r\nHost: ${u.host}\r\nAccept: text/event-stream\r\n\r\n`);
    });
    assert.match(text, /^HTTP\/1\.1 200/);
    assert.match(text, /content-type: text\/event-stream/i);
    const data = /event: status\ndata: (.*)\n\n/.exec(text)?.[1];
    assert.equal(JSON.parse(data ?? '{}').node, 'beta');
  });

  it('a request for a Host that is not the listen address (DNS rebinding): 421 E_BAD_HOST', async () => {
    for (const p of ['/status', '/metrics', '/']) assertError(await c.request('alpha', 'GET', p, { headers: { Host: 'evil.example' } }), 421, 'E_BAD_HOST');
    assert.equal((await c.request('alpha', 'GET', '/status', { headers: { Host: new URL(c.url('alpha')).host } })).status, 200);
  });

  it('unknown routes: 404 E_NOT_FOUND', async () => {
    for (const p of ['/nope', '/status/', '/../../etc/passwd', '/%2e%2e/authkeys', '/STATUS']) {
      assertError(await c.get('alpha', p), 404, 'E_NOT_FOUND');
    }
  });

  it('wrong methods: 405 E_METHOD_NOT_ALLOWED with Allow', async () => {
    let r = await c.request('alpha', 'POST', '/status', { headers: auth });
    assertError(r, 405, 'E_METHOD_NOT_ALLOWED');
    assert.equal(r.headers.allow, 'GET, HEAD');
    r = await c.request('alpha', 'GET', '/standby');
    assertError(r, 405, 'E_METHOD_NOT_ALLOWED');
    assert.equal(r.headers.allow, 'POST');
    assertError(await c.request('alpha', 'DELETE', '/metrics'), 405, 'E_METHOD_NOT_ALLOWED');
    assertError(await c.request('alpha', 'OPTIONS', '/takeover'), 405, 'E_METHOD_NOT_ALLOWED');
  });

  it('mutating endpoints without a token, or with a bad one: 401 with WWW-Authenticate: Bearer', async () => {
    for (const path of ['/standby', '/takeover']) {
      let r = await c.request('alpha', 'POST', path);
      assertError(r, 401, 'E_AUTH_REQUIRED');
      assert.match(String(r.headers['www-authenticate']), /^Bearer /);
      for (const header of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, 'Bearer ', `Basic ${Buffer.from(`a:${TOKEN}`).toString('base64')}`, TOKEN, `Bearer ${TOKEN} extra`]) {
        r = await c.request('alpha', 'POST', path, { headers: { Authorization: header } });
        assertError(r, 401, 'E_BAD_TOKEN');
        assert.match(String(r.headers['www-authenticate']), /^Bearer .*error="invalid_token"/);
      }
    }
    // Refused before any state change, and counted.
    assert.equal((await c.get('alpha', '/status')).json.groups[0].owner, 'alpha');
    assert.ok(((await c.metric('alpha', 'hbd_http_auth_failures_total')) ?? 0) >= 14);
  });

  it('bad bodies: 400 E_BAD_JSON / E_BAD_REQUEST, 415 for another media type', async () => {
    const post = (body: string, headers: Record<string, string> = json) => c.request('alpha', 'POST', '/standby', { headers: { ...auth, ...headers }, body });
    assertError(await post('{"scope": '), 400, 'E_BAD_JSON');
    assertError(await post('{scope: "all"}'), 400, 'E_BAD_JSON');
    assertError(await post('\u0000\u00ff'), 400, 'E_BAD_JSON');
    assertError(await post('[]'), 400, 'E_BAD_REQUEST');
    assertError(await post('"all"'), 400, 'E_BAD_REQUEST');
    assertError(await post('null'), 400, 'E_BAD_REQUEST');
    assertError(await post('{"scope":"everything"}'), 400, 'E_BAD_REQUEST');
    assertError(await post('{"scope":7}'), 400, 'E_BAD_REQUEST');
    assertError(await post('{"scope":"all","force":true}'), 400, 'E_BAD_REQUEST');
    assertError(await post('{"__proto__":{"scope":"all"}}'), 400, 'E_BAD_REQUEST');
    assertError(await post('scope=all', { 'Content-Type': 'application/x-www-form-urlencoded' }), 415, 'E_UNSUPPORTED_MEDIA_TYPE');
    assertError(await post('{"scope":"all"}', {}), 415, 'E_UNSUPPORTED_MEDIA_TYPE');
    assert.equal((await c.get('alpha', '/status')).json.groups[0].owner, 'alpha');
  });

  it('oversized bodies: 413 E_TOO_LARGE, declared or streamed', async () => {
    const big = `{"scope":"${'a'.repeat(20 * 1024)}"}`;
    // Declared by Content-Length: refused before reading.
    const length = { 'Content-Length': Buffer.byteLength(big) };
    assertError(await c.request('alpha', 'POST', '/standby', { headers: { ...auth, ...json, ...length }, body: big }), 413, 'E_TOO_LARGE');
    // Chunked, no length: refused once 16 KiB have arrived.
    assertError(await c.request('alpha', 'POST', '/takeover', { headers: { ...auth, ...json, 'Transfer-Encoding': 'chunked' }, body: big }), 413, 'E_TOO_LARGE');
    // A GET with a large body too.
    assertError(await c.request('alpha', 'GET', '/status', { headers: { ...json, ...length }, body: big }), 413, 'E_TOO_LARGE');
    // A megabyte at an unauthenticated client: 401 at once, nothing read.
    assertError(await c.request('alpha', 'POST', '/standby', { headers: { ...json, 'Content-Length': 1024 * 1024 }, body: Buffer.alloc(1024 * 1024, 0x20) }), 401, 'E_AUTH_REQUIRED');
    // An exact 16 KiB body is read (and refused as JSON that is not an object), not cut off.
    const edge = `"${'b'.repeat(16 * 1024 - 2)}"`;
    assertError(await c.request('alpha', 'POST', '/standby', { headers: { ...auth, ...json, 'Content-Length': 16 * 1024 }, body: edge }), 400, 'E_BAD_REQUEST');
  });

  it('malformed HTTP and huge headers get JSON errors; the daemon lives on', async () => {
    const url = c.url('alpha');
    const host = new URL(url).host;
    const garbage = await raw(url, 'HELLO WORLD\r\n\r\n');
    assert.match(garbage, /^HTTP\/1\.1 400 /);
    assert.match(garbage, /"code":"E_BAD_REQUEST"/);
    const huge = await raw(url, `GET /status HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'a'.repeat(40 * 1024)}\r\n\r\n`);
    assert.match(huge, /^HTTP\/1\.1 431 /);
    assert.match(huge, /"code":"E_HEADERS_TOO_LARGE"/);
    // Half a request, then gone.
    await raw(url, `POST /standby HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 100\r\n\r\n{"sc`);
    assert.ok(c.alive('alpha'));
    assert.equal((await c.get('alpha', '/status')).status, 200);
  });

  it('a world-readable or foreign-owned token file disables standby/takeover (503), and a fix re-enables them', async () => {
    chmodSync(c.tokenFile, 0o644);
    await sleep(1100); // the file is re-checked at most once a second
    let r = await c.request('alpha', 'POST', '/standby', { headers: auth });
    assertError(r, 503, 'E_CONTROLS_DISABLED');
    assert.match(r.json.error.message, /chmod 600/);
    // The log line and the answer come over different pipes: the answer can be read first.
    await c.waitFor('the "disabled" log line', () => c.count('alpha', /ERROR: HTTP API: standby and takeover disabled: token file .* has mode 0644/) >= 1, 2000);
    chmodSync(c.tokenFile, 0o640);
    await sleep(1100);
    assertError(await c.request('alpha', 'POST', '/standby', { headers: auth }), 503, 'E_CONTROLS_DISABLED');
    if (process.getuid?.() === 0) {
      chmodSync(c.tokenFile, 0o600);
      chownSync(c.tokenFile, 65534, 65534);
      await sleep(1100);
      r = await c.request('alpha', 'POST', '/standby', { headers: auth });
      assertError(r, 503, 'E_CONTROLS_DISABLED');
      assert.match(r.json.error.message, /owned by uid 65534/);
      chownSync(c.tokenFile, 0, 0);
    }
    writeFileSync(c.tokenFile, 'short\n');
    chmodSync(c.tokenFile, 0o600);
    await sleep(1100);
    assertError(await c.request('alpha', 'POST', '/standby', { headers: auth }), 503, 'E_CONTROLS_DISABLED');
    writeFileSync(c.tokenFile, `${TOKEN}\n`);
    await sleep(1100);
    r = await c.request('alpha', 'POST', '/standby', { headers: { ...auth, ...json }, body: '{"scope":"foreign"}' });
    assert.equal(r.status, 202, r.text);
    await c.waitFor('the "usable again" log line', () => c.count('alpha', /HTTP API: token file .* is usable again/) >= 1, 2000);
  });

  it('POST /standby moves the group to the other node; POST /takeover brings it back', async () => {
    let r = await c.request('alpha', 'POST', '/standby', { headers: auth });
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(r.json, { accepted: true, action: 'standby', scope: 'all', node: 'alpha' });
    await c.waitFor('beta to own the group', async () => (await c.get('alpha', '/status')).json.groups[0].owner === 'beta');
    r = await c.request('alpha', 'POST', '/takeover', { headers: { ...auth, ...json }, body: '{"scope":"all"}' });
    assert.equal(r.status, 202, r.text);
    await c.waitFor('alpha to own the group again', async () => (await c.get('beta', '/status')).json.groups[0].owner === 'alpha');
    const m = await c.get('alpha', '/metrics');
    assert.match(m.text, /^hbd_group_transitions_total\{group="alpha svc::web",what="standby"\} [1-9]/m);
    assert.ok(c.count('alpha', /HTTP API: standby \(scope all\) requested by 127\.0\.0\.1/) === 1);
  });

  it('the daemons are still alive after all of it', () => {
    assert.ok(c.alive('alpha'), c.dump());
    assert.ok(c.alive('beta'), c.dump());
  });
});

describe('HTTP API without a token file', { timeout: 30_000 }, () => {
  const c = new HttpCluster({ nodes: ['solo'], noToken: true });
  before(async () => {
    c.start('solo');
    await c.settled(15_000, false);
  });
  after(async () => {
    await c.cleanup();
  });

  it('is read-only: standby and takeover answer 503 E_CONTROLS_DISABLED, status says so', async () => {
    assertError(await c.request('solo', 'POST', '/standby', { headers: auth }), 503, 'E_CONTROLS_DISABLED');
    assertError(await c.request('solo', 'POST', '/takeover'), 503, 'E_CONTROLS_DISABLED');
    assert.equal((await c.get('solo', '/status')).json.api.controls, false);
    assert.ok(c.count('solo', /HTTP API listening on .*read-only \(no http_token_file configured/) === 1, c.dump());
  });
});
