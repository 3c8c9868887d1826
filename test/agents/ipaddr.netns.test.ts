// IPaddr/IPaddr2 with the real `ip` and `arping`, on hosts in network namespaces (root only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { inNs, withLan } from '../../src/lib/netns.js';
import { pollUntil } from '../../src/lib/wait.js';
import { netnsSkip } from '../helpers/netns.js';
import { AgentRunner, nsAddresses, neighbourMac } from '../helpers/agents-netns.js';
import { builtin } from '../helpers/agents-fixtures.js';
import type { RunnerLine } from '../helpers/agents-runner.js';

const SUBNET = '10.231.7';
const VIP = `${SUBNET}.100`;

test('IPaddr/IPaddr2 add, label, report and remove VIPs on the right interface', async (t) => {
  const skip = await netnsSkip();
  if (skip) return t.skip(skip);
  await withLan(async (lan) => {
    const a = await lan.addHost('a', 1);
    // A second network on host a: a veth pair whose both ends stay in a's namespace.
    await inNs(a.ns, ['ip', 'link', 'add', 'lan2', 'type', 'veth', 'peer', 'name', 'lan2p']);
    await inNs(a.ns, ['ip', 'link', 'set', 'lan2p', 'up']);
    await inNs(a.ns, ['ip', 'link', 'set', 'lan2', 'up']);
    await inNs(a.ns, ['ip', 'addr', 'add', '192.168.77.1/24', 'dev', 'lan2']);
    const runner = AgentRunner.start(lan, 'a');
    try {
      const vip = builtin(`IPaddr::${VIP}`);
      const bySubnet = builtin('IPaddr2::192.168.77.50');
      const given = builtin('IPaddr2::172.16.9.9/24/lan2');

      assert.equal((await runner.run(vip, 'status')).call.running, false);
      const start = await runner.run(vip, 'start');
      assert.equal(start.call.ok, true, start.call.output);
      assert.equal((await runner.run(vip, 'status')).call.running, true);
      assert.equal((await runner.run(bySubnet, 'start')).call.ok, true);
      assert.equal((await runner.run(given, 'start')).call.ok, true);

      const nowhere = await runner.run(builtin('IPaddr::10.99.0.1'), 'start');
      assert.equal(nowhere.call.ok, false);
      assert.match(nowhere.call.output, /none of this host's subnets \(.*eth0 10\.231\.7\.0\/24.*lan2 192\.168\.77\.0\/24.*\); name the interface/);

      const find = (ip: string) => nsAddresses(a.ns).then((all) => all.find((x) => x.local === ip));
      assert.deepEqual(await find(VIP), { ifname: 'eth0', local: VIP, prefixlen: 24, label: 'eth0:0' });
      assert.deepEqual(await find('192.168.77.50'), { ifname: 'lan2', local: '192.168.77.50', prefixlen: 24, label: 'lan2:0' });
      assert.deepEqual(await find('172.16.9.9'), { ifname: 'lan2', local: '172.16.9.9', prefixlen: 24, label: 'lan2:1' });
      assert.equal(await find('10.99.0.1'), undefined);

      for (const spec of [vip, bySubnet, given]) {
        const stop = await runner.run(spec, 'stop');
        assert.equal(stop.call.ok, true, stop.call.output);
      }
      const again = await runner.run(vip, 'stop');
      assert.equal(again.call.ok, true, 'stop of an absent VIP succeeds');
      assert.equal((await runner.run(vip, 'status')).call.running, false);
      const left = (await nsAddresses(a.ns)).map((x) => x.local);
      assert.deepEqual(left.sort(), ['10.231.7.1', '127.0.0.1', '192.168.77.1'].sort());
    } finally {
      await runner.close();
    }
  });
});

test("gratuitous ARP moves a client's neighbour entry as soon as start returns", async (t) => {
  const skip = await netnsSkip();
  if (skip) return t.skip(skip);
  await withLan(async (lan) => {
    const a = await lan.addHost('a', 1);
    const b = await lan.addHost('b', 2);
    const client = await lan.addHost('c', 3);
    // Two announcements keep the natural end of arping within the test's patience.
    const arp = { IPaddr2: { count: 2, intervalS: 1 } };
    const onA = AgentRunner.start(lan, 'a', arp);
    const onB = AgentRunner.start(lan, 'b', arp);
    try {
      const vip = builtin(`IPaddr2::${VIP}/24`);
      assert.equal((await onA.run(vip, 'start')).call.ok, true);
      const { stdout } = await inNs(client.ns, ['ping', '-c', '1', '-W', '2', VIP]);
      assert.match(stdout, /1 received/);
      const pingedAt = performance.now();
      assert.equal(await neighbourMac(client.ns, VIP), a.mac);

      const stopA = await onA.run(vip, 'stop');
      assert.equal(stopA.call.ok, true);
      assert.ok(stopA.call.output.includes('killed previously running arping'), stopA.call.output);

      // Linux ignores an ARP that would change an entry updated less than locktime (1 s) ago.
      await sleep(Math.max(0, 1100 - (performance.now() - pingedAt)));

      const startB = await onB.run(vip, 'start');
      const returnedAt = performance.now();
      assert.equal(startB.call.ok, true, startB.call.output);
      assert.ok(startB.arpRunning, 'start must return while arping is still sending');
      assert.ok(startB.call.durationMs < 900, `start took ${startB.call.durationMs} ms`);

      // The first announcement leaves at once: the entry moves well before arping's second one.
      let mac: string | null = null;
      await pollUntil(async () => (mac = await neighbourMac(client.ns, VIP)) === b.mac, { timeoutMs: 700 - (performance.now() - returnedAt), pollMs: 20 });
      assert.equal(mac, b.mac, `client still maps ${VIP} to ${mac}, expected host b ${b.mac}`);
      t.diagnostic(`start took ${startB.call.durationMs.toFixed(1)} ms; client's entry moved within ${(performance.now() - returnedAt).toFixed(0)} ms of its return`);
      assert.equal(onB.lines.some((l) => l.type === 'arp-exit'), false, 'arping already done when the entry moved');

      const exit = await onB.waitFor((l): l is Extract<RunnerLine, { type: 'arp-exit' }> => l.type === 'arp-exit', 5000);
      assert.equal(exit.exitCode, 0);
      assert.equal(exit.killed, false);
      assert.ok(exit.at > startB.resolvedAt, 'start resolved before arping exited');
      assert.ok(!onB.lines.some((l) => l.type === 'log' && l.level === 'error'), 'arping reported no failure');
      assert.equal((await onB.run(vip, 'stop')).call.ok, true);
    } finally {
      await onA.close();
      await onB.close();
    }
  });
});
