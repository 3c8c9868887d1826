// The dashboard in real headless Chromium against a real 2-node cluster: both nodes active and
// the owner shown; kill -9 of the owner: the page (served by the survivor) shows it dead and
// the new owner without a reload. Saves test-artifacts/dashboard.png.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { HttpCluster, TOKEN } from './cluster.js';
import { artifactPath, launch } from './browser.js';

const GROUP = 'alpha svc::web';

describe('dashboard in headless Chromium', { timeout: 60_000 }, () => {
  const c = new HttpCluster();
  let browser: Browser | null = null;
  before(async () => {
    c.startAll();
    await c.settled();
  });
  after(async () => {
    await browser?.close();
    await c.cleanup();
  });

  it('shows both nodes active and the owner; after kill -9 of the owner, it dead and the new owner, live', async (t) => {
    browser = await launch(t);
    if (!browser) return;
    const page: Page = await browser.newPage({ viewport: { width: 1360, height: 820 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    let navigations = 0;
    page.on('framenavigated', (f) => f === page.mainFrame() && navigations++);

    await page.goto(`${c.url('beta')}/`);
    const node = (n: string) => page.locator(`[data-node="${n}"]`);
    const owner = page.locator(`[data-group="${GROUP}"] [data-role="owner"]`);
    await node('alpha').and(page.locator('[data-status="active"]')).waitFor({ timeout: 10_000 });
    await node('beta').and(page.locator('[data-status="active"]')).waitFor({ timeout: 10_000 });
    assert.equal(await owner.innerText(), 'alpha');
    assert.equal(await node('alpha').locator('[data-role="status"]').innerText(), 'ACTIVE'); // shown in capitals by CSS
    assert.match(await page.locator('#health-text').innerText(), /All nodes active/);
    assert.equal(await page.locator('#conn').getAttribute('data-state'), 'live');
    // No token given: no buttons.
    assert.equal(await page.locator('#btn-standby').isVisible(), false);
    assert.equal(await page.locator('#btn-takeover').isVisible(), false);
    await page.screenshot({ path: artifactPath('dashboard-before.png') });

    await page.evaluate(() => {
      (window as unknown as { marker: number }).marker = 42;
    });
    c.kill9('alpha');
    await node('alpha').and(page.locator('[data-status="dead"]')).waitFor({ timeout: 10_000 });
    await page.locator(`[data-group="${GROUP}"][data-owner="beta"]`).waitFor({ timeout: 10_000 });
    assert.equal(await owner.innerText(), 'beta');
    assert.equal(await node('alpha').locator('[data-role="status"]').innerText(), 'DEAD');
    assert.match(await page.locator('#health-text').innerText(), /alpha is dead/);
    // The timeline has the death and the takeover.
    await page.locator('#timeline [data-tag="takeover"]').first().waitFor({ timeout: 5000 });
    assert.match(await page.locator('#timeline [data-tag="node-dead"]').first().innerText(), /alpha is dead/);
    assert.match(await page.locator('#timeline [data-tag="takeover"]').first().innerText(), /took over alpha svc::web from alpha/);
    // Same page, never reloaded.
    assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42);
    assert.equal(navigations, 1);
    await page.waitForTimeout(300); // let the heartbeat animation settle into a frame
    await page.screenshot({ path: artifactPath('dashboard.png') });
    assert.deepEqual(problems, []);
  });

  it('shows standby/takeover buttons only with a token, and they work', async (t) => {
    if (!browser) return t.skip('no browser');
    const page = await browser.newPage({ viewport: { width: 1360, height: 820 } });
    await page.goto(`${c.url('beta')}/#token=${TOKEN}`);
    await page.locator('#btn-takeover').waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(new URL(page.url()).hash, ''); // the token is taken out of the address
    assert.equal(await page.locator('#actions-node').innerText(), 'beta');
    await page.locator('#btn-takeover').click();
    await page.locator('#action-result.ok').waitFor({ timeout: 5000 });
    assert.match(await page.locator('#action-result').innerText(), /takeover \(all\) accepted/);
    await page.screenshot({ path: artifactPath('dashboard-controls.png') });
    // A wrong token: the error is shown and the buttons go away.
    await page.evaluate(() => sessionStorage.setItem('hbd-token', 'wrong-token-0123456789'));
    await page.reload();
    await page.locator('#btn-standby').click();
    await page.locator('#action-result.err').waitFor({ timeout: 5000 });
    assert.match(await page.locator('#action-result').innerText(), /E_BAD_TOKEN/);
    assert.equal(await page.locator('#btn-standby').isVisible(), false);
    assert.equal(await page.locator('#token-form').isVisible(), true);
    assert.equal(c.count('beta', /HTTP API: takeover \(scope all\) requested/), 1);
    await page.close();
  });
});
