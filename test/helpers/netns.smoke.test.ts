import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inNs, withLan } from '../../src/lib/netns.js';
import { netnsSkip } from './netns.js';

test('two hosts on a namespace LAN can ping each other', async (t) => {
  const skip = await netnsSkip();
  if (skip) return t.skip(skip);
  await withLan(async (lan) => {
    const a = await lan.addHost('a', 1);
    const b = await lan.addHost('b', 2);
    const { stdout } = await inNs(a.ns, ['ping', '-c', '1', '-W', '2', b.address]);
    assert.match(stdout, /1 received/);
    assert.match(a.mac, /^[0-9a-f:]{17}$/);
  });
});
