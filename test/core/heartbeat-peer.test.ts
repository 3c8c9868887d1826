// A Heartbeat peer's resource negotiation (core/heartbeat-peer.ts): its words read as the
// groups they cover, its messages as a synthetic advert, and the messages our steps owe it,
// in the order hb_resource.c expects them (the capture's failback: me, other, done, done).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupPhase } from '../../src/core/advert.js';
import type { GroupDef } from '../../src/core/group.js';
import { initOwnership } from '../../src/core/ownership.js';
import { OwnershipNode } from '../helpers/ownership-node.js';
import { ASK_AGAIN_MS, advertOfPeer, afterStep, inFlight, moving, groupsOf, holdOf, mirror, newPeer, onPeerEvent, type HbPeer, type OurSide } from '../../src/core/heartbeat-peer.js';

const G1: GroupDef = { id: 'node1 IPaddr::10.0.0.50', preferredNode: 'node1', resources: ['IPaddr::10.0.0.50'] };
const G2: GroupDef = { id: 'node2 web', preferredNode: 'node2', resources: ['web'] };
const GROUPS = [G1, G2];
const fields = (sends: { fields: [string, string][] }[]) => sends.map((s) => Object.fromEntries(s.fields));

function side(phases: GroupPhase[], desired: (string | null)[], extra: Partial<OurSide> = {}): OurSide {
  return { me: 'node2', groups: GROUPS, phase: (g) => phases[g]!, desired: (g) => desired[g]!, leaving: false, peerActive: true, now: 0, ...extra };
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
  let r = afterStep(p, 'node1', side(['stopped', 'starting'], ['node1', 'node2']));
  assert.deepEqual(fields(r.sends), [{ t: 'resource', rsc_hold: 'local', rtype: 'full', isstable: '0' }]);
  r = afterStep(r.peer, 'node1', side(['stopped', 'running'], ['node1', 'node2']));
  // done first, then what we hold (as Heartbeat after a standby it completed).
  assert.deepEqual(fields(r.sends), [
    { t: 'ask_resources', rsc_hold: 'foreign', info: 'done' },
    { t: 'resource', rsc_hold: 'local', rtype: 'full', isstable: '1' },
  ]);
  assert.equal(r.peer.taken, null);
  // Nothing changed: nothing sent.
  assert.deepEqual(afterStep(r.peer, 'node1', side(['stopped', 'running'], ['node1', 'node2'])).sends, []);
});

test('we give the peer a group: me while it still runs here, the stop only after its other, done when it is stopped', () => {
  const p: HbPeer = { ...newPeer(7), hold: 'none', stable: true, greeted: true, lastSent: 'all:1:' };
  // The policy gives G1 to node1: `me`, and we stay stable (Heartbeat ignores a `me` from a node in flux).
  let r = afterStep(p, 'node1', side(['running', 'running'], ['node1', 'node2']));
  assert.deepEqual(fields(r.sends), [{ t: 'ask_resources', rsc_hold: 'foreign', info: 'me' }]);
  assert.deepEqual(advertOfPeer(r.peer, 'node1', GROUPS, 6000, 0)!.accepts, [], 'not accepted yet: ownership keeps it running');
  const ok = onPeerEvent(r.peer, { kind: 'ask', hold: 'foreign', info: 'other' }, GROUPS, 'node1');
  assert.deepEqual(ok.sends, []);
  assert.deepEqual(advertOfPeer(ok.peer, 'node1', GROUPS, 6000, 0)!.accepts, [G1.id], 'accepted: ownership may stop it');
  r = afterStep(ok.peer, 'node1', side(['stopping', 'running'], ['node1', 'node2']));
  assert.deepEqual(fields(r.sends), [{ t: 'resource', rsc_hold: 'all', rtype: 'full', isstable: '0' }]);
  r = afterStep(r.peer, 'node1', side(['stopped', 'running'], ['node1', 'node2']));
  assert.deepEqual(fields(r.sends), [
    { t: 'ask_resources', rsc_hold: 'foreign', info: 'done' },
    // Stable again: the peer, told done, takes the group now.
    { t: 'resource', rsc_hold: 'local', rtype: 'full', isstable: '1' },
  ]);
  assert.equal(r.peer.releasing, null);
});

test('a me the peer ignores: the group keeps running here, me again later; wanted here again, nothing moves', () => {
  const p: HbPeer = { ...newPeer(7), hold: 'none', stable: true, greeted: true, lastSent: 'all:1:' };
  let r = afterStep(p, 'node1', side(['running', 'running'], ['node1', 'node2'], { now: 1000 }));
  assert.deepEqual(fields(r.sends), [{ t: 'ask_resources', rsc_hold: 'foreign', info: 'me' }]);
  assert.deepEqual(afterStep(r.peer, 'node1', side(['running', 'running'], ['node1', 'node2'], { now: 1000 + ASK_AGAIN_MS - 1 })).sends, []);
  r = afterStep(r.peer, 'node1', side(['running', 'running'], ['node1', 'node2'], { now: 1000 + ASK_AGAIN_MS }));
  assert.deepEqual(fields(r.sends), [{ t: 'ask_resources', rsc_hold: 'foreign', info: 'me' }]);
  // hb_takeover here: G1 is ours again before the peer answered.
  r = afterStep(r.peer, 'node1', side(['running', 'running'], ['node2', 'node2'], { now: 9000 }));
  assert.deepEqual(r.sends, []);
  assert.equal(r.peer.releasing, null);
  // Its late `other` is for nothing: no group is accepted.
  const late = onPeerEvent(r.peer, { kind: 'ask', hold: 'foreign', info: 'other' }, GROUPS, 'node1').peer;
  assert.deepEqual(advertOfPeer(late, 'node1', GROUPS, 6000, 0)!.accepts, []);
});

test('what the peer gave us is done before we give it anything: a quick move back finds it settled', () => {
  // It gave us G1 (its hb_standby), then asks for it back at once (its hb_takeover: our standby).
  const p: HbPeer = { ...newPeer(7), hold: 'none', stable: true, greeted: true, lastSent: 'all:1:', taken: 'local' };
  const r = afterStep(p, 'node1', side(['running', 'running'], ['node1', 'node2']));
  assert.deepEqual(fields(r.sends), [
    { t: 'ask_resources', rsc_hold: 'local', info: 'done' },
    { t: 'ask_resources', rsc_hold: 'foreign', info: 'me' },
    // Heartbeat says what it holds after a completed standby; without it the peer stays "in flux" to us.
    { t: 'resource', rsc_hold: 'all', rtype: 'full', isstable: '1' },
  ]);
});

test('ownership keeps a group it gives a Heartbeat peer running until the peer accepted it', () => {
  const n = new OwnershipNode(initOwnership('node2', ['node1', 'node2'], [G2], 'on', {}, { deadtimeMs: 6000 }));
  const told = onPeerEvent(newPeer(3), { kind: 'resource', hold: 'none', full: true, stable: true, info: null }, [G2], 'node1').peer;
  const synthetic = advertOfPeer(told, 'node1', [G2], 6000, 0)!;
  n.membership(['node1']);
  n.on({ kind: 'advert', node: 'node1', advert: synthetic });
  n.answerAgents();
  assert.equal(n.state.local[0]!.run.phase, 'running');
  // hb_standby here: the group is node1's to take, but node1 has not said `other` yet.
  n.on({ kind: 'standby', scope: 'all' });
  assert.equal(n.state.local[0]!.run.phase, 'running', 'no stop before the peer accepted');
  n.on({ kind: 'advert', node: 'node1', advert: { ...synthetic, accepts: [G2.id] } });
  assert.equal(n.state.local[0]!.run.phase, 'stopping', 'accepted: the stop begins');
});

test('a new run of the peer is greeted with starting; leaving says shutdown, never stable', () => {
  const r = afterStep(newPeer(8), 'node1', side(['stopped', 'running'], ['node1', 'node2']));
  // Only starting, until it says what it holds: what we claim depends on it.
  assert.deepEqual(fields(r.sends), [{ t: 'starting' }]);
  const told = onPeerEvent(r.peer, { kind: 'resource', hold: 'local', full: true, stable: true, info: null }, GROUPS, 'node1').peer;
  assert.deepEqual(fields(afterStep(told, 'node1', side(['stopped', 'running'], ['node1', 'node2'])).sends), [
    { t: 'resource', rsc_hold: 'local', rtype: 'full', isstable: '1' },
  ]);
  const bye = afterStep(told, 'node1', side(['stopped', 'stopping'], ['node1', null], { leaving: true }));
  assert.deepEqual(fields(bye.sends), [{ t: 'resource', rsc_hold: 'local', rtype: 'full', isstable: '0', info: 'shutdown' }]);
  // Not active in our view yet: nothing is said to it.
  assert.deepEqual(afterStep(newPeer(9), 'node1', side(['stopped', 'stopped'], ['node1', 'node2'], { peerActive: false })).sends, []);
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

test('a move in flight: the peer\'s new me is ignored until the peer said done for what we gave it', () => {
  // We gave it G1 (our `done` sent): it acquires it, and its hb_standby a second later must not make us start G1 too.
  let p: HbPeer = { ...newPeer(7), hold: 'none', stable: true, greeted: true, lastSent: 'all:1:' };
  let r = afterStep(p, 'node1', side(['running', 'running'], ['node1', 'node2']));
  p = onPeerEvent(r.peer, { kind: 'ask', hold: 'foreign', info: 'other' }, GROUPS, 'node1').peer;
  r = afterStep(p, 'node1', side(['stopped', 'running'], ['node1', 'node2']));
  assert.deepEqual(fields(r.sends)[0], { t: 'ask_resources', rsc_hold: 'foreign', info: 'done' });
  assert.equal(r.peer.hold, 'local', 'it acquires G1 now: held there, as far as we know');
  assert.equal(advertOfPeer(r.peer, 'node1', GROUPS, 6000, 0)!.groups[G1.id]!.phase, 'running');
  const early = onPeerEvent(r.peer, { kind: 'ask', hold: 'all', info: 'me' }, GROUPS, 'node1');
  assert.equal(early.ignored, true);
  assert.deepEqual(early.sends, [], 'no other: as Heartbeat, "Standby in progress"');
  // Its done (it runs G1): the move is over, and a me is answered again.
  p = onPeerEvent(r.peer, { kind: 'ask', hold: 'local', info: 'done' }, GROUPS, 'node1').peer;
  const later = onPeerEvent(p, { kind: 'ask', hold: 'all', info: 'me' }, GROUPS, 'node1');
  assert.equal(later.ignored, false);
  assert.deepEqual(fields(later.sends), [{ t: 'ask_resources', rsc_hold: 'all', info: 'other' }]);
});

test('ip-request (auto_failback legacy): a group we do not hold is answered at once; one we hold once stopped here', () => {
  // node1 comes up and asks for its group by its first resource.
  const asks = onPeerEvent(newPeer(4), { kind: 'ip-request', key: 'IPaddr::10.0.0.50' }, GROUPS, 'node1');
  assert.deepEqual(asks.sends, []);
  assert.equal(asks.peer.hold, 'none', 'it asks before it holds anything of its own');
  assert.deepEqual(advertOfPeer(asks.peer, 'node1', GROUPS, 6000, 0)!.accepts, [G1.id], 'ownership may stop it for node1 at once');
  const greeted = { ...asks.peer, greeted: true };
  // We run G1: no answer until it is stopped.
  let r = afterStep(greeted, 'node1', side(['running', 'running'], ['node1', 'node2']));
  assert.ok(!fields(r.sends).some((f) => f.t === 'ip-request-resp' || f.t === 'ask_resources'), 'no answer yet, and no standby exchange');
  r = afterStep(r.peer, 'node1', side(['stopped', 'running'], ['node1', 'node2']));
  assert.deepEqual(fields(r.sends).find((f) => f.t === 'ip-request-resp'), { t: 'ip-request-resp', dest: 'node1', ipaddr: 'IPaddr::10.0.0.50', weown: 'yes', ok: 'OK' });
  assert.equal(r.peer.hold, 'local', 'it takes its group on our answer');
  assert.deepEqual(r.peer.asked, []);
  // A group we do not hold, or no group of ours at all: weown=no, at once.
  for (const key of ['IPaddr::10.0.0.50', '10.9.9.9']) {
    const q = onPeerEvent({ ...newPeer(5), greeted: true }, { kind: 'ip-request', key }, GROUPS, 'node1').peer;
    const a = afterStep(q, 'node1', side(['stopped', 'running'], ['node1', 'node2']));
    assert.deepEqual(fields(a.sends).find((f) => f.t === 'ip-request-resp'), { t: 'ip-request-resp', dest: 'node1', ipaddr: key, weown: 'no', ok: 'OK' });
  }
});

test('a group the peer gives us is held there until its done, whatever its resource message says; we are not stable before our done', () => {
  // Its hb_standby: me, and at once "resource none, isstable 0, info standby" (go_standby), then its stop, then done.
  let p: HbPeer = { ...newPeer(7), hold: 'local', stable: true, greeted: true, lastSent: 'foreign:1:' };
  p = onPeerEvent(p, { kind: 'ask', hold: 'local', info: 'me' }, GROUPS, 'node1').peer;
  p = onPeerEvent(p, { kind: 'resource', hold: 'none', full: true, stable: false, info: 'standby' }, GROUPS, 'node1').peer;
  assert.equal(advertOfPeer(p, 'node1', GROUPS, 6000, 0)!.groups[G1.id]!.phase, 'running', 'still stopping there: we may not start it yet');
  p = onPeerEvent(p, { kind: 'ask', hold: 'local', info: 'done' }, GROUPS, 'node1').peer;
  assert.equal(advertOfPeer(p, 'node1', GROUPS, 6000, 0)!.groups[G1.id]!.phase, 'stopped');
  // Running it here, the move is not over for the peer until our done: not stable before it.
  let r = afterStep(p, 'node1', side(['starting', 'running'], ['node2', 'node2']));
  assert.deepEqual(fields(r.sends), [{ t: 'resource', rsc_hold: 'all', rtype: 'full', isstable: '0' }]);
  r = afterStep(r.peer, 'node1', side(['running', 'running'], ['node2', 'node2']));
  assert.deepEqual(fields(r.sends), [
    { t: 'ask_resources', rsc_hold: 'local', info: 'done' },
    { t: 'resource', rsc_hold: 'all', rtype: 'full', isstable: '1' },
  ]);
});

test('a move in flight: the peer\'s hb_takeover is ignored as its hb_standby would be; ours wait too, unless only asked for', () => {
  // It gave us G1 (our other sent); its hb_takeover now would make us give back what we never ran.
  let p: HbPeer = { ...newPeer(7), hold: 'local', stable: true, greeted: true, lastSent: 'foreign:1:' };
  p = onPeerEvent(p, { kind: 'ask', hold: 'local', info: 'me' }, GROUPS, 'node1').peer;
  const r = onPeerEvent(p, { kind: 'hb-takeover', hold: 'all' }, GROUPS, 'node1');
  assert.equal(r.ignored, true);
  assert.ok(moving(p), 'our operator\'s hb_standby waits as well');
  // Our me not answered yet: nothing moved, an hb_takeover here may call it off.
  const asked: HbPeer = { ...newPeer(7), hold: 'none', releasing: 'local', releasingGroups: [G2.id] };
  assert.ok(inFlight(asked) && !moving(asked));
});
