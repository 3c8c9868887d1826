// Fencing on a namespace LAN (issue 16): a fence-agents-style script (key=value on stdin, as
// `fence_*` programs read them) that powers off a namespace host: every process in it killed,
// its cable pulled. secondary stops hearing primary (a one-way cut: primary still hears it, so
// only secondary fences): the takeover waits for the fence; a failing fence blocks it and is
// retried, logged CRIT; a hanging one times out (fence_timeout); once the fence succeeds,
// secondary takes the group over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { netnsSkip } from '../helpers/netns.js';
import { says, stepper, wall, withCluster } from '../helpers/cluster.js';
import { partition } from '../nemesis/net-faults.js';
import { sleep } from '../../src/lib/wait.js';

const skip = await netnsSkip();
const SUBNET = '10.231.63';
const VIP = `${SUBNET}.100`;

/** The agent: reads action= and plug= from stdin, does what `mode` says, powers the plug's host off on ok. */
function agentScript(dir: string, ns: Record<string, string>, iface: string): string {
  const cases = Object.entries(ns).map(([host, n]) => `  ${host}) ns=${n} ;;`).join('\n');
  return `#!/bin/sh
# fence_qs: a fence agent for the test's namespace hosts (fence-agents' stdin interface).
while IFS='=' read -r key value; do
  case "$key" in action) action=$value ;; plug) plug=$value ;; esac
done
echo "$action $plug $(cat ${dir}/mode)" >> ${dir}/calls
case "$(cat ${dir}/mode)" in
  fail) echo "fence_qs: device refused"; exit 1 ;;
  hang) exec sleep 600 ;;
esac
case "$plug" in
${cases}
  *) echo "fence_qs: unknown plug $plug"; exit 1 ;;
esac
ip -n "$ns" link set ${iface} down
for pid in $(ip netns pids "$ns"); do kill -9 "$pid"; done
echo "fence_qs: $plug is off"
exit 0
`;
}

/** The agent's own directory: its program, its mode, the calls it got. */
const dir = mkdtempSync(join(tmpdir(), 'qs-fence-'));
const calls = () => readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n').filter(Boolean);
const setMode = (mode: 'ok' | 'fail' | 'hang') => writeFileSync(join(dir, 'mode'), `${mode}\n`);

test('fencing: the takeover waits for the fence; a failing fence blocks it and is retried; a hanging one times out', { skip }, async (t) => {
  const agent = join(dir, 'fence_qs');
  const opts = { label: 'qs', subnet: SUBNET, haresources: `primary IPaddr2::${VIP}/24/eth0`, autoFailback: 'on' as const, extraHaCf: `fence_agent * ${agent}\nfence_timeout 2` };
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await withCluster(opts, async (c) => {
    const step = stepper(t);
    writeFileSync(agent, agentScript(dir, { primary: c.host('primary').ns, secondary: c.host('secondary').ns }, c.host('primary').iface));
    chmodSync(agent, 0o755);
    writeFileSync(join(dir, 'calls'), '');
    setMode('fail');
    const probe = c.probe(VIP);
    await step('the cluster forms with fencing configured: no quorum-source warning', async () => {
      c.startAll();
      await c.waitStable('primary to own the group', { 0: 'primary' });
      for (const n of c.names) assert.doesNotMatch(c.logText(n), /no quorum source/);
    });
    await step('secondary stops hearing primary; the fence fails: CRIT, retried, and secondary does not take over', async () => {
      await partition(c.lan, [{ from: 'primary', to: 'secondary' }]);
      await c.waitFor('a second fence attempt', () => calls().length >= 2, 20_000);
      assert.match(c.logText('secondary'), /STONITH of primary failed \(attempt 1\)/);
      assert.match(c.logText('secondary'), /Resetting node primary with \[\S*fence_qs\]/);
      assert.deepEqual(calls()[0], 'reboot primary fail', 'action=reboot and plug=primary on stdin');
      assert.deepEqual(await c.holders(VIP), ['primary'], 'no takeover on a failed fence');
      assert.equal((await c.status('secondary')).groups[0]?.phases.secondary ?? 'stopped', 'stopped');
    });
    await step('the fence hangs: it times out after fence_timeout and counts as failed; still no takeover', async () => {
      setMode('hang');
      const before = calls().length;
      await c.waitFor('a hanging attempt to time out', () => /timed out after 2000 ms \(fence_timeout\)/.test(c.logText('secondary')), 20_000);
      assert.ok(calls().length > before);
      assert.deepEqual(await c.holders(VIP), ['primary']);
    });
    await step('the fence succeeds: primary is powered off, and only then secondary takes the group over', async () => {
      setMode('ok');
      const at = wall();
      await c.waitFor('secondary to run the group', async () => (await c.status('secondary')).groups[0]?.owner === 'secondary', 30_000);
      const reset = c.firstLog('secondary', /node primary now reset\./, at);
      const taking = c.firstLog('secondary', /Taking over resource group|Acquiring resource group/, at);
      assert.ok(reset && taking && reset.at <= taking.at, 'the takeover began after the fence reported success');
      assert.ok(calls().some((l) => l === 'reboot primary ok'));
      await probe.waitFor('secondary', says('secondary'), at, 10_000);
      assert.deepEqual((await c.holders(VIP)).filter((h) => h !== 'primary'), ['secondary']);
      await sleep(200);
    });
    probe.stop();
  });
});
