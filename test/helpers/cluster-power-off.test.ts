// A power-off (NsCluster.powerOff) kills every process in the host's namespace by PID: a
// command the test itself runs there at that moment (a sampler's look at the addresses) was
// killed with it and failed the test with an unhandled rejection (arbiter-etcd.test.ts, CI on
// 876c3a2). Such a look runs again after the sweep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inNs } from '../../src/lib/netns.js';
import { withCluster } from './cluster.js';
import { netnsSkip } from './netns.js';

test('a look of the test\'s own into a host caught by its power-off is run again, not failed', async (t) => {
  const skip = await netnsSkip();
  if (skip) return t.skip(skip);
  await withCluster({ subnet: '10.231.77', haresources: 'primary IPaddr::10.231.77.100/24/eth0', web: false, client: null }, async (c) => {
    const ns = c.host('primary').ns;
    // What the helper did before: the command dies with the host's processes.
    const outcome = (p: Promise<unknown>) => p.then(() => 'ran', (err: Error) => `failed: ${err.message.trim()}`);
    const plain = outcome(inNs(ns, ['sleep', '1.5']));
    const looked = outcome(c.inHost('primary', ['sleep', '1.5']));
    await new Promise((r) => setTimeout(r, 300));
    await c.powerOff('primary');
    assert.match(await plain, /^failed: Command failed/, 'a plain command in the namespace is killed by the power-off');
    assert.equal(await looked, 'ran');
    // And the addresses of a host that is off can still be read (its namespace keeps them).
    assert.ok((await c.addresses('primary')).includes(c.host('primary').address));
  });
});
