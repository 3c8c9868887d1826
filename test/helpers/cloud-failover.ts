// The kill -9 and power-off scenarios every floating-IP provider shares (DigitalOcean and
// Hetzner; AWS has two addresses per group and its own): the cluster forms with the address on
// primary, it moves to secondary and, with auto_failback on, back; the emulator records one
// assignment each time and the client's answers follow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clock, says, stepper, wall } from './cluster.js';
import { FIP, secretLeaks, withCloudCluster, type CloudCluster, type CloudClusterOptions } from './cloud-cluster.js';

export interface FloatingIpCase {
  /** The agent's name in haresources and in its log lines. */
  agent: string;
  /** The provider's words for the address and for a machine. */
  address: string;
  machine: string;
  options: CloudClusterOptions;
  /** Where /metrics answers on each node (the secret must not be there). */
  metricsUrl: string;
  skip: string | false;
}

type Probe = ReturnType<CloudCluster['c']['probe']>;

/** The cluster forms, primary's start assigns the address to it, the client sees primary. */
export async function formed({ c, cloud }: CloudCluster, probe: Probe, k: Pick<FloatingIpCase, 'agent' | 'machine'>): Promise<void> {
  c.startAll();
  await c.waitStable('the cluster to form with primary owning the group', { 0: 'primary' });
  await cloud.waitRouted(FIP, 'primary');
  assert.deepEqual(cloud.assignments(FIP).map((a) => a.machine), ['primary'], 'the emulator recorded one assignment, to primary');
  await probe.waitFor('primary', says('primary'), 0);
  assert.match(c.logText('primary'), new RegExp(`${k.agent}\\[\\d+\\]: .*info: assigning 203\\.0\\.113\\.10 to this ${k.machine} \\(3164444\\); it points at nothing now`));
}

export async function movedTo(w: CloudCluster, probe: Probe, node: string, since: number, t: { diagnostic(m: string): void }, what: string): Promise<void> {
  const routed = await w.cloud.waitRouted(FIP, node, since, 20_000);
  const first = await probe.waitFor(node, says(node), since, 20_000);
  const assigned = w.cloud.assignments(FIP).filter((a) => a.at >= since);
  assert.deepEqual(assigned.map((a) => a.machine), [node], `the emulator recorded one assignment since ${what}, to ${node}`);
  const other = node === 'primary' ? 'secondary' : 'primary';
  const last = probe.lastBefore(says(other), first.t);
  t.diagnostic(`${what} at ${clock(since)}: assigned to ${node} +${Math.round(assigned[0]!.at - since)} ms, routed +${Math.round(routed.at - since)} ms, first "Droplet: ${node}" +${Math.round(first.t - since)} ms; client gap ${last ? Math.round(first.t - last.t) : 'n/a'} ms`);
}

/** Registers the kill -9 and the power-off test of one provider. */
export function floatingIpFailoverTests(k: FloatingIpCase): void {
  test(`${k.agent}: kill -9 of the primary's hbd moves the ${k.address} to secondary, and it comes back (auto_failback on)`, { skip: k.skip }, async (t) => {
    await withCloudCluster(k.options, async (w) => {
      const { c } = w;
      const step = stepper(t);
      const probe = c.probe(FIP, 100, 500);
      await step(`primary's start assigns the ${k.address} to it; the client sees primary through it`, () => formed(w, probe, k));
      await step('kill -9 of primary\'s hbd: secondary assigns the IP to itself; the client follows', async () => {
        const killedAt = await c.kill9('primary');
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
        assert.deepEqual(await secretLeaks(c, k.options.token, k.metricsUrl), []);
        const requests = w.cloud.requests();
        assert.ok(requests.length > 0 && requests.every((r) => r.service === 'metadata' || r.authorized === true), 'every API request carried the token');
      });
      probe.stop();
    });
  });

  test(`${k.agent}: power-off of the primary moves the ${k.address} to secondary; power-on brings it back`, { skip: k.skip }, async (t) => {
    await withCloudCluster(k.options, async (w) => {
      const { c } = w;
      const step = stepper(t);
      const probe = c.probe(FIP, 100, 500);
      await step(`primary holds the ${k.address}`, () => formed(w, probe, k));
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
}
