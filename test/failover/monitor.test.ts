// Resource monitoring on a namespace LAN (ha.cf `monitor`): a service killed behind a healthy
// node is restarted there; killed again after its restarts are used up, its group moves to the
// other node and the first keeps out of it; `hbctl clear` lets it come back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { holdsFor } from '../../src/lib/wait.js';
import { netnsSkip } from '../helpers/netns.js';
import { BIN, stepper, withCluster, type NsCluster } from '../helpers/cluster.js';

const run = promisify(execFile);
const skip = await netnsSkip();
const VIP = '10.239.7.100';

/**
 * A service in init.d style: a real long-running process (sleep) whose PID is kept in the
 * node's scratch dir. hbd exports the node's config dir (NODE_DIR/ha.d) as HA_DIR.
 */
const SVC = `#!/bin/sh
d="$(dirname "$HA_DIR")"
pidf="$d/svc.pid"
[ "$1" = status ] || echo "$1" >> "$d/svc.log"
case "$1" in
  start) setsid sleep 100000 </dev/null >/dev/null 2>&1 & echo $! > "$pidf"; echo "svc started"; exit 0 ;;
  stop) if [ -f "$pidf" ]; then kill "$(cat "$pidf")" 2>/dev/null; rm -f "$pidf"; fi; exit 0 ;;
  status) if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then echo "svc is running"; else echo "svc is stopped"; fi; exit 0 ;;
  *) exit 1 ;;
esac
`;

/** The service's PID on a node, when its pid file names a live process. */
function svcPid(c: NsCluster, node: string): number | null {
  const pid = Number(c.readFile(node, 'svc.pid').trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/** Kills the service behind hbd's back (the test's own process: hbd started it for this test). */
function killSvc(c: NsCluster, node: string): number {
  const pid = svcPid(c, node);
  assert.ok(pid, `the service runs on ${node}`);
  process.kill(pid, 'SIGKILL');
  return pid;
}

const calls = (c: NsCluster, node: string): string[] => c.readFile(node, 'svc.log').split('\n').filter(Boolean);

test('a monitored service killed behind a healthy node is restarted; killed again it fails over; hbctl clear lets it come back', { skip }, async (t) => {
  const opts = {
    label: 'mon',
    subnet: '10.239.7',
    haresources: `primary IPaddr::${VIP}/24/eth0 svc`,
    scripts: [{ name: 'svc', dir: 'init.d' as const, body: SVC }],
    extraHaCf: 'monitor svc interval=300ms failures=2 restarts=1 window=60s keepout=forever',
    web: false,
    client: null,
  };
  await withCluster(opts, async (c) => {
    const step = stepper(t);
    await step('the group runs on primary with its service', async () => {
      c.startAll();
      await c.waitStable('the group on primary', { 0: 'primary' });
      assert.ok(svcPid(c, 'primary'), 'the service runs on primary');
      assert.deepEqual(await c.holders(VIP), ['primary']);
    });
    await step('the service is killed: primary restarts it in place; the group never leaves primary', async () => {
      const old = killSvc(c, 'primary');
      await c.waitFor('primary to restart the service', () => c.firstLog('primary', /Restarting resource svc of resource group/), 10_000);
      await c.waitFor('a new service process on primary', () => {
        const p = svcPid(c, 'primary');
        return p !== null && p !== old;
      }, 10_000);
      await c.waitStable('the group still on primary', { 0: 'primary' });
      assert.deepEqual(calls(c, 'primary'), ['start', 'stop', 'start'], 'primary: the first start, then the restart (stop, start)');
      assert.deepEqual(calls(c, 'secondary'), [], 'secondary never touched the service');
      assert.deepEqual(await c.holders(VIP), ['primary'], 'the VIP (left of the service) stayed on primary');
      assert.match(c.logText('primary'), /monitor: .*svc status says svc is not running/, 'the failed check is logged with its command line');
      const st = await c.status('primary');
      assert.equal(st.groups[0]?.monitor?.restarts, 1);
      assert.equal(st.groups[0]?.monitor?.keptOut, false);
      assert.equal(Object.entries(st.counters).find(([k]) => k.startsWith('monitor_restarts{'))?.[1], 1);
    });
    await step('killed again with its restarts used up: the group moves to secondary; primary keeps out of it', async () => {
      killSvc(c, 'primary');
      await c.waitStable('the group on secondary', { 0: 'secondary' }, 20_000);
      assert.ok(svcPid(c, 'secondary'), 'the service runs on secondary');
      assert.equal(svcPid(c, 'primary'), null, 'and no longer on primary');
      assert.deepEqual(await c.holders(VIP), ['secondary']);
      const st = await c.status('primary');
      assert.equal(st.groups[0]?.monitor?.keptOut, true);
      assert.equal(st.groups[0]?.monitor?.keptOutForMs, null, 'keepout=forever: until cleared');
      const text = await run(process.execPath, [BIN.hbctl, 'status', '--socket', c.socket('primary')]);
      assert.match(text.stdout, /monitor here: .*KEEPS OUT of this group until cleared \("hbctl clear GROUP" lets it back\)/, 'hbctl status says so, and the way out');
      assert.deepEqual((await c.status('secondary')).groups[0]?.heldOff, ['primary'], 'secondary sees primary held off');
      // auto_failback on and primary preferred and healthy, yet it stays out.
      await holdsFor(2000, async () => assert.ok(await c.stable({ 0: 'secondary' }), 'the group stays on secondary'), 200);
    });
    await step('hbctl clear on primary: the group comes back to its preferred node', async () => {
      const bad = await run(process.execPath, [BIN.hbctl, 'clear', 'nosuch', '--socket', c.socket('primary')]).catch((e: { code: number; stderr: string }) => e);
      assert.equal((bad as { code: number }).code, 1);
      assert.match((bad as { stderr: string }).stderr, /E_UNKNOWN_GROUP/);
      const { stdout } = await run(process.execPath, [BIN.hbctl, 'clear', 'svc', '--socket', c.socket('primary')]);
      assert.match(stdout, /^clear primary IPaddr::10\.239\.7\.100\/24\/eth0 svc: accepted/);
      await c.waitStable('the group back on primary', { 0: 'primary' }, 20_000);
      assert.ok(svcPid(c, 'primary'));
      assert.deepEqual(await c.holders(VIP), ['primary']);
      assert.equal((await c.status('primary')).groups[0]?.monitor?.keptOut, false);
    });
  });
});
