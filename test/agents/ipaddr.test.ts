// IPaddr/IPaddr2 against a fake `ip`/`arping`: the command lines, without root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { ARP_DEFAULTS, IpAddrAgent, judgeStatusOutput, runResource } from '../../src/agents/index.js';
import { FakeNet } from '../helpers/agents-fakenet.js';
import { builtin, recorder } from '../helpers/agents-fixtures.js';
import { findAddress, parseIpAddrJson, placeVip } from '../../src/agents/iproute.js';
import { parseVip } from '../../src/config/vip.js';

function lan(): FakeNet {
  return FakeNet.host(['lo', '127.0.0.1/8'], ['eth0', '10.0.0.1/24'], ['eth1', '192.168.1.1/24']);
}

async function run(net: FakeNet, raw: string, action: 'start' | 'stop' | 'status', agent = new IpAddrAgent(net)) {
  const log = recorder();
  const call = await runResource(builtin(raw), action, { ...log.ctx(), ipaddr: agent });
  return { call, log, agent };
}

test('start finds the interface by subnet, takes its prefix, labels eth0:0 and ARPs', async () => {
  const net = lan();
  const { call, log } = await run(net, 'IPaddr2::10.0.0.100', 'start');
  assert.equal(call.ok, true, call.output);
  assert.deepEqual(call.argv, ['IPaddr2', '10.0.0.100', 'start']);
  assert.deepEqual(net.changes(), ['ip addr add 10.0.0.100/24 dev eth0 label eth0:0', 'arping -U -c 1 -I eth0 10.0.0.100']);
  assert.match(call.output, /INFO: Success/);
  assert.ok(log.lines.some((l) => l.level === 'info' && l.message === 'Running IPaddr2 10.0.0.100 start'), log.text());
  assert.ok(log.lines.some((l) => l.message === 'IPaddr2: ip addr add 10.0.0.100/24 dev eth0 label eth0:0'), log.text());
});

test('IPaddr sends as many announcements as its send_arp default (10), paced by our own timer', async () => {
  const net = lan();
  const agent = new IpAddrAgent(net, { IPaddr: { count: 10, intervalS: 0.005 } });
  await run(net, 'IPaddr::192.168.1.50', 'start', agent);
  assert.deepEqual(net.changes(), ['ip addr add 192.168.1.50/24 dev eth1 label eth1:0', 'arping -U -c 1 -I eth1 192.168.1.50'], 'the first leaves at once');
  for (let i = 0; i < 200 && net.arpings.length < 10; i++) {
    for (const a of net.arpings) a.finish({ exitCode: 0 });
    await new Promise((r) => setTimeout(r, 2));
  }
  for (const a of net.arpings) a.finish({ exitCode: 0 });
  await tick();
  assert.equal(net.arpings.length, 10);
  assert.ok(net.arpings.every((a) => a.argv.join(' ') === 'arping -U -c 1 -I eth1 192.168.1.50'));
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(net.arpings.length, 10, 'no more than count');
  assert.equal(agent.pendingArp('192.168.1.50'), undefined, 'the burst is over');
});

test('the default pacing is Heartbeat send_arp\'s: IPaddr 10 x 500 ms, IPaddr2 5 x 200 ms (IPv6addr as IPaddr2)', () => {
  assert.deepEqual(ARP_DEFAULTS, { IPaddr: { count: 10, intervalS: 0.5 }, IPaddr2: { count: 5, intervalS: 0.2 }, IPv6addr: { count: 5, intervalS: 0.2 } });
});

test('start returns while arping is still running; its later failure is logged', async () => {
  const net = lan();
  const { call, log, agent } = await run(net, 'IPaddr2::10.0.0.100', 'start');
  assert.equal(call.ok, true);
  const arping = net.arpings[0];
  assert.ok(arping && arping.running(), 'arping should still run after start returned');
  assert.ok(agent.pendingArp('10.0.0.100')?.running(), 'the burst is under way');
  arping.finish({ exitCode: 2, output: 'arping: Device eth0 not available.' });
  await tick();
  assert.equal(agent.pendingArp('10.0.0.100'), undefined);
  const err = log.lines.find((l) => l.level === 'error');
  assert.match(err?.message ?? '', /Could not send gratuitous arps for 10\.0\.0\.100 on eth0: rc=2: arping: Device eth0 not available/);
});

test('a missing arping is logged but the address stays up', async () => {
  const net = lan();
  net.arpingSpawnError = Object.assign(new Error('spawn arping ENOENT'), { code: 'ENOENT' });
  const { call, log } = await run(net, 'IPaddr2::10.0.0.100', 'start');
  assert.equal(call.ok, true);
  await tick();
  assert.match(log.text(), /error: IPaddr2: Could not send gratuitous arps .*ENOENT \(is iputils-arping installed\?\)/);
});

test('the first free label is used', async () => {
  const net = FakeNet.host(['eth0', '10.0.0.1/24', '10.0.0.7/24=eth0:0', '10.0.0.8/24=eth0:2']);
  await run(net, 'IPaddr::10.0.0.100', 'start');
  assert.equal(net.changes()[0], 'ip addr add 10.0.0.100/24 dev eth0 label eth0:1');
});

test('a given interface, prefix and broadcast are used as given', async () => {
  const net = lan();
  await run(net, 'IPaddr2::172.16.5.5/25/eth1/172.16.5.127', 'start');
  assert.equal(net.changes()[0], 'ip addr add 172.16.5.5/25 broadcast 172.16.5.127 dev eth1 label eth1:0');
});

test('a given interface without prefix takes the prefix of its address on that subnet', async () => {
  const net = FakeNet.host(['eth0', '10.0.0.1/24'], ['eth1', '10.1.0.1/16']);
  await run(net, 'IPaddr::10.1.9.9//eth1', 'start');
  assert.equal(net.changes()[0], 'ip addr add 10.1.9.9/16 dev eth1 label eth1:0');
});

test('a dotted netmask second part is a prefix; a gateway second part picks the interface', async () => {
  const net = lan();
  await run(net, 'IPaddr::10.0.0.100/255.255.255.0', 'start');
  await run(net, 'IPaddr::172.16.0.5/192.168.1.254', 'start');
  assert.deepEqual(
    net.changes().filter((c) => c.startsWith('ip')),
    ['ip addr add 10.0.0.100/24 dev eth0 label eth0:0', 'ip addr add 172.16.0.5/24 dev eth1 label eth1:0'],
  );
});

test('the most specific subnet wins', async () => {
  const net = FakeNet.host(['eth0', '10.0.0.1/8'], ['eth1', '10.5.0.1/16']);
  await run(net, 'IPaddr::10.5.3.3', 'start');
  assert.equal(net.changes()[0], 'ip addr add 10.5.3.3/16 dev eth1 label eth1:0');
});

test('no interface for the VIP: says which subnets exist and how to name one', async () => {
  const net = lan();
  const { call, log } = await run(net, 'IPaddr::10.99.0.1', 'start');
  assert.equal(call.ok, false);
  assert.equal(call.exitCode, 1);
  assert.match(call.output, /no interface for 10\.99\.0\.1: it is on none of this host's subnets \(lo 127\.0\.0\.0\/8, eth0 10\.0\.0\.0\/24, eth1 192\.168\.1\.0\/24\); name the interface: IPaddr::10\.99\.0\.1\/24\/IFACE/);
  assert.deepEqual(net.changes(), []);
  assert.ok(log.lines.some((l) => l.level === 'error'));
});

test('a named interface that does not exist, or without a prefix to borrow, is an error', async () => {
  const net = lan();
  const a = await run(net, 'IPaddr::10.0.0.100/24/eth9', 'start');
  assert.equal(a.call.ok, false);
  assert.match(a.call.output, /interface eth9 named for 10\.0\.0\.100 does not exist here \(interfaces: lo, eth0, eth1\)/);
  const b = await run(net, 'IPaddr::172.16.0.1//eth0', 'start');
  assert.equal(b.call.ok, false);
  assert.match(b.call.output, /give it as IPaddr::172\.16\.0\.1\/24\/eth0/);
  assert.deepEqual(net.changes(), []);
});

test('bad arguments fail without touching the host', async () => {
  const net = lan();
  for (const raw of ['IPaddr::10.0.0.300', 'IPaddr::10.0.0.5::extra', 'IPaddr2']) {
    const { call, log } = await run(net, raw, 'start');
    assert.equal(call.ok, false, raw);
    // The output keeps the agent's words; each log line has one level word, the logger's.
    assert.match(call.output, /ERROR: /);
    assert.ok(log.lines.length > 0 && log.lines.every((l) => !/(^|: )(ERROR|INFO): /.test(l.message)), log.text());
  }
  assert.deepEqual(net.changes(), []);
});

test('an address already here is not added again, nor announced', async () => {
  const net = FakeNet.host(['eth0', '10.0.0.1/24', '10.0.0.100/24=eth0:0']);
  const { call } = await run(net, 'IPaddr::10.0.0.100', 'start');
  assert.equal(call.ok, true);
  assert.deepEqual(net.changes(), []);
});

test('a failing ip addr add fails the start with its message', async () => {
  const net = lan();
  net.failAdd = { exitCode: 2, signal: null, timedOut: false, stdout: '', output: 'RTNETLINK answers: Operation not permitted', spawnError: null };
  const { call } = await run(net, 'IPaddr::10.0.0.100', 'start');
  assert.equal(call.ok, false);
  assert.match(call.output, /ip addr add 10\.0\.0\.100\/24 dev eth0 label eth0:0 failed: rc=2: RTNETLINK answers: Operation not permitted/);
  assert.equal(net.arpings.length, 0);
});

test('status: running when configured, stopped otherwise, in words ResourceManager understands', async () => {
  const net = lan();
  const agent = new IpAddrAgent(net);
  const before = await run(net, 'IPaddr::10.0.0.100', 'status', agent);
  assert.equal(before.call.ok, true);
  assert.equal(before.call.running, false);
  assert.equal(before.call.exitCode, 7);
  assert.equal(judgeStatusOutput(before.call.output), false);
  assert.ok(!before.log.lines.some((l) => l.level === 'info'));
  await run(net, 'IPaddr::10.0.0.100', 'start', agent);
  const after = await run(net, 'IPaddr::10.0.0.100', 'status', agent);
  assert.equal(after.call.running, true);
  assert.equal(after.call.exitCode, 0);
  assert.equal(judgeStatusOutput(after.call.output), true);
});

test('stop removes the address and ends a running arping', async () => {
  const net = lan();
  const agent = new IpAddrAgent(net);
  await run(net, 'IPaddr2::10.0.0.100', 'start', agent);
  const { call, log } = await run(net, 'IPaddr2::10.0.0.100', 'stop', agent);
  assert.equal(call.ok, true);
  assert.equal(net.arpings[0]?.killedByAgent, true);
  assert.ok(net.changes().includes('ip addr del 10.0.0.100/24 dev eth0'));
  assert.match(log.text(), /killed previously running arping for 10\.0\.0\.100/);
  await tick();
  assert.ok(!log.lines.some((l) => l.level === 'error'), 'a killed arping is not an error');
});

test('stop of an absent address succeeds without running ip addr del', async () => {
  const net = lan();
  const { call } = await run(net, 'IPaddr::10.0.0.100', 'stop');
  assert.equal(call.ok, true);
  assert.deepEqual(net.changes(), []);
  assert.match(call.output, /not configured here/);
});

test('no gratuitous ARP on loopback', async () => {
  const net = lan();
  const { call } = await run(net, 'IPaddr::127.0.0.9', 'start');
  assert.equal(call.ok, true);
  assert.deepEqual(net.changes(), ['ip addr add 127.0.0.9/8 dev lo label lo:0']);
});

test('starts are serialised, so concurrent VIPs get distinct labels', async () => {
  const net = lan();
  const agent = new IpAddrAgent(net);
  await Promise.all(['10.0.0.100', '10.0.0.101', '10.0.0.102'].map((ip) => run(net, `IPaddr::${ip}`, 'start', agent)));
  const labels = net.changes().filter((c) => c.startsWith('ip addr add')).map((c) => c.split(' ').pop());
  assert.deepEqual(labels, ['eth0:0', 'eth0:1', 'eth0:2']);
});

test('IPv6: placed by subnet (never on a link-local address unless the VIP is one), no label, found in any spelling', () => {
  const links = parseIpAddrJson(
    JSON.stringify([
      { ifname: 'lo', flags: ['LOOPBACK'], link_type: 'loopback', addr_info: [{ family: 'inet6', local: '::1', prefixlen: 128 }] },
      { ifname: 'eth0', flags: ['UP'], addr_info: [{ family: 'inet', local: '10.0.0.1', prefixlen: 24 }, { family: 'inet6', local: 'fe80::1', prefixlen: 64 }] },
      { ifname: 'eth1', flags: ['UP'], addr_info: [{ family: 'inet6', local: '2001:db8:1::1', prefixlen: 64 }, { family: 'inet6', local: '2001:db8:1::10', prefixlen: 64 }] },
    ]),
  );
  const vip = (arg: string) => {
    const r = parseVip(arg, [6]);
    assert.ok(r.ok, arg);
    return r.vip;
  };
  const placed = placeVip(links, vip('2001:db8:1::20'), 'IPv6addr');
  assert.deepEqual(placed.ok && [placed.placement.link.ifname, placed.placement.cidr, placed.placement.label], ['eth1', 64, null]);
  const nowhere = placeVip(links, vip('2001:db8:9::20'), 'IPv6addr');
  assert.match(nowhere.ok ? '' : nowhere.error, /none of this host's subnets \(lo ::1\/128, eth1 2001:db8:1::1\/64, eth1 2001:db8:1::10\/64\); name the interface: IPv6addr::2001:db8:9::20\/64\/IFACE/);
  assert.equal(findAddress(links, vip('2001:0DB8:0001:0:0:0:0:0010').ip, null)?.link.ifname, 'eth1');
  assert.equal(findAddress(links, vip('::1').ip, null), null, 'never on lo unless named');
});
