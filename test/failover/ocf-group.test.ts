// Resource groups of real OCF agents (Debian's resource-agents) on a namespace LAN, driven by
// real hbd daemons: a VIP, a file system on a loop device and a Dummy service fail over (stop,
// kill -9) and back; a start returning an OCF error is rolled back and named; an IPv6 VIP follows its
// group after kill -9 of the owner's hbd, removed by the address guard and announced to the
// client by unsolicited neighbour advertisements; a monitored OCF resource found stopped by its
// own monitor is restarted in place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inNs } from '../../src/lib/netns.js';
import { pollUntil } from '../../src/lib/wait.js';
import { SEND_UA } from '../../src/agents/ipaddr.js';
import { netnsSkip } from '../helpers/netns.js';
import { stepper, wall, withCluster, type NsCluster } from '../helpers/cluster.js';
import { RESOURCE_AGENTS } from '../helpers/resource-specs.js';
import { toolsMissingReason } from '../helpers/tools.js';
import { ext4LoopDevice, LOOP_DEVICE_TOOLS, releaseLoopDevice } from '../helpers/loop-device.js';

const run = promisify(execFile);
const SUBNET = '10.231.6';
const VIP = `${SUBNET}.100`;

async function skipReason(extra: { cmd: string; pkg: string }[] = []): Promise<string | false> {
  const ns = await netnsSkip();
  if (ns) return ns;
  const tools = toolsMissingReason([...RESOURCE_AGENTS, ...extra]);
  if (tools) console.log(`# skipped: ${tools}`);
  return tools ?? false;
}

/** What a node's hbd (and so its agents) has mounted at `dir`: ip netns exec gave it its own mount namespace. */
function mountedAt(c: NsCluster, node: string, dir: string): string | null {
  const pid = c.hbdPid(node);
  if (!pid) return null;
  const line = readFileSync(`/proc/${pid}/mounts`, 'utf8').split('\n').find((l) => l.split(' ')[1] === dir);
  return line?.split(' ')[0] ?? null;
}

/** Whether `path` exists as the node's hbd sees it (inside its mount namespace). */
function seenBy(c: NsCluster, node: string, path: string): boolean {
  const pid = c.hbdPid(node);
  return !!pid && existsSync(`/proc/${pid}/root${path}`);
}

test('IPaddr2 + Filesystem (loop device) + ocf:heartbeat:Dummy fail over and back with the real agents doing the work', async (t) => {
  const skip = await skipReason(LOOP_DEVICE_TOOLS);
  if (skip) return t.skip(skip);
  const dir = mkdtempSync(join(tmpdir(), 'ocf-group-'));
  let loop: string | null = null;
  try {
    loop = await ext4LoopDevice(dir);
    const mnt = join(dir, 'data');
    mkdirSync(mnt);
    const state = `${mnt}/dummy.state`;
    const haresources = `primary IPaddr2::${VIP}/24/eth0 Filesystem::${loop}::${mnt}::ext4 ocf:heartbeat:Dummy::state=${state}`;
    await withCluster({ haresources, subnet: SUBNET, label: 'ocf', autoFailback: 'on' }, async (c) => {
      const step = stepper(t);
      await step('the group runs on primary: the VIP answers, the disk is mounted, Dummy runs on it', async () => {
        c.startAll();
        await c.waitStable('primary owns the group', { 0: 'primary' }, 30_000);
        assert.deepEqual(await c.holders(VIP), ['primary']);
        assert.equal(mountedAt(c, 'primary', mnt), loop);
        assert.equal(mountedAt(c, 'secondary', mnt), null);
        assert.ok(seenBy(c, 'primary', state), 'Dummy wrote its state file on the mounted disk');
        assert.match((await c.curl(VIP)) ?? '', /^Droplet: primary,/);
        assert.ok(c.firstLog('primary', new RegExp(`Running ocf:heartbeat:Filesystem \\(device=${loop} directory=${mnt} fstype=ext4\\) start`)), 'the OCF agent named in the log');
      });
      await step('primary stops (SIGTERM): Dummy stops, the disk is unmounted, secondary mounts it and starts Dummy', async () => {
        assert.equal(await c.term('primary'), 0);
        await c.waitStable('secondary owns the group', { 0: 'secondary' }, 30_000);
        assert.equal(mountedAt(c, 'secondary', mnt), loop);
        assert.ok(seenBy(c, 'secondary', state));
        assert.deepEqual(await c.holders(VIP), ['secondary']);
        assert.match(c.logText('primary'), /Running ocf:heartbeat:Dummy \(state=.*\) stop[\s\S]*Running ocf:heartbeat:Filesystem .* stop/, 'stopped right to left');
      });
      await step('primary comes back: the group fails back; secondary unmounted the disk before primary mounted it', async () => {
        c.start('primary');
        await c.waitStable('primary owns the group again', { 0: 'primary' }, 30_000);
        assert.equal(mountedAt(c, 'primary', mnt), loop);
        assert.equal(mountedAt(c, 'secondary', mnt), null);
        assert.ok(seenBy(c, 'primary', state));
        assert.deepEqual(await c.holders(VIP), ['primary']);
        await c.waitFor('the client to see primary', async () => (await c.curl(VIP))?.startsWith('Droplet: primary,'), 5000);
      });
      await step("kill -9 of primary's hbd: secondary mounts the disk; Dummy's state on it says it runs, so it is not started twice", async () => {
        await c.waitArpQuiet('primary');
        const killedAt = await c.kill9('primary');
        await c.waitStable('secondary owns the group', { 0: 'secondary' }, 30_000);
        assert.equal(mountedAt(c, 'secondary', mnt), loop);
        assert.deepEqual(await c.holders(VIP), ['secondary'], 'the guard removed the VIP from primary');
        // The state file was never removed (primary did not stop): the monitor answers 0.
        assert.ok(c.firstLog('secondary', /Resource ocf:heartbeat:Dummy::state=\S+ is already running/, killedAt), 'monitor said running: no second start');
        t.diagnostic(`group on secondary ${Math.round(wall() - killedAt)} ms after kill -9 of primary's hbd`);
      });
    });
  } finally {
    await releaseLoopDevice(loop);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a start returning an OCF error (IPsrcaddr without a default route) is rolled back, named, and the group runs on the other node', async (t) => {
  const skip = await skipReason();
  if (skip) return t.skip(skip);
  await withCluster({ haresources: `primary IPaddr2::${VIP}/24/eth0 IPsrcaddr::${VIP}`, subnet: SUBNET, label: 'ocf', web: false }, async (c) => {
    // Only secondary has a default route: on primary, IPsrcaddr's start fails (no matching route).
    await inNs(c.host('secondary').ns, ['ip', 'route', 'add', 'default', 'via', `${SUBNET}.254`, 'dev', 'eth0']);
    c.startAll();
    await c.waitFor('primary to try and fail', () => c.firstLog('primary', /Return code 1 \(OCF_ERR_GENERIC\) from ocf:heartbeat:IPsrcaddr \(ipaddress=10\.231\.6\.100\) start/), 20_000);
    await c.waitStable('the group to run on secondary', { 0: 'secondary' }, 20_000);
    assert.deepEqual(await c.holders(VIP), ['secondary'], 'primary removed the VIP it had added before the failing start');
    assert.match(c.logText('primary'), /exit code 1 \(OCF_ERR_GENERIC\)/, 'the daemon\'s own failure line names the code');
    const route = (await inNs(c.host('secondary').ns, ['ip', 'route', 'show', 'default'])).stdout;
    assert.match(route, /src 10\.231\.6\.100/, 'on secondary, IPsrcaddr made the VIP the source of the default route');
  });
});

test('an IPv6 VIP (IPv6addr) after kill -9 of its owner: the guard removes it, the survivor takes it, the client\'s neighbour entry follows', async (t) => {
  const skip = await skipReason([{ cmd: SEND_UA, pkg: 'resource-agents' }]);
  if (skip) return t.skip(skip);
  const NET6 = 'fd00:231:6::';
  const VIP6 = `${NET6}100`;
  await withCluster(
    { haresources: `primary IPv6addr::${VIP6}/64/eth0`, subnet: SUBNET, label: 'ocf', web: false, autoFailback: 'off', keepalive: '200ms', warntime: '5', deadtime: '10', initdead: '20' },
    async (c) => {
      const hosts: [string, number][] = [['primary', 1], ['secondary', 2], [c.client.name, 10]];
      for (const [h, octet] of hosts) await inNs(c.host(h).ns, ['ip', 'addr', 'add', `${NET6}${octet}/64`, 'dev', 'eth0', 'nodad']);
      const has = async (h: string) => (await inNs(c.host(h).ns, ['ip', '-6', 'addr', 'show', 'dev', 'eth0'])).stdout.includes(`${VIP6}/64`);
      const neigh = async () => ((JSON.parse((await inNs(c.client.ns, ['ip', '-json', 'neigh', 'show', VIP6])).stdout || '[]') as { lladdr?: string }[])[0]?.lladdr ?? null);
      c.startAll();
      await c.waitStable('primary owns the group', { 0: 'primary' });
      assert.ok(await has('primary'));
      await inNs(c.client.ns, ['ping', '-6', '-c', '1', '-W', '2', VIP6]);
      assert.equal(await neigh(), c.host('primary').mac);
      // Past the neighbour entry's locktime, as in the IPv4 tests.
      await new Promise((r) => setTimeout(r, 1100));
      const killedAt = await c.kill9('primary');
      await c.waitFor('secondary to hold the IPv6 VIP', () => has('secondary'), 5000);
      const tookAt = wall();
      assert.equal(await has('primary'), false, 'the guard removed it from primary');
      assert.ok(c.firstLog('primary', new RegExp(`hbd guard: hbd died; removed ${VIP6} from eth0`), killedAt), 'the guard names the IPv6 address it removed');
      assert.ok(c.firstLog('primary', /hbd guard: told the peers that hbd died/, killedAt), 'then the last words');
      let mac: string | null = null;
      await pollUntil(async () => (mac = await neigh()) === c.host('secondary').mac, { timeoutMs: 700, pollMs: 20 });
      assert.equal(mac, c.host('secondary').mac, 'the client maps the VIP to secondary');
      t.diagnostic(`IPv6 VIP on secondary ${Math.round(tookAt - killedAt)} ms after kill -9 (deadtime 10 s); the client's entry moved within ${Math.round(wall() - tookAt)} ms more`);
    },
  );
});

test("a monitored OCF resource whose monitor answers OCF_NOT_RUNNING is restarted in place, the code named in the log", async (t) => {
  const skip = await skipReason();
  if (skip) return t.skip(skip);
  const dir = mkdtempSync(join(tmpdir(), 'ocf-mon-'));
  try {
    const state = join(dir, 'dummy.state');
    const dummy = `ocf:heartbeat:Dummy::state=${state}`;
    await withCluster(
      { haresources: `primary IPaddr2::${VIP}/24/eth0 ${dummy}`, subnet: SUBNET, label: 'ocf', web: false, extraHaCf: `monitor ${dummy} interval=300ms failures=2 restarts=1 window=60s keepout=forever` },
      async (c) => {
        c.startAll();
        await c.waitStable('primary owns the group', { 0: 'primary' });
        assert.ok(existsSync(state));
        // Behind hbd's back: Dummy's monitor now answers 7 (OCF_NOT_RUNNING).
        const removedAt = wall();
        rmSync(state);
        await c.waitFor('primary to start Dummy again', () => c.firstLog('primary', /Running ocf:heartbeat:Dummy \(state=\S+\) start/, removedAt), 10_000);
        await c.waitFor('the state file back', async () => existsSync(state), 5000);
        assert.ok(c.firstLog('primary', /monitor: .*Dummy monitor says ocf:heartbeat:Dummy::state=\S+ is not running: exit code 7 \(OCF_NOT_RUNNING\)/, removedAt), 'the failed check is logged with the code\'s name');
        assert.deepEqual(await c.holders(VIP), ['primary'], 'restarted in place: the group stayed on primary');
        assert.equal((await c.status('primary')).groups[0]?.owner, 'primary');
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
