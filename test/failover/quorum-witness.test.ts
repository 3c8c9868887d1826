// Two nodes and a witness on a namespace LAN (issue 16): the heartbeat path between the nodes
// is cut (nft drop rules, test/nemesis/net-faults.ts) while the client and the witness still
// reach both. With the witness, exactly one node holds the VIP at every sample; without a
// quorum source both do (Heartbeat's behaviour, announced by one WARN at start-up), and once
// the cut heals exactly one keeps it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { netnsSkip } from '../helpers/netns.js';
import { says, stepper, wall, withCluster, type NsCluster } from '../helpers/cluster.js';
import { heal, partition, split } from '../nemesis/net-faults.js';
import { sleep } from '../../src/lib/wait.js';

const skip = await netnsSkip();
const SUBNET = '10.231.61';
const VIP = `${SUBNET}.100`;
const WITNESS = { name: 'arbiter', octet: 3 };

/** Samples who holds the VIP every ~100 ms for `ms`; returns every sample. */
async function sampleHolders(c: NsCluster, ms: number): Promise<string[][]> {
  const out: string[][] = [];
  const end = wall() + ms;
  while (wall() < end) {
    out.push(await c.holders(VIP));
    await sleep(100);
  }
  return out;
}

const NO_SOURCE = /two nodes and no quorum source: .*split brain.*witness/;

test('two nodes + witness: a cut heartbeat path never puts the VIP on both nodes, and healing moves nothing', { skip }, async (t) => {
  const media = [1, 2, WITNESS.octet].map((o) => `ucast eth0 ${SUBNET}.${o}`);
  const opts = { label: 'qs', subnet: SUBNET, haresources: `primary IPaddr2::${VIP}/24/eth0`, autoFailback: 'on' as const, media, extraHaCf: `witness ${WITNESS.name}` };
  await withCluster(opts, async (c) => {
    const step = stepper(t);
    await c.lan.addHost(WITNESS.name, WITNESS.octet);
    c.writeConfig(WITNESS.name);
    const probe = c.probe(VIP);
    await step('the cluster forms with the witness: primary owns the group; no split-brain warning; the witness says what it is', async () => {
      c.startAll();
      c.start(WITNESS.name, ['--witness']);
      await c.waitStable('primary to own the group', { 0: 'primary' });
      await probe.waitFor('primary', says('primary'), 0);
      assert.ok(!NO_SOURCE.test(c.logText('primary')), 'no quorum-source warning with a witness');
      await c.waitFor('the witness to log its role', () => /Running as the witness of primary and secondary/.test(c.logText(WITNESS.name)), 10_000);
      const w = await c.status(WITNESS.name);
      assert.equal(w.groups[0]?.phases[WITNESS.name], 'stopped', 'the witness runs no group');
    });
    await step('the heartbeat path between primary and secondary is cut: the VIP stays on primary only, at every sample', async () => {
      const at = wall();
      await partition(c.lan, split([['primary'], ['secondary']]));
      await c.waitFor('secondary to declare primary dead', async () => (await c.status('secondary')).nodes.find((n) => n.name === 'primary')?.status === 'dead', 10_000);
      const samples = await sampleHolders(c, 4000);
      assert.ok(samples.every((h) => h.length === 1 && h[0] === 'primary'), `holders at each sample: ${JSON.stringify(samples)}`);
      const answers = probe.since(at).filter((a) => a.body);
      assert.ok(answers.length > 0 && answers.every(says('primary')), 'the client hears primary only');
    });
    await step('the cut heals: nothing moves', async () => {
      await heal(c.lan);
      await c.waitStable('the nodes to see each other again, primary owning the group', { 0: 'primary' }, 10_000);
      const samples = await sampleHolders(c, 2000);
      assert.ok(samples.every((h) => h.length === 1 && h[0] === 'primary'), `holders at each sample: ${JSON.stringify(samples)}`);
    });
    await step('primary is cut off from everyone (secondary and the witness): it releases, secondary takes over with the witness vote', async () => {
      await partition(c.lan, split([['primary'], ['secondary', WITNESS.name]]));
      await c.waitFor('secondary to hold the VIP', async () => (await c.holders(VIP)).includes('secondary'), 15_000);
      const samples = await sampleHolders(c, 2000);
      assert.ok(samples.every((h) => h.length === 1 && h[0] === 'secondary'), `holders at each sample: ${JSON.stringify(samples)}`);
      await heal(c.lan);
    });
    probe.stop();
  });
});

test('two nodes, no quorum source: one WARN names the risk; a cut puts the VIP on both, healing leaves it on one', { skip }, async (t) => {
  const opts = { label: 'qs', subnet: SUBNET, haresources: `primary IPaddr2::${VIP}/24/eth0`, autoFailback: 'on' as const };
  await withCluster(opts, async (c) => {
    const step = stepper(t);
    await step('the cluster forms; each node warns once that it has no quorum source', async () => {
      c.startAll();
      await c.waitStable('primary to own the group', { 0: 'primary' });
      for (const n of c.names) assert.equal(c.logText(n).split('\n').filter((l) => NO_SOURCE.test(l)).length, 1, `${n} warns once`);
    });
    await step('the heartbeat path is cut: both hold the VIP (Heartbeat\'s behaviour)', async () => {
      await partition(c.lan, split([['primary'], ['secondary']]));
      await c.waitFor('both nodes to hold the VIP', async () => (await c.holders(VIP)).length === 2, 15_000);
    });
    await step('the cut heals: exactly one node keeps the VIP', async () => {
      await heal(c.lan);
      await c.waitStable('one owner again', { 0: 'primary' }, 15_000);
      const samples = await sampleHolders(c, 2000);
      assert.ok(samples.every((h) => h.length === 1 && h[0] === 'primary'), `holders at each sample: ${JSON.stringify(samples)}`);
    });
  });
});
