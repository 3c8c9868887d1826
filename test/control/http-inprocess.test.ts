// HttpApi in this process, over a real ClusterView: limits and failure paths that a daemon
// process would make slow or impossible to reach (the /events client cap, a handler throwing,
// a daemon not started yet), and the token file rules.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterConfig } from '../../src/config/types.js';
import { ClusterView } from '../../src/status/cluster-view.js';
import { HttpApi, parseListen, readToken } from '../../src/control/http.js';
import { attachCore, call, memoryLog, writeConfig } from './inprocess.js';

const TOKEN = 'in-process-token-0123456789';

describe('HttpApi in-process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hbts-httpunit-'));
  let config: ClusterConfig;
  let view: ClusterView;
  let api: HttpApi;
  let port = 0;
  const log = memoryLog();
  let dispatchImpl: (ev: { kind: string; scope: string }) => void = () => undefined;

  before(async () => {
    config = writeConfig(dir);
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    chmodSync(join(dir, 'token'), 0o600);
    view = new ClusterView(config, 'alpha');
    api = new HttpApi({
      listen: '127.0.0.1:0',
      tokenFile: join(dir, 'token'),
      view,
      config,
      dispatch: (ev) => dispatchImpl(ev),
      log,
      maxEventClients: 2,
      eventIntervalMs: 100,
    });
    port = (await api.listen()).port;
  });
  after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 E_NOT_READY before the daemon has started', async () => {
    const r = await call(port, 'GET', '/status');
    assert.equal(r.status, 503);
    assert.equal(r.json.error.code, 'E_NOT_READY');
    // Metrics still answer: a scrape must not fail because hbd is starting.
    assert.equal((await call(port, 'GET', '/metrics').catch(() => ({ status: 0 }))).status, 200);
  });

  it('serves the status once the view is attached', async () => {
    attachCore(view, config);
    const r = await call(port, 'GET', '/status');
    assert.equal(r.status, 200);
    assert.equal(r.json.node, 'alpha');
  });

  it('a handler that throws answers 500 E_INTERNAL, logs, and the server goes on', async () => {
    dispatchImpl = () => {
      throw new Error('boom from the core');
    };
    const r = await call(port, 'POST', '/standby', { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(r.status, 500);
    assert.equal(r.json.error.code, 'E_INTERNAL');
    assert.doesNotMatch(r.json.error.message, /boom/); // internals stay in the log
    assert.ok(log.lines.some((l) => /internal error on POST \/standby: Error: boom from the core/.test(l)), log.lines.join('\n'));
    dispatchImpl = () => undefined;
    assert.equal((await call(port, 'POST', '/standby', { headers: { Authorization: `Bearer ${TOKEN}` } })).status, 202);
  });

  it('caps /events clients (503 E_TOO_MANY_CLIENTS) and keeps the streams beating', async () => {
    const open: { destroy(): void }[] = [];
    const received: string[] = ['', ''];
    try {
      for (let i = 0; i < 2; i++) {
        await new Promise<void>((resolve, reject) => {
          const req = get({ host: '127.0.0.1', port, path: '/events', agent: false }, (res) => {
            assert.equal(res.statusCode, 200);
            res.on('data', (d) => (received[i] += d));
            resolve();
          });
          req.on('error', reject);
          open.push(req);
        });
      }
      const third = await call(port, 'GET', '/events');
      assert.equal(third.status, 503);
      assert.equal(third.json.error.code, 'E_TOO_MANY_CLIENTS');
      // With nothing happening, the status is repeated every eventIntervalMs (100 ms here).
      await new Promise((r) => setTimeout(r, 450));
      for (const r of received) assert.ok((r.match(/event: status/g) ?? []).length >= 3, r.slice(0, 200));
    } finally {
      for (const o of open) o.destroy();
    }
    // Once they are gone, a new client is welcome.
    await new Promise((r) => setTimeout(r, 50));
    await new Promise<void>((resolve, reject) => {
      const req = get({ host: '127.0.0.1', port, path: '/events', agent: false }, (res) => {
        assert.equal(res.statusCode, 200);
        req.destroy();
        resolve();
      });
      req.on('error', reject);
    });
  });

  it('parseListen accepts ADDRESS:PORT only', () => {
    assert.deepEqual(parseListen('127.0.0.1:8694'), { host: '127.0.0.1', port: 8694 });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
    for (const bad of ['8694', '127.0.0.1', '127.0.0.1:99999', ':80', '127.0.0.1:-1']) assert.throws(() => parseListen(bad), /ADDRESS:PORT/, bad);
  });

  it('readToken: mode 600 and a real token, or a reason', async () => {
    const f = join(dir, 't2');
    writeFileSync(f, `${TOKEN}\n`, { mode: 0o600 });
    assert.equal((await readToken(f)).ok, true);
    for (const mode of [0o644, 0o604, 0o640, 0o660, 0o666, 0o620]) {
      chmodSync(f, mode);
      const r = await readToken(f);
      assert.equal(r.ok, false, mode.toString(8));
      assert.match(!r.ok ? r.reason : '', /chmod 600/);
    }
    chmodSync(f, 0o400);
    assert.equal((await readToken(f)).ok, true);
    chmodSync(f, 0o600);
    writeFileSync(f, 'two words-but-long-enough\n');
    assert.match(JSON.stringify(await readToken(f)), /printable characters without spaces/);
    writeFileSync(f, '\n');
    assert.equal((await readToken(f)).ok, false);
    assert.match(JSON.stringify(await readToken(join(dir, 'missing'))), /does not exist/);
    assert.match(JSON.stringify(await readToken(dir)), /not a regular file/);
    // A symlink is refused, even to a good mode-600 file: whoever can change the link could
    // point it at a token of their choosing (or swap it between our check and our read).
    writeFileSync(f, `${TOKEN}\n`);
    assert.equal((await readToken(f)).ok, true);
    symlinkSync(f, join(dir, 'link'));
    const linked = await readToken(join(dir, 'link'));
    assert.equal(linked.ok, false, 'a symlinked token file was accepted');
    assert.match(!linked.ok ? linked.reason : '', new RegExp(`token file ${join(dir, 'link')} is a symbolic link.*replace the link with the file itself.*chmod 600`));
  });
});
