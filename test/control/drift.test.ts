// Config drift: two nodes whose haresources differ. Each logs one WARN naming the other node
// and the differing file, once (not per heartbeat, not again when the peer restarts with the
// same config); /status, /metrics and the dashboard show it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../../src/lib/wait.js';
import { HttpCluster, metricValue } from './cluster.js';
import { artifactPath, launch } from './browser.js';

const DRIFT_WARN = /WARN: Configuration drift between nodes (alpha and beta|beta and alpha): haresources differs \(config digest [0-9a-f]{16} on \w+, [0-9a-f]{16} on \w+\)/;

describe('config drift between two nodes', { timeout: 60_000 }, () => {
  const c = new HttpCluster({
    haresources: {
      alpha: 'alpha svc::web\n',
      beta: 'alpha svc::web\nbeta svc::db\n',
    },
  });
  before(async () => {
    c.startAll();
    await c.settled();
  });
  after(async () => {
    await c.cleanup();
  });

  it('each node logs the drift once, naming the other node and the file', async () => {
    await c.waitFor('both drift warnings', () => c.count('alpha', DRIFT_WARN) === 1 && c.count('beta', DRIFT_WARN) === 1);
    await sleep(1000); // ten more heartbeats each way
    assert.equal(c.count('alpha', DRIFT_WARN), 1, c.dump());
    assert.equal(c.count('beta', DRIFT_WARN), 1, c.dump());
    assert.equal(c.count('alpha', /Configuration drift/), 1);
    assert.match((c.logs.get('alpha') ?? []).find((l) => DRIFT_WARN.test(l)) ?? '', /between nodes alpha and beta/);
  });

  it('/status and /metrics show it', async () => {
    const a = (await c.get('alpha', '/status')).json;
    assert.deepEqual(a.drift, ['beta']);
    assert.deepEqual(a.driftParts, { beta: ['haresources'] });
    assert.notEqual(a.nodes.find((n: any) => n.name === 'beta').digest, a.digest);
    assert.ok(a.transitions.some((t: any) => t.tag === 'drift' && /haresources differs/.test(t.text)));
    const b = (await c.get('beta', '/status')).json;
    assert.deepEqual(b.drift, ['alpha']);
    assert.deepEqual(b.driftParts, { alpha: ['haresources'] });
    assert.equal(metricValue((await c.get('alpha', '/metrics')).text, 'hbd_config_drift', { node: 'beta' }), 1);
    assert.equal(metricValue((await c.get('beta', '/metrics')).text, 'hbd_config_drift', { node: 'alpha' }), 1);
  });

  it('the dashboard shows it', async (t) => {
    const browser = await launch(t);
    if (!browser) return;
    try {
      const page = await browser.newPage({ viewport: { width: 1360, height: 820 } });
      await page.goto(`${c.url('alpha')}/`);
      const banner = page.locator('#drift');
      await banner.waitFor({ state: 'visible', timeout: 10_000 });
      assert.match(await banner.innerText(), /beta and alpha run different configurations: haresources differs/);
      assert.match(await page.locator('[data-node="beta"] .digest-drift').innerText(), /haresources differs/);
      assert.match(await page.locator('#health-text').innerText(), /drift/i);
      await page.screenshot({ path: artifactPath('dashboard-drift.png') });
    } finally {
      await browser.close();
    }
  });

  it('a restart of the peer with the same config logs nothing new', async () => {
    c.kill9('beta');
    await c.waitFor('beta dead on alpha', async () => (await c.get('alpha', '/status')).json.nodes.find((n: any) => n.name === 'beta').status === 'dead');
    c.start('beta');
    await c.waitFor('beta back', async () => (await c.get('alpha', '/status')).json.nodes.find((n: any) => n.name === 'beta').status === 'active');
    await sleep(500);
    assert.equal(c.count('alpha', DRIFT_WARN), 1, c.dump());
    assert.deepEqual((await c.get('alpha', '/status')).json.drift, ['beta']);
  });
});
