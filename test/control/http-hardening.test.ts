// The HTTP API against hostile clients, in this process over real loopback sockets: a web
// page reaching it through a rebound DNS name. Each test fails without the limit it checks.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpApi } from '../../src/control/http.js';
import { ClusterView } from '../../src/status/cluster-view.js';
import { attachCore, call, memoryLog, writeConfig } from './inprocess.js';

const TOKEN = 'hardening-token-0123456789';

describe('HTTP API hardening (in-process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hbts-httpharden-'));
  const log = memoryLog();
  let dispatched = 0;
  let api: HttpApi;
  let port = 0;

  before(async () => {
    const config = writeConfig(dir);
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    chmodSync(join(dir, 'token'), 0o600);
    const view = new ClusterView(config, 'alpha');
    attachCore(view, config);
    const common = { tokenFile: join(dir, 'token'), view, config, dispatch: () => void dispatched++, log };
    api = new HttpApi({ listen: '127.0.0.1:0', ...common });
    port = (await api.listen()).port;
  });
  after(async () => {
    await api.close();
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
});
