// Resource groups on a namespace LAN: two VIPs in one group (seed 003), two groups with
// different preferred nodes (active/active), and a group whose init script fails to start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inNs } from '../../src/lib/netns.js';
import { holdsFor } from '../../src/lib/wait.js';
import { netnsSkip } from '../helpers/netns.js';
import { says, stepper, wall, withCluster, type NsCluster } from '../helpers/cluster.js';

const skip = await netnsSkip();
const [V100, V101, V102] = ['10.231.1.100', '10.231.1.101', '10.231.1.102'];

/** The client asks each VIP once with curl; returns who answered. */
async function answers(c: NsCluster, vips: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const v of vips) out[v] = ((await c.curl(v)) ?? '(no answer)').replace(/^Droplet: (\w+),.*$/, '$1');
  return out;
}

/** Labels of the addresses on a host's eth0, e.g. {"10.231.1.100": "eth0:0"}. */
async function labels(c: NsCluster, host: string): Promise<Record<string, string>> {
  const { stdout } = await inNs(c.host(host).ns, ['ip', '-json', '-4', 'addr', 'show', 'dev', 'eth0']);
  const info = (JSON.parse(stdout) as { addr_info?: { local: string; label?: string }[] }[])[0]?.addr_info ?? [];
  return Object.fromEntries(info.map((a) => [a.local, a.label ?? 'eth0']));
}

test('two VIPs in one group (seed 003) and two groups with different preferred nodes (active/active)', { skip }, async (t) => {
  const haresources = [
    '# seed 003: twin1 IPaddr::192.168.252.205 IPaddr::192.168.252.206 (bare addresses: the interface is found by subnet)',
    `primary IPaddr::${V100} IPaddr::${V101}`,
    `secondary IPaddr2::${V102}/24/eth0`,
  ].join('\n');
  await withCluster({ haresources, autoFailback: 'on' }, async (c) => {
    const step = stepper(t);
    await step('the cluster forms: both VIPs of the first group on primary, the second group on secondary', async () => {
      c.startAll();
      await c.waitStable('both groups on their preferred nodes', { 0: 'primary', 1: 'secondary' });
      assert.deepEqual(await c.holders(V100), ['primary']);
      assert.deepEqual(await c.holders(V101), ['primary']);
      assert.deepEqual(await c.holders(V102), ['secondary']);
      const l = await labels(c, 'primary');
      assert.deepEqual([l[V100], l[V101]].sort(), ['eth0:0', 'eth0:1'], 'each VIP has its own eth0:N label');
      assert.deepEqual(await answers(c, [V100, V101, V102]), { [V100]: 'primary', [V101]: 'primary', [V102]: 'secondary' });
    });
    await step('secondary\'s hbd stops (SIGTERM): its group moves to primary at once, without waiting for deadtime', async () => {
      const at = wall();
      assert.equal(await c.term('secondary'), 0, 'hbd exits 0 after a graceful stop');
      await c.waitStable('primary to run both groups', { 0: 'primary', 1: 'primary' });
      t.diagnostic(`graceful stop of secondary: second group running on primary ${Math.round(wall() - at)} ms after SIGTERM (deadtime is 1000 ms)`);
      assert.deepEqual(await c.holders(V102), ['primary'], 'secondary released its VIP before leaving');
      assert.deepEqual(await answers(c, [V100, V101, V102]), { [V100]: 'primary', [V101]: 'primary', [V102]: 'primary' });
    });
    await step('secondary\'s hbd starts again: its group fails back to it; the first group stays on primary', async () => {
      c.start('secondary');
      await c.waitStable('each group on its preferred node again', { 0: 'primary', 1: 'secondary' });
      assert.deepEqual(await c.holders(V102), ['secondary']);
      await c.waitFor('the client to see secondary on the second group\'s VIP', async () => (await c.curl(V102))?.startsWith('Droplet: secondary,'), 5000);
      assert.deepEqual(await answers(c, [V100, V101]), { [V100]: 'primary', [V101]: 'primary' });
    });
    await step('kill -9 of primary\'s hbd: both VIPs of its group move to secondary together; the client sees secondary on both', async () => {
      await c.waitArpQuiet('primary');
      const probes = [c.probe(V100), c.probe(V101)];
      await Promise.all(probes.map((p) => p.waitFor('primary', says('primary'), 0)));
      const killedAt = await c.kill9('primary');
      await c.waitFor('secondary to run both groups', async () => (await c.status('secondary')).groups.every((g) => g.owner === 'secondary'), 10_000);
      const firsts = await Promise.all(probes.map((p) => p.waitFor('secondary', says('secondary'), killedAt, 5000)));
      for (const v of [V100, V101]) assert.equal((await c.neigh(v))?.lladdr, c.host('secondary').mac, `the client's neighbour entry for ${v} is secondary's MAC`);
      t.diagnostic(`kill -9 of primary: client sees secondary on ${V100} +${Math.round(firsts[0]!.t - killedAt)} ms, on ${V101} +${Math.round(firsts[1]!.t - killedAt)} ms`);
      for (const p of probes) p.stop();
    });
    await step('primary reboots: the first group (both VIPs) fails back to it; the client sees primary on both', async () => {
      await c.powerOff('primary');
      const bootAt = await c.boot('primary');
      await c.waitStable('each group on its preferred node again', { 0: 'primary', 1: 'secondary' });
      await c.waitFor('the client to see primary on both VIPs again', async () => {
        const a = await answers(c, [V100, V101]);
        return a[V100] === 'primary' && a[V101] === 'primary';
      }, 5000);
      t.diagnostic(`after the reboot, client sees primary on both VIPs ${Math.round(wall() - bootAt)} ms after hbd started`);
      assert.deepEqual(await c.holders(V100), ['primary']);
      assert.deepEqual(await c.holders(V101), ['primary']);
      assert.deepEqual(await c.holders(V102), ['secondary']);
    });
  });
});

/** An init script whose start fails on a node where NODE_DIR/fail-start exists. */
const FAILSVC = `#!/bin/sh
# A service in init.d style whose start fails on nodes marked by the test. hbd exports the
# node's config dir (NODE_DIR/ha.d) as HA_DIR; nothing else of the test's environment.
d="$(dirname "$HA_DIR")"
echo "$HA_CURHOST $1" >> "$d/failsvc.log"
case "$1" in
  start)
    if [ -e "$d/fail-start" ]; then echo "failsvc: cannot start (the test made it fail)"; exit 1; fi
    touch "$d/failsvc.running"; echo "failsvc started"; exit 0 ;;
  stop) rm -f "$d/failsvc.running"; exit 0 ;;
  status) if [ -e "$d/failsvc.running" ]; then echo "failsvc is running"; else echo "failsvc is stopped"; fi; exit 0 ;;
  *) exit 1 ;;
esac
`;

/** The start/stop calls failsvc saw on a node, in order (status probes left out). */
function calls(c: NsCluster, node: string): string[] {
  return c
    .readFile(node, 'failsvc.log')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(`${node} `, ''))
    .filter((a) => a !== 'status');
}

interface Sample {
  at: number;
  host: string;
  vips: string[];
}

/**
 * Samples which VIPs each host has, as fast as `ip` answers, until stopped. Reads secondary
 * before primary in every round, so "secondary had it, then primary still had it" is a real
 * overlap and never an artefact of the reading order.
 */
function sampler(c: NsCluster, vips: string[]): { samples: Sample[]; stop: () => Promise<void> } {
  const samples: Sample[] = [];
  let running = true;
  const round = async () => {
    for (const host of ['secondary', 'primary']) {
      const at = wall();
      try {
        const have = (await c.addresses(host)).filter((a) => vips.includes(a));
        samples.push({ at, host, vips: have });
      } catch {
        /* namespace going away */
      }
    }
  };
  const loop = (async () => {
    while (running) await round();
  })();
  return {
    samples,
    // One more round once stopped: the state the test waited for is always among the samples,
    // however slowly a busy machine ran the rounds before it.
    stop: async () => {
      running = false;
      await loop;
      await round();
    },
  };
}

const groupLine = `primary IPaddr::${V100}/24/eth0 failsvc IPaddr::${V101}/24/eth0`;

test('an init script that fails to start on the preferred node: the group ends up on the other node, never half-started', { skip }, async (t) => {
  await withCluster({ haresources: groupLine, scripts: [{ name: 'failsvc', dir: 'init.d', body: FAILSVC }] }, async (c) => {
    writeFileSync(join(c.nodeDir('primary'), 'fail-start'), '');
    const s = sampler(c, [V100, V101]);
    try {
      c.startAll();
      await c.waitFor('primary to try and fail', () => c.firstLog('primary', /Resource failsvc failed to start/), 10_000);
      await c.waitStable('the group to run on secondary', { 0: 'secondary' });
    } finally {
      await s.stop();
    }
    const rolledBack = c.firstLog('primary', /stopped after its failed start/);
    assert.ok(rolledBack, 'primary logs that it stopped the group after the failed start');
    assert.deepEqual(await c.holders(V100), ['secondary'], `${V100} is on secondary only`);
    assert.deepEqual(await c.holders(V101), ['secondary'], `${V101} is on secondary only`);
    assert.deepEqual(calls(c, 'primary'), ['start', 'stop'], 'primary: the failed start, then its stop (the rollback includes the failed resource)');
    assert.deepEqual(calls(c, 'secondary'), ['start'], 'secondary: one successful start');
    assert.match(c.logText('primary'), new RegExp(`ip addr del ${V100.replace(/\./g, '\\.')}/24 dev eth0`), 'primary removed the VIP it had added before the failing script');
    const st = await c.status('primary');
    assert.equal(st.groups[0]?.phases.primary, 'stopped', 'primary reports the group stopped');
    // Never half-started: the VIP after the failing script was never configured on primary,
    // and primary's copy of the first VIP was gone before secondary added its own.
    const onPrimary = (v: string) => s.samples.filter((x) => x.host === 'primary' && x.vips.includes(v));
    assert.equal(onPrimary(V101).length, 0, `${V101} (after the failing script) was never configured on primary`);
    const firstOnSecondary = s.samples.find((x) => x.host === 'secondary' && x.vips.includes(V100));
    assert.ok(firstOnSecondary, 'secondary was seen holding the VIP');
    const overlap = onPrimary(V100).filter((x) => x.at > firstOnSecondary.at);
    assert.equal(overlap.length, 0, `${V100} was never on both hosts at once`);
    t.diagnostic(`${s.samples.length} address samples; ${V100} seen on primary in ${onPrimary(V100).length} of them (its failed start), never after secondary took the group`);
  });
});

test('an init script that fails to start on every node: the group runs nowhere, and no VIP is left anywhere', { skip }, async (t) => {
  await withCluster({ haresources: groupLine, scripts: [{ name: 'failsvc', dir: 'init.d', body: FAILSVC }] }, async (c) => {
    for (const n of c.names) writeFileSync(join(c.nodeDir(n), 'fail-start'), '');
    const s = sampler(c, [V100, V101]);
    try {
      c.startAll();
      for (const n of c.names) await c.waitFor(`${n} to try and fail`, () => c.firstLog(n, /stopped after its failed start/), 10_000);
      await c.waitStable('the group to run nowhere', { 0: null });
      // It must stay so (each node holds off after its failed start): watch for 2 s.
      await holdsFor(2000, async () => assert.ok(await c.stable({ 0: null }), 'the group stays stopped everywhere'), 100);
    } finally {
      await s.stop();
    }
    for (const n of c.names) {
      assert.deepEqual(await c.holders(V100), [], `${V100} is configured nowhere`);
      assert.deepEqual(calls(c, n), ['start', 'stop'], `${n}: one failed start, then its rollback`);
      assert.equal((await c.status(n)).groups[0]?.owner, null, `${n} sees no owner`);
    }
    assert.equal(s.samples.filter((x) => x.vips.includes(V101)).length, 0, `${V101} (after the failing script) was never configured anywhere`);
    const both = s.samples.filter((x) => x.vips.includes(V100));
    t.diagnostic(`${s.samples.length} address samples; ${V100} seen in ${both.length} (during the two failed starts), on hosts ${[...new Set(both.map((x) => x.host))].join(', ')}`);
  });
});
