// A Heartbeat peer's resource negotiation (core/heartbeat-peer.ts): its words read as the
// groups they cover, its messages as a synthetic advert, and the messages our steps owe it,
// in the order hb_resource.c expects them (the capture's failback: me, other, done, done).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupPhase } from '../../src/core/advert.js';
import type { GroupDef } from '../../src/core/group.js';
import { initOwnership } from '../../src/core/ownership.js';
import { OwnershipNode } from '../helpers/ownership-node.js';
import { advertOfPeer, afterStep, groupsOf, holdOf, mirror, newPeer, onPeerEvent, type HbPeer, type OurSide } from '../../src/core/heartbeat-peer.js';

const G1: GroupDef = { id: 'node1 IPaddr::10.0.0.50', preferredNode: 'node1', resources: ['IPaddr::10.0.0.50'] };
const G2: GroupDef = { id: 'node2 web', preferredNode: 'node2', resources: ['web'] };
const GROUPS = [G1, G2];
const fields = (sends: { fields: [string, string][] }[]) => sends.map((s) => Object.fromEntries(s.fields));

function side(phases: GroupPhase[], before: GroupPhase[], desired: (string | null)[], extra: Partial<OurSide> = {}): OurSide {
  return { me: 'node2', groups: GROUPS, phase: (g) => phases[g]!, before: (g) => before[g]!, desired: (g) => desired[g]!, leaving: false, peerActive: true, ...extra };
}

test('a hold names halves by preferred node, in the holder\'s words', () => {
  assert.deepEqual(groupsOf(GROUPS, 'node1', 'local'), [G1]);
  assert.deepEqual(groupsOf(GROUPS, 'node1', 'foreign'), [G2]);
  assert.deepEqual(groupsOf(GROUPS, 'node2', 'all'), [G1, G2]);
  assert.deepEqual(groupsOf(GROUPS, 'node2', 'none'), []);
  assert.equal(holdOf(GROUPS, 'node2', (g) => (g === 0 ? 'running' : 'stopped')), 'foreign');
  assert.equal(holdOf(GROUPS, 'node2', (g) => (g === 1 ? 'starting' : 'stopped')), 'local');
  assert.equal(mirror('local'), 'foreign');
  assert.equal(mirror('all'), 'all');
});

test('no advert before the peer said what it holds; then its groups as running or stopped', () => {
  const p = newPeer(7);
  assert.equal(advertOfPeer(p, 'node1', GROUPS, 6000, 100), null);
  const { peer } = onPeerEvent(p, { kind: 'resource', hold: 'local', full: true, stable: true, info: null }, GROUPS, 'node1');
  const a = advertOfPeer(peer, 'node1', GROUPS, 6000, 100)!;
  assert.equal(a.groups[G1.id]!.phase, 'running');
  assert.equal(a.groups[G2.id]!.phase, 'stopped');
  assert.deepEqual(a.resources, ['IPaddr::10.0.0.50']);
  // A partial update (mach_down's, no rtype=full) adds to what it holds.
  const more = onPeerEvent(peer, { kind: 'resource', hold: 'foreign', full: false, stable: null, info: 'mach_down' }, GROUPS, 'node1').peer;
  assert.equal(more.hold, 'all');
});

test('the peer gives us a group: other at once, its done frees the group, ours when it runs', () => {
  let p: HbPeer = { ...newPeer(7), hold: 'all', stable: true, greeted: true, lastSent: 'none:1:' };
  const me = onPeerEvent(p, { kind: 'ask', hold: 'foreign', info: 'me' }, GROUPS, 'node1');
  assert.deepEqual(fields(me.sends), [{ t: 'ask_resources', rsc_hold: 'foreign', info: 'other' }]);
  // Giving back our own group (its auto_failback) makes it no standby for anything.
  assert.deepEqual(me.peer.standby, []);
  p = onPeerEvent(me.peer, { kind: 'ask', hold: 'foreign', info: 'done' }, GROUPS, 'node1').peer;
  assert.equal(p.hold, 'local');
  assert.equal(p.taken, 'foreign');
  // Starting it here: no done yet, and we are not stable.
  let r = afterStep(p, 'node1', side(['stopped', 'starting'], ['stopped', 'stopped'], ['node1', 'node2']));
  assert.deepEqual(fields(r.sends), [{ t: 'resource', rsc_hold: 'local', rtype: 'full', isstable: '0' }]);
  r = afterStep(r.peer, 'node1', side(['stopped', 'running'], ['stopped', 'starting'], ['node1', 'node2']));
  assert.deepEqual(fields(r.sends), [
    { t: 'resource', rsc_hold: 'local', rtype: 'full', isstable: '1' },
    { t: 'ask_resources', rsc_hold: 'foreign', info: 'done' },
  ]);
  assert.equal(r.peer.taken, null);
  // Nothing changed: nothing sent.
  assert.deepEqual(afterStep(r.peer, 'node1', side(['stopped', 'running'], ['stopped', 'running'], ['node1', 'node2'])).sends, []);
});

test('we give the peer a group: me when its stop begins, done when it is stopped', () => {
  const p: HbPeer = { ...newPeer(7), hold: 'none', stable: true, greeted: true, lastSent: 'all:1:' };
  let r = afterStep(p, 'node1', side(['stopping', 'running'], ['running', 'running'], ['node1', 'node2']));
  assert.deepEqual(fields(r.sends), [
    { t: 'ask_resources', rsc_hold: 'foreign', info: 'me' },
    { t: 'resource', rsc_hold: 'all', rtype: 'full', isstable: '0' },
  ]);
  r = afterStep(r.peer, 'node1', side(['stopped', 'running'], ['stopping', 'running'], ['node1', 'node2']));
  assert.deepEqual(fields(r.sends), [
    { t: 'ask_resources', rsc_hold: 'foreign', info: 'done' },
    // Stable again: the peer, told done, takes the group now.
    { t: 'resource', rsc_hold: 'local', rtype: 'full', isstable: '1' },
  ]);
});

test('a new run of the peer is greeted with starting; leaving says shutdown, never stable', () => {
  const r = afterStep(newPeer(8), 'node1', side(['stopped', 'running'], ['stopped', 'running'], ['node1', 'node2']));
  // Only starting, until it says what it holds: what we claim depends on it.
  assert.deepEqual(fields(r.sends), [{ t: 'starting' }]);
  const told = onPeerEvent(r.peer, { kind: 'resource', hold: 'local', full: true, stable: true, info: null }, GROUPS, 'node1').peer;
  assert.deepEqual(fields(afterStep(told, 'node1', side(['stopped', 'running'], ['stopped', 'running'], ['node1', 'node2'])).sends), [
    { t: 'resource', rsc_hold: 'local', rtype: 'full', isstable: '1' },
  ]);
  const bye = afterStep(told, 'node1', side(['stopped', 'stopping'], ['stopped', 'running'], ['node1', null], { leaving: true }));
  assert.deepEqual(fields(bye.sends), [{ t: 'resource', rsc_hold: 'local', rtype: 'full', isstable: '0', info: 'shutdown' }]);
  // Not active in our view yet: nothing is said to it.
  assert.deepEqual(afterStep(newPeer(9), 'node1', side(['stopped', 'stopped'], ['stopped', 'stopped'], ['node1', 'node2'], { peerActive: false })).sends, []);
});

test('with fencing, a Heartbeat peer neither acks our run nor grants our starts: its negotiation decides, as without fencing', () => {
  // node2 (ours) prefers G2; node1 is a real Heartbeat that holds nothing. With fencing on, an
  // hbd peer must ack our run and grant our claim first; a Heartbeat peer sends neither.
  const fencingNode = () => new OwnershipNode(initOwnership('node2', ['node1', 'node2'], [G2], 'on', {}, { deadtimeMs: 6000, fencing: { retryMs: 5000 } }));
  const told = onPeerEvent(newPeer(3), { kind: 'resource', hold: 'none', full: true, stable: true, info: null }, [G2], 'node1').peer;
  const synthetic = advertOfPeer(told, 'node1', [G2], 6000, 0)!;
  const n = fencingNode();
  n.membership(['node1']);
  n.on({ kind: 'advert', node: 'node1', advert: synthetic });
  assert.deepEqual(n.answerAgents().map((c) => c.action), ['status', 'start'], 'ours starts its group while the Heartbeat peer is up');
  assert.equal(n.state.local[0]!.run.phase, 'running');
  // The same advert from an hbd peer (no mark): no ack of our run, no grant, so no start (issue 16's rules hold).
  const { heartbeatPeer: _, ...plain } = synthetic;
  const m = fencingNode();
  m.membership(['node1']);
  m.on({ kind: 'advert', node: 'node1', advert: plain });
  assert.deepEqual(m.answerAgents(), []);
});
