// The address guard holds exactly what this node holds, whatever the agents, and keeps its
// promise under the stop sequence systemd uses. Each case was a way the guard itself caused
// the split brain it exists to prevent (or cost a whole deadtime):
//   - a VIP found already configured was never guarded (start was skipped);
//   - with the same IP also on `lo` (LVS-DR), the guard removed the copy on `lo` instead;
//   - a group of scripts only got no guard, so no last words;
//   - systemd's control-group stop sends SIGTERM to the guard too, as hbd dies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { netnsSkip } from '../helpers/netns.js';
import { inNs } from '../../src/lib/netns.js';
import { sleep } from '../../src/lib/wait.js';
import { AddressMonitor, heldByTwo } from '../helpers/address-monitor.js';
import { stepper, wall, withCluster, type NsCluster, type NsClusterOptions } from '../helpers/cluster.js';

const skip = await netnsSkip();
const VIP = '10.231.1.100';
// Long enough that only the last words can explain a takeover within the test's waits.
const DEADTIME_S = 10;
const TIMERS = { keepalive: '200ms', warntime: '5', deadtime: String(DEADTIME_S), initdead: String(2 * DEADTIME_S), web: false, client: null } as const;

/** Whether the VIP was ever on both hosts from now until stop(), by the kernel's address events. */
async function watchBoth(c: NsCluster): Promise<{ stop(): Promise<boolean> }> {
  // The holders now, then every change: a host that holds it already is held from the start.
  // Read before the fault, not beside it: with the guard quick to say the last words, a
  // survivor could take the VIP before a reading still under way got to it, and be counted as
  // holding it from the start, next to the loser.
  const monitors = c.names.map((n) => new AddressMonitor(c.lan, n, VIP));
  await Promise.all(monitors.map((m) => m.ready()));
  const held = await c.holders(VIP);
  return {
    async stop() {
      // Let the last events arrive before reading them.
      await sleep(200);
      const end = Date.now();
      for (const m of monitors) m.stop();
      return heldByTwo(monitors.flatMap((m) => m.holdings(end, held.includes(m.host))));
    },
  };
}

async function guardPid(c: NsCluster, host: string): Promise<number> {
  for (const pid of await c.pidsIn(host)) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('heartbeat: address guard')) return pid;
    } catch {
      /* gone meanwhile */
    }
  }
  throw new Error(`no address guard runs on ${host}`);
}

const onLo = async (c: NsCluster, host: string) => (await inNs(c.host(host).ns, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'lo'])).stdout.includes(` ${VIP}/`);

async function killAndExpectLastWords(c: NsCluster, t: { diagnostic(s: string): void }): Promise<number> {
  const watch = await watchBoth(c);
  const killedAt = await c.kill9('primary');
  await c.waitFor('secondary to hold the group after the last words', async () => (await c.status('secondary')).groups[0]?.owner === 'secondary', 5000);
  assert.equal(await watch.stop(), false, 'the VIP was never on both hosts');
  assert.ok(c.firstLog('secondary', /hbd on primary died: its address guard removed its addresses and said so/, killedAt), 'the last words arrived');
  t.diagnostic(`secondary ran the group ${Math.round(wall() - killedAt)} ms after kill -9 (deadtime ${DEADTIME_S * 1000} ms)`);
  return killedAt;
}

const vipCluster = (extra: Partial<NsClusterOptions> = {}): NsClusterOptions => ({ haresources: `primary IPaddr::${VIP}/24/eth0`, autoFailback: 'off', ...TIMERS, ...extra });

test('a VIP already configured when hbd starts is removed before it joins; the copy it then runs is guarded', { skip }, async (t) => {
  await withCluster(vipCluster(), async (c) => {
    const step = stepper(t);
    await step('the VIP is on primary before hbd starts (left by an earlier run)', async () => {
      await inNs(c.host('primary').ns, ['ip', 'addr', 'add', `${VIP}/24`, 'dev', 'eth0']);
      c.startAll();
      await c.waitStable('primary owns the group', { 0: 'primary' });
      assert.ok(c.firstLog('primary', /10\.231\.1\.100\/24 on eth0 .* is configured although hbd is only starting/), 'hbd says it found the address and removes it');
      assert.deepEqual(await c.holders(VIP), ['primary']);
    });
    await step('kill -9 of hbd: the guard removes it, so the survivor never shares it', async () => {
      const killedAt = await killAndExpectLastWords(c, t);
      assert.ok(c.firstLog('primary', /hbd guard: hbd died; removed 10\.231\.1\.100 from eth0/, killedAt));
      assert.deepEqual(await c.holders(VIP), ['secondary']);
    });
  });
});

test('the same IP on lo (LVS-DR): the guard removes the copy on the LAN interface, the one hbd runs, and leaves lo alone', { skip }, async (t) => {
  await withCluster(vipCluster(), async (c) => {
    const step = stepper(t);
    await step('primary has the VIP as a /32 on lo, and runs it on eth0', async () => {
      await inNs(c.host('primary').ns, ['ip', 'addr', 'add', `${VIP}/32`, 'dev', 'lo']);
      c.startAll();
      await c.waitStable('primary owns the group', { 0: 'primary' });
      assert.deepEqual(await c.holders(VIP), ['primary']);
      assert.equal(await onLo(c, 'primary'), true);
    });
    await step('kill -9 of hbd: eth0\'s copy is gone, lo\'s stays, the survivor holds the VIP alone', async () => {
      const killedAt = await killAndExpectLastWords(c, t);
      assert.ok(c.firstLog('primary', /hbd guard: hbd died; removed 10\.231\.1\.100 from eth0/, killedAt));
      assert.deepEqual(await c.holders(VIP), ['secondary']);
      assert.equal(await onLo(c, 'primary'), true, 'the copy on lo is not hbd\'s to remove');
    });
  });
});

const SVC = {
  name: 'svc',
  dir: 'resource.d' as const,
  // Its state file beside the node's config dir (hbd gives scripts $HA_DIR, nothing of the test's environment).
  body: '#!/bin/sh\nf="$(dirname "$HA_DIR")/svc.on"\ncase "$1" in\n  start) touch "$f" ;;\n  stop) rm -f "$f" ;;\n  status) if [ -e "$f" ]; then echo running; else echo stopped; fi ;;\nesac\nexit 0\n',
};

test('a group of scripts only gets last words too: a crashed hbd costs no deadtime', { skip }, async (t) => {
  await withCluster({ haresources: 'primary svc', autoFailback: 'off', ...TIMERS, scripts: [SVC] }, async (c) => {
    c.startAll();
    await c.waitStable('primary owns the group', { 0: 'primary' });
    const killedAt = await killAndExpectLastWords(c, t);
    assert.ok(c.firstLog('primary', /hbd guard: told the peers that hbd died/, killedAt));
  });
});

test('systemd\'s control-group stop: SIGTERM to the guard as hbd dies does not stop it; SIGTERM to both is a clean handover', { skip }, async (t) => {
  await withCluster(vipCluster(), async (c) => {
    const step = stepper(t);
    await step('kill -9 of hbd, then SIGTERM to its guard (as the unit stops): the guard still removes the VIP and says the last words', async () => {
      c.startAll();
      await c.waitStable('primary owns the group', { 0: 'primary' });
      const guard = await guardPid(c, 'primary');
      const watch = await watchBoth(c);
      const killedAt = await c.kill9('primary');
      process.kill(guard, 'SIGTERM');
      await c.waitFor('secondary to hold the VIP', async () => (await c.holders(VIP)).includes('secondary'), 5000);
      assert.equal(await watch.stop(), false, 'the VIP was never on both hosts');
      assert.deepEqual(await c.holders(VIP), ['secondary']);
      assert.ok(c.firstLog('primary', /hbd guard: told the peers that hbd died/, killedAt));
      assert.ok(c.firstLog('secondary', /hbd on primary died/, killedAt));
    });
    await step('primary back; then SIGTERM to secondary\'s hbd and guard at once: hbd stops the group in order and says goodbye; the guard removes nothing early', async () => {
      c.start('primary');
      await c.waitFor('secondary to see primary active', async () => (await c.status('secondary')).nodes.find((n) => n.name === 'primary')?.status === 'active', 10_000);
      const guard = await guardPid(c, 'secondary');
      const watch = await watchBoth(c);
      const at = wall();
      process.kill(guard, 'SIGTERM');
      assert.equal(await c.term('secondary'), 0);
      await c.waitFor('primary to hold the VIP', async () => (await c.holders(VIP)).includes('primary'), 5000);
      assert.equal(await watch.stop(), false, 'the VIP was never on both hosts');
      assert.ok(c.firstLog('primary', /Received shutdown notice from 'secondary'/, at), 'a goodbye, not last words');
      assert.equal(c.firstLog('secondary', /hbd guard: (hbd died|told the peers)/, at), undefined, 'the guard did nothing on its own');
      assert.ok(c.firstLog('secondary', /Releasing resource group/, at), 'hbd released the group itself');
    });
  });
});
