// Resource agents that touch the network or the disk, run for real on hosts in network
// namespaces (root only): IPv6 virtual IPs (added without DAD, announced by unsolicited
// neighbour advertisements, removed on stop), and Heartbeat's classic names running
// resource-agents' OCF agents: IPsrcaddr, SendArp, portblock, Filesystem on a loop device.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { inNs, withLan, type Lan } from '../../src/lib/netns.js';
import { pollUntil } from '../../src/lib/wait.js';
import { SEND_UA } from '../../src/agents/ipaddr.js';
import { netnsSkip } from '../helpers/netns.js';
import { AgentRunner, neighbourMac, nsAddresses6 } from '../helpers/agents-netns.js';
import { RESOURCE_AGENTS, specs } from '../helpers/resource-specs.js';
import { toolsMissingReason } from '../helpers/tools.js';
import { ext4LoopDevice, LOOP_DEVICE_TOOLS, releaseLoopDevice } from '../helpers/loop-device.js';

const run = promisify(execFile);
const SUBNET = '10.231.8';
const NET6 = 'fd00:231:8::';

/** Why these tests cannot run here (printed), or null; under CI=true a missing part fails instead. */
async function skipReason(extra: { cmd: string; pkg: string }[] = []): Promise<string | null> {
  const ns = await netnsSkip();
  if (ns) return ns;
  const tools = toolsMissingReason([...RESOURCE_AGENTS, { cmd: SEND_UA, pkg: 'resource-agents' }, ...extra]);
  if (tools) console.log(`# skipped: ${tools}`);
  return tools;
}

/** Gives each host NET6<octet>/64 on eth0 (no DAD: the test's own addresses, usable at once). */
async function addIpv6(lan: Lan, hosts: [string, number][]): Promise<void> {
  for (const [name, octet] of hosts) await inNs(lan.host(name).ns, ['ip', 'addr', 'add', `${NET6}${octet}/64`, 'dev', 'eth0', 'nodad']);
}

test('IPv6addr and IPaddr2 with IPv6: added with nodad, announced by unsolicited NA, the client follows the move, removed on stop', async (t) => {
  const skip = await skipReason();
  if (skip) return t.skip(skip);
  await withLan(
    async (lan) => {
      const a = await lan.addHost('a', 1);
      const b = await lan.addHost('b', 2);
      const client = await lan.addHost('c', 3);
      await addIpv6(lan, [['a', 1], ['b', 2], ['c', 3]]);
      const arp = { IPv6addr: { count: 2, intervalS: 1 }, IPaddr2: { count: 2, intervalS: 1 } };
      const onA = AgentRunner.start(lan, 'a', arp);
      const onB = AgentRunner.start(lan, 'b', arp);
      try {
        // Written as Heartbeat users write it, with the address's own "::" and a long form.
        const [vip, vip2] = specs(`IPv6addr::${NET6}100/64/eth0 IPaddr2::fd00:231:8:0:0:0:0:101`);
        const VIP = `${NET6}100`;
        assert.equal((await onA.run(vip!, 'status')).call.running, false);
        const start = await onA.run(vip!, 'start');
        assert.equal(start.call.ok, true, start.call.output);
        assert.deepEqual(start.call.address, { ip: VIP, prefix: 64, dev: 'eth0' }, 'the copy reported to the address guard');
        const mine = (await nsAddresses6(a.ns)).find((x) => x.local === VIP);
        assert.ok(mine, 'the VIP is on a');
        assert.equal(mine.flags.includes('tentative'), false, 'usable at once: no duplicate address detection');
        assert.ok(mine.flags.includes('nodad'), `added with nodad (flags: ${mine.flags.join(' ')})`);
        assert.match(start.logs.map((l) => l.message).join('\n'), new RegExp(`ip addr add ${VIP}/64 dev eth0 nodad`));
        assert.equal((await onA.run(vip!, 'status')).call.running, true);

        // The second one is found by subnet, and its long form is the one `ip` prints.
        const start2 = await onA.run(vip2!, 'start');
        assert.equal(start2.call.ok, true, start2.call.output);
        assert.deepEqual(start2.call.address, { ip: `${NET6}101`, prefix: 64, dev: 'eth0' });

        await inNs(client.ns, ['ping', '-6', '-c', '1', '-W', '2', VIP]);
        const pingedAt = performance.now();
        assert.equal(await neighbourMac(client.ns, VIP), a.mac);

        const stopA = await onA.run(vip!, 'stop');
        assert.equal(stopA.call.ok, true, stopA.call.output);
        assert.equal((await nsAddresses6(a.ns)).some((x) => x.local === VIP), false, 'removed from a');
        // As for IPv4: no override within the neighbour entry's locktime after the ping's update.
        await sleep(Math.max(0, 1100 - (performance.now() - pingedAt)));

        const startB = await onB.run(vip!, 'start');
        const returnedAt = performance.now();
        assert.equal(startB.call.ok, true, startB.call.output);
        assert.ok(startB.arpRunning, 'start returns while the advertisements go on');
        let mac: string | null = null;
        // The same bound as the IPv4 test's: the first advertisement leaves at once.
        await pollUntil(async () => (mac = await neighbourMac(client.ns, VIP)) === b.mac, { timeoutMs: 700, pollMs: 20 });
        assert.equal(mac, b.mac, `client still maps ${VIP} to ${mac}, expected host b ${b.mac}`);
        t.diagnostic(`IPv6 start took ${startB.call.durationMs.toFixed(1)} ms; the client's entry moved within ${(performance.now() - returnedAt).toFixed(0)} ms of its return`);
        const sent = await onB.waitFor((l): l is Extract<typeof l, { type: 'arp-exit' }> => l.type === 'arp-exit', 5000);
        assert.deepEqual([sent.exitCode, sent.killed], [0, false], 'send_ua ended well');
        assert.equal(onB.lines.some((l) => l.type === 'log' && l.level === 'error'), false);
        for (const [r, s] of [[onB, vip!], [onA, vip2!]] as const) assert.equal((await r.run(s, 'stop')).call.ok, true);
        assert.equal((await nsAddresses6(b.ns)).some((x) => x.local === VIP), false);
      } finally {
        await onA.close();
        await onB.close();
      }
    },
    { subnet: SUBNET, label: 'ocf' },
  );
});

test("Heartbeat's IPsrcaddr, SendArp and portblock names run resource-agents' agents: start, status, stop", async (t) => {
  const skip = await skipReason([{ cmd: 'iptables', pkg: 'iptables' }]);
  if (skip) return t.skip(skip);
  await withLan(
    async (lan) => {
      const a = await lan.addHost('a', 1);
      await inNs(a.ns, ['ip', 'route', 'add', 'default', 'via', `${SUBNET}.254`, 'dev', 'eth0']);
      const runner = AgentRunner.start(lan, 'a');
      try {
        const VIP = `${SUBNET}.100`;
        const [vip, src, arp, block, elsewhere] = specs(`IPaddr2::${VIP}/24/eth0 IPsrcaddr::${VIP} SendArp::${VIP}/eth0 portblock::tcp::8080::block IPsrcaddr::192.0.2.50`);
        const route = async () => (await inNs(a.ns, ['ip', 'route', 'show', 'default'])).stdout.trim();
        const early = await runner.run(src!, 'status');
        assert.deepEqual([early.call.ok, early.call.running, early.call.exitName], [true, false, 'OCF_NOT_RUNNING']);
        // An address on none of the host's subnets: IPsrcaddr's monitor fails (OCF_ERR_GENERIC), named, not "stopped".
        const failed = await runner.run(elsewhere!, 'status');
        assert.deepEqual([failed.call.ok, failed.call.running, failed.call.exitName], [false, false, 'OCF_ERR_GENERIC']);
        assert.match(failed.logs.map((l) => l.message).join('\n'), /ocf:heartbeat:IPsrcaddr \(ipaddress=192\.0\.2\.50\) monitor failed: return code 1 \(OCF_ERR_GENERIC\)/);

        assert.equal((await runner.run(vip!, 'start')).call.ok, true);
        const s = await runner.run(src!, 'start');
        assert.equal(s.call.ok, true, s.call.output);
        assert.match(await route(), new RegExp(`src ${VIP.replace(/\./g, '\\.')}`), 'IPsrcaddr made the VIP the default route\'s source');
        assert.equal((await runner.run(src!, 'status')).call.running, true);

        const sa = await runner.run(arp!, 'start');
        assert.equal(sa.call.ok, true, sa.call.output);
        assert.equal((await runner.run(arp!, 'status')).call.running, true);

        const pb = await runner.run(block!, 'start');
        assert.equal(pb.call.ok, true, pb.call.output);
        const rules = async () => (await inNs(a.ns, ['iptables', '-S', 'INPUT'])).stdout;
        assert.match(await rules(), /-p tcp .*--dports 8080 -j DROP/, 'portblock added its DROP rule');
        assert.equal((await runner.run(block!, 'status')).call.running, true);

        for (const spec of [block!, arp!, src!, vip!]) {
          const stop = await runner.run(spec, 'stop');
          assert.equal(stop.call.ok, true, `${spec.raw}: ${stop.call.output}`);
        }
        // resource-agents 4.12's portblock looks for its rule in `iptables -n -L` by the word
        // "tcp", which iptables 1.8.9 (nf_tables) prints as "6": its stop cannot see the rule
        // it added and leaves it. The agent's bug, not ours: reported, and removed by hand here.
        if (/8080/.test(await rules())) {
          t.diagnostic('portblock (resource-agents 4.12) left its DROP rule after stop: it cannot find it in iptables 1.8.9\'s listing (protocol "6", not "tcp")');
          await inNs(a.ns, ['iptables', '-D', 'INPUT', '-p', 'tcp', '-m', 'multiport', '--dports', '8080', '-j', 'DROP']);
        }
        assert.doesNotMatch(await route(), /src 10\.231\.8\.100/, 'IPsrcaddr gave the route its own source back');
        assert.equal((await runner.run(src!, 'status')).call.running, false);
        assert.equal((await runner.run(arp!, 'status')).call.running, false);
      } finally {
        await runner.close();
      }
    },
    { subnet: SUBNET, label: 'ocf' },
  );
});

test('Filesystem::LOOPDEV::DIR::ext4 mounts and unmounts a real file system (resource-agents)', async (t) => {
  const skip = await skipReason(LOOP_DEVICE_TOOLS);
  if (skip) return t.skip(skip);
  const dir = mkdtempSync(join(tmpdir(), 'ocf-fs-'));
  let loop: string | null = null;
  try {
    loop = await ext4LoopDevice(dir);
    const mnt = join(dir, 'mnt');
    await withLan(
      async (lan) => {
        await lan.addHost('a', 1);
        const runner = AgentRunner.start(lan, 'a');
        try {
          const [fs] = specs(`Filesystem::${loop}::${mnt}::ext4`);
          assert.equal((await runner.run(fs!, 'status')).call.running, false);
          const start = await runner.run(fs!, 'start');
          assert.equal(start.call.ok, true, start.call.output);
          // Mounted in the runner's mount namespace (ip netns exec gives it one), not on this host.
          const mounts = () => readFileSync(`/proc/${runner.pid}/mounts`, 'utf8');
          assert.match(mounts(), new RegExp(`^${loop} ${mnt} ext4 `, 'm'));
          assert.doesNotMatch(readFileSync('/proc/self/mounts', 'utf8'), new RegExp(` ${mnt} `));
          assert.equal((await runner.run(fs!, 'status')).call.running, true);
          const stop = await runner.run(fs!, 'stop');
          assert.equal(stop.call.ok, true, stop.call.output);
          assert.doesNotMatch(mounts(), new RegExp(` ${mnt} `));
        } finally {
          await runner.close();
        }
      },
      { subnet: SUBNET, label: 'ocf' },
    );
  } finally {
    await releaseLoopDevice(loop);
    rmSync(dir, { recursive: true, force: true });
  }
});
