// Better than Heartbeat: a virtual IP never outlives its daemon. After kill -9 of hbd, its
// address guard removes the VIP at once, so it is not configured on two hosts while the
// survivor takes over (Heartbeat leaves it up on the dead daemon's host).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { netnsSkip } from '../helpers/netns.js';
import { stepper, wall, withCluster } from '../helpers/cluster.js';

const skip = await netnsSkip();
const VIP = '10.231.1.100';

test('kill -9 of the owner\'s hbd: its VIP is removed at once, before the survivor takes over', { skip }, async (t) => {
  await withCluster({ haresources: `primary IPaddr::${VIP}/24/eth0`, autoFailback: 'on', deadtime: '2', initdead: '4', web: false, client: null }, async (c) => {
    const step = stepper(t);
    await step('the cluster forms with primary holding the VIP', async () => {
      c.startAll();
      await c.waitStable('primary owns the group', { 0: 'primary' });
      assert.deepEqual(await c.holders(VIP), ['primary']);
    });
    await step('kill -9: the VIP leaves primary well before deadtime, then secondary takes it', async () => {
      const killedAt = await c.kill9('primary');
      await c.waitFor('the VIP gone from primary', async () => !(await c.holders(VIP)).includes('primary'), 3000);
      const goneAt = wall();
      assert.ok(goneAt - killedAt < 1500, `removed ${Math.round(goneAt - killedAt)} ms after the kill (deadtime 2000 ms)`);
      assert.equal(c.firstLog('secondary', /mach_down takeover complete/, killedAt), undefined, 'removed before the takeover: never on two hosts');
      await c.waitFor('secondary takes over', async () => (await c.holders(VIP)).includes('secondary'), 6000);
      assert.deepEqual(await c.holders(VIP), ['secondary']);
      t.diagnostic(`VIP removed from primary ${Math.round(goneAt - killedAt)} ms after kill -9`);
    });
    await step('primary\'s hbd restarts and takes its group back (auto_failback on); the VIP is on one host', async () => {
      c.start('primary');
      await c.waitStable('primary owns the group again', { 0: 'primary' });
      assert.deepEqual(await c.holders(VIP), ['primary']);
    });
    await step('a clean stop releases the group and leaves nothing behind', async () => {
      assert.equal(await c.term('primary'), 0);
      await c.waitFor('secondary takes over after the goodbye', async () => (await c.holders(VIP)).includes('secondary'), 6000);
      assert.deepEqual(await c.holders(VIP), ['secondary']);
    });
  });
});
