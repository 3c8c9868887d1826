// Better than Heartbeat: a virtual IP never outlives its daemon, and a crashed daemon costs
// no deadtime. After kill -9 of hbd, its address guard removes the VIP at once, then sends
// hbd's last words (a goodbye signed in advance), so the survivor takes over at once — never
// with the address on two hosts. Heartbeat leaves the VIP up on the dead daemon's host and
// its peer waits for deadtime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { netnsSkip } from '../helpers/netns.js';
import { stepper, wall, withCluster, type NsCluster } from '../helpers/cluster.js';

const skip = await netnsSkip();
const VIP = '10.231.1.100';
// Long enough that only the last words can explain a takeover within the test's waits.
const DEADTIME_S = 10;

/** Watches the VIP move from `from` to `to` until stopped; reports whether it was ever on both at once. */
function watchDoubleHolding(c: NsCluster, from: string, to: string): { stop(): Promise<boolean> } {
  let running = true;
  let both = false;
  const loop = (async () => {
    while (running) {
      // The gaining host first: `from` only ever loses the address in this window, so seeing
      // it on `from` after seeing it on `to` means both held it at the first look.
      const onTo = (await c.addresses(to)).includes(VIP);
      const onFrom = (await c.addresses(from)).includes(VIP);
      if (onTo && onFrom) both = true;
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return both;
    },
  };
}

test('kill -9 of the owner\'s hbd: its guard removes the VIP, then its last words let the survivor take over at once', { skip }, async (t) => {
  await withCluster(
    { haresources: `primary IPaddr::${VIP}/24/eth0`, autoFailback: 'off', keepalive: '200ms', warntime: '5', deadtime: String(DEADTIME_S), initdead: String(2 * DEADTIME_S), web: false, client: null },
    async (c) => {
      const step = stepper(t);
      await step('the cluster forms with primary holding the VIP', async () => {
        c.startAll();
        await c.waitStable('primary owns the group', { 0: 'primary' });
        assert.deepEqual(await c.holders(VIP), ['primary']);
      });
      await step(`kill -9 of hbd alone: the VIP leaves primary, then secondary takes it long before deadtime (${DEADTIME_S} s)`, async () => {
        const watch = watchDoubleHolding(c, 'primary', 'secondary');
        const killedAt = await c.kill9('primary');
        await c.waitFor('secondary to hold the VIP', async () => (await c.holders(VIP)).includes('secondary'), 5000);
        const tookAt = wall();
        assert.equal(await watch.stop(), false, 'the VIP was never on both hosts');
        assert.deepEqual(await c.holders(VIP), ['secondary']);
        assert.ok(c.firstLog('primary', /hbd guard: hbd died; removed 10\.231\.1\.100 from eth0/, killedAt), 'the guard removed the VIP');
        assert.ok(c.firstLog('primary', /hbd guard: told the peers that hbd died/, killedAt), 'the guard sent the last words');
        assert.ok(c.firstLog('secondary', /hbd on primary died: its address guard removed its addresses and said so/, killedAt), 'secondary names the cause');
        assert.ok(c.firstLog('secondary', /node primary: is dead/, killedAt));
        const st = await c.status('secondary');
        assert.equal(st.nodes.find((n) => n.name === 'primary')?.status, 'dead');
        t.diagnostic(`secondary held the VIP ${Math.round(tookAt - killedAt)} ms after kill -9 of primary's hbd (deadtime ${DEADTIME_S * 1000} ms)`);
      });
      await step('primary\'s hbd starts again (a new run): it rejoins, the group stays on secondary (auto_failback off)', async () => {
        const startedAt = wall();
        c.start('primary');
        await c.waitFor('secondary to see primary active again', async () => (await c.status('secondary')).nodes.find((n) => n.name === 'primary')?.status === 'active', 8000);
        assert.ok(c.firstLog('secondary', /node primary: is up/, startedAt), 'the last words of the old run do not keep the new run out');
        await c.waitStable('secondary still owns the group', { 0: 'secondary' });
        assert.deepEqual(await c.holders(VIP), ['secondary']);
      });
      await step('a clean stop of secondary: its goodbye (not last words) hands the group to primary', async () => {
        const watch = watchDoubleHolding(c, 'secondary', 'primary');
        const termAt = wall();
        assert.equal(await c.term('secondary'), 0);
        await c.waitFor('primary to hold the VIP', async () => (await c.holders(VIP)).includes('primary'), 5000);
        assert.equal(await watch.stop(), false, 'the VIP was never on both hosts');
        assert.ok(c.firstLog('primary', /Received shutdown notice from 'secondary'/, termAt));
        assert.equal(c.firstLog('secondary', /hbd guard: told the peers/, termAt), undefined, 'a clean exit sends no last words');
      });
    },
  );
});
