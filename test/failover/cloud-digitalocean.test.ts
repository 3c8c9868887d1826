// The first seed, without its assign-ip script: `primary DigitalOceanIP::FIP` in haresources,
// real hbd on primary and secondary, the DigitalOcean emulator and a router that delivers the
// reserved IP to the droplet it is assigned to (test/helpers/cloud-cluster.ts), and a client
// whose requests to the reserved IP go through that router. The primary's hbd is killed (and,
// separately, the primary is powered off): the emulator records the assignment to secondary and
// the client's answers follow; with auto_failback on it goes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inNs } from '../../src/lib/netns.js';
import { netnsSkip } from '../helpers/netns.js';
import { clock, says, stepper, wall } from '../helpers/cluster.js';
import { FIP, secretLeaks, withCloudCluster, type CloudCluster } from '../helpers/cloud-cluster.js';

const skip = await netnsSkip();
const TOKEN = 'dop_v1_9c4f2b7e0a1d4c3b8e6f5a2d1c0b9a8e7f6d5c4b3a291807';
const METRICS = 'http://127.0.0.1:8694/metrics';

const options = {
  provider: 'digitalocean' as const,
  subnet: '10.231.41',
  clientSubnet: '10.232.41',
  resource: (api: string) => `DigitalOceanIP::${FIP}::api=${api}`,
  tokenFile: 'digitalocean.token',
  token: TOKEN,
  extraHaCf: 'http_listen 127.0.0.1:8694',
};

/** The cluster forms, primary's start assigns the reserved IP to it, the client sees primary. */
async function formed({ c, cloud }: CloudCluster, probe: ReturnType<CloudCluster['c']['probe']>): Promise<void> {
  c.startAll();
  await c.waitStable('the cluster to form with primary owning the group', { 0: 'primary' });
  await cloud.waitRouted(FIP, 'primary');
  assert.deepEqual(cloud.assignments(FIP).map((a) => a.machine), ['primary'], 'the emulator recorded one assignment, to primary');
  await probe.waitFor('primary', says('primary'), 0);
  assert.match(c.logText('primary'), /DigitalOceanIP\[\d+\]: .*info: assigning 203\.0\.113\.10 to this droplet \(3164444\); it points at nothing now/);
}

async function movedTo(w: CloudCluster, probe: ReturnType<CloudCluster['c']['probe']>, node: string, since: number, t: { diagnostic(m: string): void }, what: string): Promise<void> {
  const routed = await w.cloud.waitRouted(FIP, node, since, 20_000);
  const first = await probe.waitFor(node, says(node), since, 20_000);
  const assigned = w.cloud.assignments(FIP).filter((a) => a.at >= since);
  assert.deepEqual(assigned.map((a) => a.machine), [node], `the emulator recorded one assignment since ${what}, to ${node}`);
  const other = node === 'primary' ? 'secondary' : 'primary';
  const last = probe.lastBefore(says(other), first.t);
  t.diagnostic(`${what} at ${clock(since)}: assigned to ${node} +${Math.round(assigned[0]!.at - since)} ms, routed +${Math.round(routed.at - since)} ms, first "Droplet: ${node}" +${Math.round(first.t - since)} ms; client gap ${last ? Math.round(first.t - last.t) : 'n/a'} ms`);
}

test('DigitalOceanIP: kill -9 of the primary\'s hbd moves the reserved IP to secondary, and it comes back (auto_failback on)', { skip }, async (t) => {
  await withCloudCluster(options, async (w) => {
    const { c } = w;
    const step = stepper(t);
    const probe = c.probe(FIP, 100, 500);
    await step('primary\'s start assigns the reserved IP to it; the client sees primary through it', () => formed(w, probe));
    let killedAt = 0;
    await step('kill -9 of primary\'s hbd: secondary assigns the IP to itself; the client follows', async () => {
      killedAt = await c.kill9('primary');
      await movedTo(w, probe, 'secondary', killedAt, t, 'kill -9');
      await c.waitStable('secondary to run the group', { 0: 'secondary' });
    });
    await step('primary\'s hbd again: with auto_failback on the IP is assigned back to primary', async () => {
      const at = wall();
      c.start('primary');
      await movedTo(w, probe, 'primary', at, t, 'hbd restarted');
      await c.waitStable('primary to run the group again', { 0: 'primary' });
    });
    await step('the token is nowhere: logs, /status, /metrics (which has the API calls), hbd\'s command line', async () => {
      assert.deepEqual(await secretLeaks(c, TOKEN, METRICS), []);
      const requests = w.cloud.requests();
      assert.ok(requests.length > 0 && requests.every((r) => r.service === 'metadata' || r.authorized === true), 'every API request carried the token');
    });
    probe.stop();
  });
});

test('DigitalOceanIP: power-off of the primary moves the reserved IP to secondary; power-on brings it back', { skip }, async (t) => {
  await withCloudCluster(options, async (w) => {
    const { c } = w;
    const step = stepper(t);
    const probe = c.probe(FIP, 100, 500);
    await step('primary holds the reserved IP', () => formed(w, probe));
    await step('power-off of primary: secondary takes the IP after deadtime; the client follows', async () => {
      const offAt = await c.powerOff('primary');
      await movedTo(w, probe, 'secondary', offAt, t, 'power-off');
    });
    await step('power-on of primary: the IP goes back to it', async () => {
      const onAt = await c.boot('primary');
      await movedTo(w, probe, 'primary', onAt, t, 'power-on');
      await c.waitStable('primary to run the group again', { 0: 'primary' });
    });
    probe.stop();
  });
});

/** Heartbeats between the servers dropped (udp 694 in), both ways; the cloud stays reachable. */
async function partition(c: CloudCluster['c'], on: boolean): Promise<void> {
  for (const n of c.names) {
    const ns = c.host(n).ns;
    if (on) {
      await inNs(ns, ['nft', 'add', 'table', 'inet', 'hbpart']);
      await inNs(ns, ['nft', 'add', 'chain', 'inet', 'hbpart', 'input', '{ type filter hook input priority 0 ; policy accept ; }']);
      await inNs(ns, ['nft', 'add', 'rule', 'inet', 'hbpart', 'input', 'udp', 'dport', '694', 'drop']);
    } else {
      await inNs(ns, ['nft', 'delete', 'table', 'inet', 'hbpart']);
    }
  }
}

test('DigitalOceanIP: after a healed partition the node that keeps the group assigns the reserved IP to itself again', { skip }, async (t) => {
  await withCloudCluster(options, async (w) => {
    const { c, cloud } = w;
    const step = stepper(t);
    const probe = c.probe(FIP, 100, 500);
    await step('primary holds the reserved IP', () => formed(w, probe));
    await step('a partition between the servers: secondary declares primary dead and takes the IP (primary still holds the group)', async () => {
      const at = wall();
      await partition(c, true);
      await movedTo(w, probe, 'secondary', at, t, 'partition');
      assert.equal((await c.status('primary')).groups[0]?.phases.primary, 'running', 'primary still runs the group on its side');
    });
    await step('the partition heals: secondary gives the group up, primary asks the API and assigns the IP to itself again', async () => {
      const at = wall();
      await partition(c, false);
      await movedTo(w, probe, 'primary', at, t, 'heal');
      await c.waitStable('primary alone to run the group', { 0: 'primary' });
      assert.ok(c.firstLog('primary', /the provider points the address elsewhere although this node holds the group: assigning it here again/, at), c.logText('primary'));
    });
    probe.stop();
  });
});
