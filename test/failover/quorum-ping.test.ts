// Ping nodes and ipfail on a namespace LAN (issue 16): the client host doubles as the ping
// node (a router both nodes should reach). primary loses its route to it (nft drop rules,
// test/nemesis/net-faults.ts) while the heartbeats between the nodes still flow: its group
// moves to secondary, which still reaches the ping node. The route comes back: nothing moves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { netnsSkip } from '../helpers/netns.js';
import { stepper, wall, withCluster, type NsCluster } from '../helpers/cluster.js';
import { heal, partition } from '../nemesis/net-faults.js';
import { sleep } from '../../src/lib/wait.js';

const skip = await netnsSkip();
const SUBNET = '10.231.62';
const VIP = `${SUBNET}.100`;
const PING = `${SUBNET}.10`;

async function pingStatus(c: NsCluster, node: string): Promise<string | undefined> {
  return (await c.status(node)).pingNodes?.find((p) => p.name === PING)?.status;
}

test('ipfail: a node that loses its route to the ping node hands its group to the peer; the route returns and nothing flaps', { skip }, async (t) => {
  const opts = { label: 'qs', subnet: SUBNET, haresources: `primary IPaddr2::${VIP}/24/eth0`, autoFailback: 'off' as const, extraHaCf: `ping ${PING}\ndeadping 1\nipfail on` };
  await withCluster(opts, async (c) => {
    const step = stepper(t);
    await step('the cluster forms; both nodes reach the ping node; primary owns the group', async () => {
      c.startAll();
      await c.waitStable('primary to own the group', { 0: 'primary' });
      for (const n of c.names) await c.waitFor(`${n} to reach the ping node`, async () => (await pingStatus(c, n)) === 'ping', 10_000);
      const cl = await c.cli('primary', 'cl_status', ['nodestatus', PING]);
      assert.equal(cl.stdout.trim(), 'ping', `cl_status nodestatus ${PING} (stderr: ${cl.stderr.trim()})`);
    });
    await step('primary loses its route to the ping node: the ping node is dead there, and the group moves to secondary', async () => {
      const at = wall();
      await partition(c.lan, [
        { from: 'client', to: 'primary' },
        { from: 'primary', to: 'client' },
      ]);
      await c.waitFor('primary to declare the ping node dead', async () => (await pingStatus(c, 'primary')) === 'dead', 10_000);
      assert.ok(c.firstLog('primary', new RegExp(`Link ${PING}:${PING} dead\\.`), at), 'Heartbeat\'s link line');
      assert.ok(c.firstLog('primary', new RegExp(`Status update: Node ${PING} now has status dead`), at), 'ipfail\'s status line');
      await c.waitStable('secondary to own the group', { 0: 'secondary' }, 15_000);
      assert.deepEqual(await c.holders(VIP), ['secondary']);
      assert.equal((await c.status('secondary')).nodes.find((n) => n.name === 'primary')?.status, 'active', 'the nodes still hear each other');
    });
    await step('the route comes back: primary reaches the ping node again, and the group stays on secondary', async () => {
      const at = wall();
      await heal(c.lan);
      await c.waitFor('primary to reach the ping node again', async () => (await pingStatus(c, 'primary')) === 'ping', 10_000);
      assert.ok(c.firstLog('primary', new RegExp(`Status update: Node ${PING} now has status ping`), at));
      const samples: string[][] = [];
      for (let i = 0; i < 30; i++) {
        samples.push(await c.holders(VIP));
        await sleep(100);
      }
      assert.ok(samples.every((h) => h.length === 1 && h[0] === 'secondary'), `holders at each sample: ${JSON.stringify(samples)}`);
    });
  });
});
