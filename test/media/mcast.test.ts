// mcast between hosts in network namespaces (needs root; skipped with the reason otherwise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Medium } from '../../src/config/types.js';
import { namespaceTarget, remotePeers } from '../helpers/media-netns.js';
import { withLan } from '../../src/lib/netns.js';
import { netnsSkip } from '../helpers/netns.js';
import { transportCompliance } from './compliance.js';

const skip = await netnsSkip();
const mcast =
  (loop: boolean) =>
  (port: number): Medium => ({ kind: 'mcast', iface: 'eth0', group: '239.0.0.94', port, ttl: 1, loop, line: 1 });

// With loop on, our own packets come back to us: the compliance suite checks they are ignored.
transportCompliance('mcast (loop on) in network namespaces', namespaceTarget('10.231.82', mcast(true), skip));

test('mcast reaches every member of the group on the LAN', { skip }, async () => {
  await withLan(async (lan) => {
    for (const [name, octet] of [['a', 1], ['b', 2], ['c', 3]] as const) await lan.addHost(name, octet);
    const [a, b, c] = await remotePeers(lan, ['a', 'b', 'c'], mcast(false));
    try {
      assert.equal(a!.linkName, 'eth0');
      await a!.send(Buffer.from('to the group'));
      for (const peer of [b!, c!]) {
        const [got] = await peer.packets.take(1);
        assert.equal(got?.packet.toString(), 'to the group');
        assert.match(got?.from ?? '', /^10\.231\.84\.1:\d+$/);
      }
      assert.deepEqual(await a!.packets.settle(200), []);
    } finally {
      await Promise.all([a, b, c].map((p) => p?.stop()));
    }
  }, { subnet: '10.231.84' });
});
