// The HTTP API against hostile clients, in this process over real loopback sockets: a web
// page reaching it through a rebound DNS name, many slow clients from one address, a client
// that connects and says nothing, one address taking every /events stream. Each test fails
// without the limit it checks.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get, type ClientRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpApi } from '../../src/control/http.js';
import { ClusterView } from '../../src/status/cluster-view.js';
import { attachCore, call, memoryLog, writeConfig } from './inprocess.js';

const TOKEN = 'hardening-token-0123456789';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rejects when `p` has not settled within `ms` (a generous bound: a locked-out client would wait forever). */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** A raw connection from `localAddress` that writes `first` and keeps what comes back. */
class RawClient {
  readonly socket: Socket;
  received = '';
  closed = false;
  /** Settles once connected, or closed without connecting. */
  readonly connected: Promise<void>;
  readonly done: Promise<void>;

  constructor(port: number, localAddress: string, first: string) {
    this.socket = connect({ host: '127.0.0.1', port, localAddress });
    this.connected = new Promise((resolve) => this.socket.once('connect', resolve).once('close', resolve));
    this.socket.on('connect', () => first && this.socket.write(first));
    this.socket.on('data', (d) => (this.received += d.toString('utf8')));
    this.socket.on('error', () => undefined);
    this.done = new Promise((resolve) =>
      this.socket.on('close', () => {
        this.closed = true;
        resolve();
      }),
    );
  }

  /** Still connected: the server has neither answered nor closed it. */
  get held(): boolean {
    return !this.closed && this.received === '' && !this.socket.readableEnded;
  }
}

/** GET /events from `localAddress`: a 200 stays open (close it with `req.destroy()`); anything else is read whole. */
function openEvents(port: number, localAddress: string): Promise<{ status: number; req: ClientRequest; text: () => string; json: () => any }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const req = get({ host: '127.0.0.1', port, path: '/events', localAddress, agent: false }, (res) => {
      res.on('data', (d) => (text += d));
      const answer = { status: res.statusCode ?? 0, req, text: () => text, json: () => JSON.parse(text) };
      if (res.statusCode === 200) resolve(answer);
      else res.on('end', () => resolve(answer));
    });
    req.on('error', reject);
  });
}

describe('HTTP API hardening (in-process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hbts-httpharden-'));
  const log = memoryLog();
  let dispatched = 0;
  /** Every limit at its default. */
  let api: HttpApi;
  let port = 0;
  /** A headers timeout of 300 ms, to watch it act. */
  let quick: HttpApi;
  let quickPort = 0;

  before(async () => {
    const config = writeConfig(dir);
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    chmodSync(join(dir, 'token'), 0o600);
    const view = new ClusterView(config, 'alpha');
    attachCore(view, config);
    const common = { tokenFile: join(dir, 'token'), view, config, dispatch: () => void dispatched++, log };
    api = new HttpApi({ listen: '127.0.0.1:0', ...common });
    port = (await api.listen()).port;
    quick = new HttpApi({ listen: '127.0.0.1:0', ...common, headersTimeoutMs: 300, eventIntervalMs: 100 });
    quickPort = (await quick.listen()).port;
  });
  after(async () => {
    await api.close();
    await quick.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('DNS rebinding: a Host that is not this server is refused (421 E_BAD_HOST) on every endpoint', async () => {
    for (const path of ['/status', '/metrics', '/events', '/', '/dashboard.js']) {
      for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`, 'localhost.evil.example']) {
        const r = await call(port, 'GET', path, { headers: { Host: host } });
        assert.equal(r.status, 421, `${path} Host ${host}: ${r.text.slice(0, 100)}`);
        assert.equal(r.json?.error?.code, 'E_BAD_HOST');
        assert.match(r.json.error.message, /http_allowed_hosts/);
        assert.doesNotMatch(r.text, /"node":"alpha"|hbd_/);
      }
    }
    assert.ok(log.lines.some((l) => /^warn: HTTP API: refused GET .* for Host "evil\.example".*DNS-rebinding/.test(l)), log.lines.join('\n'));
  });

  it('DNS rebinding: the listen address and localhost (on loopback) are answered, with or without a port', async () => {
    for (const host of [`127.0.0.1:${port}`, '127.0.0.1', `localhost:${port}`, 'LocalHost']) {
      const r = await call(port, 'GET', '/status', { headers: { Host: host } });
      assert.equal(r.status, 200, `Host ${host}: ${r.text.slice(0, 100)}`);
      assert.equal(r.json.node, 'alpha');
    }
    assert.equal((await call(port, 'GET', '/status', { headers: { Host: 'hbd.example.com' } })).status, 421);
  });

  it('DNS rebinding: the names of ha.cf http_allowed_hosts are answered too', async () => {
    const d = mkdtempSync(join(tmpdir(), 'hbts-httpharden-'));
    const config = writeConfig(d, 'http_allowed_hosts hbd.example.com\n');
    const named = new HttpApi({ listen: '127.0.0.1:0', tokenFile: null, view: new ClusterView(config, 'alpha'), config, dispatch: () => undefined, log });
    try {
      const p = (await named.listen()).port;
      for (const host of ['hbd.example.com', `HBD.Example.COM.:${p}`, 'hbd.example.com:443', `127.0.0.1:${p}`]) {
        const r = await call(p, 'GET', '/metrics', { headers: { Host: host } });
        assert.equal(r.status, 200, `Host ${host}: ${r.text.slice(0, 100)}`);
      }
      assert.equal((await call(p, 'GET', '/metrics', { headers: { Host: 'other.example.com' } })).status, 421);
    } finally {
      await named.close();
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('DNS rebinding: a control request for a foreign Host is refused before the token is even looked at', async () => {
    const before = dispatched;
    const r = await call(port, 'POST', '/standby', { headers: { Host: 'evil.example', Authorization: `Bearer ${TOKEN}` } });
    assert.equal(r.status, 421);
    assert.equal(r.json.error.code, 'E_BAD_HOST');
    assert.equal(dispatched, before);
    assert.equal((await call(port, 'POST', '/standby', { headers: { Host: `127.0.0.1:${port}`, Authorization: `Bearer ${TOKEN}` } })).status, 202);
    assert.equal(dispatched, before + 1);
  });

  it('slow clients from one address cannot lock the others out: 300 half-sent requests from 127.0.0.1, and 127.0.0.2 still gets /status', async () => {
    // 300 is more than the global cap (256 connections): without a cap per address these
    // would take every connection the server will accept.
    const slow: RawClient[] = [];
    try {
      for (let i = 0; i < 300; i++) slow.push(new RawClient(port, '127.0.0.1', 'GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
      await within(3000, 'the slow clients connecting', Promise.all(slow.map((c) => c.connected)));
      await sleep(300);
      const other = await within(2000, 'GET /status from 127.0.0.2', call(port, 'GET', '/status', { localAddress: '127.0.0.2' }));
      assert.equal(other.status, 200);
      assert.equal(other.json.node, 'alpha');
      const held = slow.filter((c) => c.held).length;
      assert.ok(held <= 16, `${held} slow connections from 127.0.0.1 still held; at most 16 may be`);
      assert.ok(held >= 1, 'the first connections of an address are accepted');
      const refused = slow.filter((c) => /^HTTP\/1\.1 503 /.test(c.received));
      assert.ok(refused.length >= 1, 'refused connections are told why');
      assert.match(refused[0]!.received, /"code":"E_TOO_MANY_CONNECTIONS".*127\.0\.0\.1/);
      assert.ok(log.lines.some((l) => /^warn: HTTP API: refused a connection from 127\.0\.0\.1: it already has 16 open/.test(l)), log.lines.join('\n'));
    } finally {
      for (const c of slow) c.socket.destroy();
    }
    // Their slots are given back once they are gone.
    let again = 0;
    for (let i = 0; i < 40 && again !== 200; i++) {
      await sleep(50);
      again = (await call(port, 'GET', '/status').catch(() => ({ status: 0 }))).status;
    }
    assert.equal(again, 200);
  });

  it('a client that connects and sends nothing, or dribbles its headers, is dropped after the headers timeout (408 E_REQUEST_TIMEOUT)', async () => {
    const silent = new RawClient(quickPort, '127.0.0.1', '');
    const dribbler = new RawClient(quickPort, '127.0.0.1', 'GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ');
    const dribble = setInterval(() => dribbler.socket.writable && dribbler.socket.write('a'), 50);
    const stream = await openEvents(quickPort, '127.0.0.1');
    try {
      assert.equal(stream.status, 200);
      // 300 ms in the options; 3 s leaves room for a loaded machine (without it: 10 s, then up to 30 s more).
      await within(3000, 'the silent client being dropped', silent.done);
      await within(3000, 'the dribbling client being dropped', dribbler.done);
      for (const c of [silent, dribbler]) {
        assert.match(c.received, /^HTTP\/1\.1 408 /);
        assert.match(c.received, /"code":"E_REQUEST_TIMEOUT"/);
      }
      // A request that was received in time is not cut off by the timeout: the stream goes on.
      await sleep(600);
      assert.equal(stream.req.destroyed, false);
      assert.ok((stream.text().match(/event: status/g) ?? []).length >= 3, stream.text().slice(0, 200));
      assert.equal((await call(quickPort, 'GET', '/status')).status, 200);
    } finally {
      clearInterval(dribble);
      silent.socket.destroy();
      dribbler.socket.destroy();
      stream.req.destroy();
    }
  });

  it('/events: one address gets at most 4 streams (503 E_TOO_MANY_CLIENTS); another address still gets its own', async () => {
    const open: ClientRequest[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const s = await openEvents(port, '127.0.0.1');
        assert.equal(s.status, 200, `stream ${i + 1}`);
        open.push(s.req);
      }
      const fifth = await openEvents(port, '127.0.0.1');
      assert.equal(fifth.status, 503);
      assert.equal(fifth.json().error.code, 'E_TOO_MANY_CLIENTS');
      assert.match(fifth.json().error.message, /already 4 \/events streams from 127\.0\.0\.1/);
      const other = await openEvents(port, '127.0.0.2');
      assert.equal(other.status, 200);
      open.push(other.req);
      // A stream that ends gives its slot back.
      open.shift()?.destroy();
      let again = 0;
      for (let i = 0; i < 40 && again !== 200; i++) {
        await sleep(50);
        const s = await openEvents(port, '127.0.0.1');
        again = s.status;
        if (s.status === 200) open.push(s.req);
      }
      assert.equal(again, 200);
    } finally {
      for (const r of open) r.destroy();
    }
  });
});
