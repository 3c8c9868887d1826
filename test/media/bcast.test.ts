// bcast between hosts in network namespaces (needs root; skipped with the reason otherwise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Medium } from '../../src/config/types.js';
import { namespaceTarget, remotePeers } from '../helpers/media-netns.js';
import { withLan } from '../../src/lib/netns.js';
import { netnsSkip } from '../helpers/netns.js';
import { transportCompliance } from './compliance.js';

const skip = await netnsSkip();
const bcast = (): Medium => ({ kind: 'bcast', iface: 'eth0', line: 1 });

transportCompliance('bcast in network namespaces', namespaceTarget('10.231.81', bcast, skip));

test('bcast reaches every other host of the LAN from our own address', { skip }, async () => {
  await withLan(async (lan) => {
    for (const [name, octet] of [['a', 1], ['b', 2], ['c', 3]] as const) await lan.addHost(name, octet);
    const [a, b, c] = await remotePeers(lan, ['a', 'b', 'c'], bcast);
    try {
      assert.equal(a!.linkName, 'eth0');
      await a!.send(Buffer.from('to everyone'));
      for (const peer of [b!, c!]) {
        const [got] = await peer.packets.take(1);
        assert.equal(got?.packet.toString(), 'to everyone');
        assert.match(got?.from ?? '', /^10\.231\.83\.1:\d+$/);
      }
      assert.deepEqual(await a!.packets.settle(200), []);
    } finally {
      await Promise.all([a, b, c].map((p) => p?.stop()));
    }
  }, { subnet: '10.231.83' });
});
