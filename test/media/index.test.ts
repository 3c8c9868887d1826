// createTransports: how ha.cf media become links, and the errors a person gets.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import type { Medium } from '../../src/config/types.js';
import { createTransports, groupMedia } from '../../src/media/index.js';
import type { InterfaceTable } from '../../src/media/interfaces.js';
import { subnetBroadcast } from '../../src/media/interfaces.js';
import { isMulticast, ucastEnds } from '../../src/media/udp.js';

function v4(address: string, prefix: number): NetworkInterfaceInfo {
  return { address, netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: `${address}/${prefix}` };
}

const machine: InterfaceTable = {
  lo: [{ ...v4('127.0.0.1', 8), internal: true }],
  eth0: [v4('10.0.0.1', 24), { address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: 'fe80::1/64', scopeid: 2 }],
  eth1: [v4('10.0.1.1', 24)],
  wg0: [{ address: 'fd00::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '00:00:00:00:00:00', internal: false, cidr: 'fd00::1/64', scopeid: 0 }],
};
const options = { networkInterfaces: () => machine };
const hacf = (media: Medium[]) => ({ media, udpport: 694, baud: 19200 });

describe('createTransports', () => {
  it('makes one link per (kind, interface) and per serial device, in ha.cf order', () => {
    const media: Medium[] = [
      { kind: 'ucast', iface: 'eth0', address: '10.0.0.1', line: 3 },
      { kind: 'ucast', iface: 'eth0', address: '10.0.0.2', line: 4 },
      { kind: 'bcast', iface: 'eth1', line: 5 },
      { kind: 'ucast', iface: 'eth1', address: '10.0.1.2', line: 6 },
      { kind: 'serial', device: '/dev/ttyS0', line: 7 },
      { kind: 'mcast', iface: 'eth0', group: '239.0.0.1', port: 694, ttl: 1, loop: false, line: 8 },
      { kind: 'ucast', iface: 'eth0', address: '10.0.0.3', line: 9 },
      { kind: 'bcast', iface: 'eth1', line: 10 },
      { kind: 'mcast', iface: 'eth0', group: '239.0.0.1', port: 694, ttl: 1, loop: false, line: 11 },
    ];
    const links = createTransports(hacf(media), options);
    assert.deepEqual(
      links.map((l) => `${l.kind} ${l.linkName}`),
      ['ucast eth0', 'bcast eth1', 'ucast eth1', 'serial /dev/ttyS0', 'mcast eth0'],
    );
    const ucast = groupMedia(media)[0];
    assert.deepEqual(ucast, { kind: 'ucast', iface: 'eth0', addresses: ['10.0.0.1', '10.0.0.2', '10.0.0.3'], lines: [3, 4, 9] });
    for (const link of links) assert.deepEqual(link.stats(), { sent: 0, received: 0, sendErrors: 0, dropped: 0 });
  });

  it('names a missing interface, its ha.cf line and the interfaces there are', () => {
    assert.throws(() => createTransports(hacf([{ kind: 'bcast', iface: 'eth7', line: 4 }]), options), {
      message: 'bcast eth7 (ha.cf:4): interface eth7 does not exist on this node (interfaces with addresses: eth0, eth1, lo, wg0); correct the interface name in ha.cf or bring the interface up with its address',
    });
    assert.throws(() => createTransports(hacf([{ kind: 'ucast', iface: 'wg0', address: '10.9.9.9', line: 2 }]), options), /ucast wg0 \(ha\.cf:2\): interface wg0 has no IPv4 address/);
  });

  it('refuses two different mcast lines on one interface and a relative serial device', () => {
    const m = (group: string, line: number): Medium => ({ kind: 'mcast', iface: 'eth0', group, port: 694, ttl: 1, loop: false, line });
    assert.throws(() => createTransports(hacf([m('239.0.0.1', 3), m('239.0.0.2', 9)]), options), /mcast eth0 \(ha\.cf:9\): a second, different mcast line for eth0 \(the first is at ha\.cf:3\)/);
    assert.throws(() => createTransports(hacf([{ kind: 'serial', device: 'ttyS0', line: 5 }]), options), /serial ttyS0 \(ha\.cf:5\): the serial device must be a full path/);
  });

  it('open() refuses an mcast group that is not multicast and a foreign local address, without touching the network', async () => {
    const [mcast] = createTransports(hacf([{ kind: 'mcast', iface: 'eth0', group: '10.0.0.9', port: 694, ttl: 1, loop: false, line: 6 }]), options);
    await assert.rejects(mcast!.open(), /mcast eth0 \(ha\.cf:6\): 10\.0\.0\.9 is not an IPv4 multicast group/);
    const [bcast] = createTransports(hacf([{ kind: 'bcast', iface: 'eth1', line: 2 }]), { ...options, localAddress: '10.0.0.1' });
    await assert.rejects(bcast!.open(), /bcast eth1 \(ha\.cf:2\): local address 10\.0\.0\.1 is not an address of eth1/);
    await Promise.all([mcast!.close(), bcast!.close()]);
  });
});

describe('local address and peers of ucast', () => {
  it('listens on the line naming this node and sends to the others', () => {
    assert.deepEqual(ucastEnds(['10.0.0.1', '10.0.0.2', '10.0.0.3'], ['10.0.0.9', '10.0.0.2']), { local: '10.0.0.2', peers: ['10.0.0.1', '10.0.0.3'] });
  });
  it('falls back to the first address of the interface, and sends one copy per peer', () => {
    assert.deepEqual(ucastEnds(['10.0.0.2', '10.0.0.3', '10.0.0.2'], ['10.0.0.1']), { local: '10.0.0.1', peers: ['10.0.0.2', '10.0.0.3'] });
  });
});

describe('address arithmetic', () => {
  it('computes subnet broadcast addresses', () => {
    assert.equal(subnetBroadcast('10.0.0.1', 24), '10.0.0.255');
    assert.equal(subnetBroadcast('192.168.1.130', 25), '192.168.1.255');
    assert.equal(subnetBroadcast('10.1.2.3', 8), '10.255.255.255');
    assert.equal(subnetBroadcast('10.1.2.3', 0), '255.255.255.255');
    assert.equal(subnetBroadcast('10.1.2.3', 31), null);
    assert.equal(subnetBroadcast('10.1.2.3', 32), null);
  });
  it('knows multicast groups', () => {
    assert.ok(isMulticast('224.0.0.1') && isMulticast('239.255.255.255'));
    assert.ok(!isMulticast('240.0.0.1') && !isMulticast('10.0.0.1') && !isMulticast('ff02::1'));
  });
});
