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
import { stepper, wall } from '../helpers/cluster.js';
import { FIP, withCloudCluster, type CloudCluster } from '../helpers/cloud-cluster.js';
import { floatingIpFailoverTests, formed, movedTo } from '../helpers/cloud-failover.js';

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
const k = { agent: 'DigitalOceanIP', address: 'reserved IP', machine: 'droplet', options, metricsUrl: METRICS, skip };

floatingIpFailoverTests(k);

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
    await step('primary holds the reserved IP', () => formed(w, probe, k));
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
