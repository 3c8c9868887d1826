// The ownership state machine: start order, stop order, rollback of a failed start,
// handoffs that never overlap, standby and takeover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OwnershipNode, type AgentEffect } from '../helpers/ownership-node.js';
import type { MembershipView } from '../../src/core/membership.js';
import { failbackHoldMs } from '../../src/core/policy.js';
import { initOwnership, step, desiredOwner, type OwnershipEffect, type OwnershipEvent, type OwnershipState, type PeerAdvert } from '../../src/core/ownership.js';

const GROUPS = [
  { id: 'a IPaddr::10.0.0.10 apache2 mysql', preferredNode: 'a', resources: ['IPaddr::10.0.0.10', 'apache2', 'mysql'] },
  { id: 'b IPaddr::10.0.0.20', preferredNode: 'b', resources: ['IPaddr::10.0.0.20'] },
];

type Phase = PeerAdvert['groups'][string]['phase'];

/** A peer's advert, its groups given in GROUPS order (standby/failed/takeover by index too). */
function advert(phases: Phase[], extra: { standby?: number[]; failed?: number[]; takeover?: { serial: number; groups: number[] } | null; leaving?: boolean } = {}): PeerAdvert {
  const id = (g: number) => GROUPS[g]!.id;
  return {
    groups: Object.fromEntries(phases.map((phase, g) => [id(g), { phase, claim: null, grant: null }])),
    standby: (extra.standby ?? []).map(id),
    failed: (extra.failed ?? []).map(id),
    takeover: extra.takeover ? { serial: extra.takeover.serial, groups: extra.takeover.groups.map(id) } : null,
    leaving: extra.leaving ?? false,
    gen: 0,
    at: 0,
    deadtimeMs: 30_000,
    acks: [],
    resources: phases.flatMap((phase, g) => (phase === 'stopped' ? [] : GROUPS[g]!.resources)),
  };
}

class Node extends OwnershipNode {
  constructor(me: string, autoFailback: 'on' | 'off' = 'on') {
    super(initOwnership(me, ['a', 'b'], GROUPS, autoFailback));
  }
  override membership(live: string[], settled: boolean): OwnershipEffect[] {
    return super.membership(live, settled);
  }
  /** Answers every agent call with `answer` until no call is pending. */
  runAgents(answer?: (e: AgentEffect) => { ok: boolean; running?: boolean }): string[] {
    return this.answerAgents(answer).map((p) => `${GROUPS[p.group]!.resources[p.resource]} ${p.action}`);
  }
  /** This node's phase for group g. */
  phase(g: number): string {
    return this.state.local[g]!.run.phase;
  }
  logs(): string[] {
    return this.effects.flatMap((e) => (e.kind === 'log' ? [e.text] : []));
  }
}

test('the preferred node acquires its group: status then start, left to right, without waiting for a tick', () => {
  const a = new Node('a');
  a.membership(['b'], true);
  const eff = a.on({ kind: 'advert', node: 'b', advert: advert(['stopped', 'stopped']) });
  assert.ok(eff.some((e) => e.kind === 'agent' && e.action === 'status'), 'the first call goes out in the same step');
  const calls = a.runAgents();
  assert.deepEqual(calls, [
    'IPaddr::10.0.0.10 status',
    'IPaddr::10.0.0.10 start',
    'apache2 status',
    'apache2 start',
    'mysql status',
    'mysql start',
  ]);
  assert.equal(a.phase(0), 'running');
  assert.equal(a.phase(1), 'stopped', "b's group is left to b");
  assert.ok(a.logs().includes('Acquiring resource group: a IPaddr::10.0.0.10 apache2 mysql'));
});

test('a resource already running is not started again', () => {
  const a = new Node('a');
  a.membership(['b'], true);
  a.on({ kind: 'advert', node: 'b', advert: advert(['stopped', 'stopped']) });
  const calls = a.runAgents((e) => ({ ok: true, running: e.group === 0 && e.resource === 1 }));
  assert.ok(!calls.includes('apache2 start'));
  assert.ok(calls.includes('mysql start'));
});

test('nothing starts before membership is settled', () => {
  const a = new Node('a');
  a.membership([], false);
  assert.equal(a.effects.filter((e) => e.kind === 'agent').length, 0);
});

test('takeover when the owner dies, with Heartbeat\'s log lines; failback stops right to left', () => {
  const b = new Node('b');
  b.membership(['a'], true);
  b.on({ kind: 'advert', node: 'a', advert: advert(['running', 'stopped']) });
  b.runAgents();
  assert.equal(b.phase(0), 'stopped');
  b.on({ kind: 'node-lost', node: 'a', reason: 'timeout' });
  b.membership([], true);
  b.runAgents();
  assert.equal(b.phase(0), 'running');
  const logs = b.logs();
  assert.ok(logs.includes('Resources being acquired from a.'));
  assert.ok(logs.includes('mach_down takeover complete for node a.'));

  // a comes back: b gives the group back (auto_failback on), in reverse order.
  b.membership(['a'], true);
  b.on({ kind: 'advert', node: 'a', advert: advert(['stopped', 'stopped']) });
  assert.deepEqual(b.runAgents(), [], 'not before a has been heard for its hold-down (its first loss: its next heartbeat)');
  b.now += 1000;
  b.on({ kind: 'advert', node: 'a', advert: advert(['stopped', 'stopped']) });
  const calls = b.runAgents();
  assert.deepEqual(calls.filter((c) => c.startsWith('IPaddr::10.0.0.10') || c.startsWith('apache2') || c.startsWith('mysql')), ['mysql stop', 'apache2 stop', 'IPaddr::10.0.0.10 stop']);
  assert.equal(b.phase(0), 'stopped');
  assert.ok(b.logs().includes('Releasing resource group: a IPaddr::10.0.0.10 apache2 mysql'));
});

/**
 * b runs a's group after a was lost once more (`lost` ms after b's clock now); a returns and is
 * heard every second: how long b heard it before giving the group back.
 */
function lossAndReturn(b: Node, lostAfterMs: number): number {
  b.now += lostAfterMs;
  b.on({ kind: 'node-lost', node: 'a', reason: 'timeout' });
  b.membership([], true);
  b.runAgents();
  assert.equal(b.phase(0), 'running', 'b took the group over');
  b.membership(['a'], true);
  const back = b.now;
  for (;;) {
    b.on({ kind: 'advert', node: 'a', advert: advert(['stopped', 'stopped']) });
    b.runAgents();
    if (b.phase(0) === 'stopped') return b.now - back;
    b.now += 1000;
    assert.ok(b.now - back <= 300_000, 'b gave the group back at last');
  }
}

test('flap damping: the first return after a loss is fast; each further recent loss doubles the hold-down, up to 8 deadtimes', () => {
  const b = new Node('b');
  b.membership(['a'], true);
  b.on({ kind: 'advert', node: 'a', advert: advert(['running', 'stopped']) });
  // Keepalive 1 s, deadtime 30 s (the defaults): the next heartbeat, then 30, 60, 120, 240 s.
  const holds = [0, 1, 2, 3, 4].map(() => {
    const held = lossAndReturn(b, 1000);
    b.on({ kind: 'advert', node: 'a', advert: advert(['running', 'stopped']) });
    return held;
  });
  assert.deepEqual(holds, [1000, 30_000, 60_000, 120_000, 240_000]);
  const hold = { quickFailbackMs: 500, failbackDelayMs: 30_000, flapWindowMs: 480_000 };
  assert.equal(failbackHoldMs([1, 2, 3, 4, 5, 6, 7, 8], 10, hold), 240_000, 'capped at 8 deadtimes');
  assert.equal(failbackHoldMs([0, 470_000], 480_000, hold), 500, 'the hold-down shrinks as losses leave the window');
  assert.equal(failbackHoldMs([5], 10, { ...hold, failbackDelayMs: 300 }), 300, 'the first hold-down is never longer than the old one');
});

test('flap damping: losses older than the flap window are forgotten, and the first return is fast again', () => {
  const b = new Node('b');
  b.membership(['a'], true);
  b.on({ kind: 'advert', node: 'a', advert: advert(['running', 'stopped']) });
  assert.equal(lossAndReturn(b, 1000), 1000);
  b.on({ kind: 'advert', node: 'a', advert: advert(['running', 'stopped']) });
  assert.equal(lossAndReturn(b, 1000), 30_000, 'a second loss soon after: a deadtime');
  b.on({ kind: 'advert', node: 'a', advert: advert(['running', 'stopped']) });
  // The window: 5 minutes, but at least twice the longest hold-down (16 deadtimes: 480 s).
  assert.equal(lossAndReturn(b, 481_000), 1000, 'quiet for the window: the earlier losses no longer count');
});

test('flap damping: a node declared dead before it was ever heard (initdead) is no loss', () => {
  const b = new Node('b');
  b.membership([], true);
  b.on({ kind: 'node-lost', node: 'a', reason: 'timeout' });
  b.runAgents();
  assert.deepEqual(b.state.lostAt, {}, 'no run of a was heard: nothing was lost');
});

test('the preferred node waits while the other still holds the group: never two at once', () => {
  const a = new Node('a');
  a.membership(['b'], true);
  assert.equal(a.effects.filter((e) => e.kind === 'agent').length, 0, 'a live peer not yet heard out may hold it');
  a.on({ kind: 'advert', node: 'b', advert: advert(['stopping', 'running']) });
  assert.equal(a.effects.filter((e) => e.kind === 'agent' && e.group === 0).length, 0);
  a.on({ kind: 'advert', node: 'b', advert: advert(['stopped', 'running']) });
  assert.ok(a.effects.some((e) => e.kind === 'agent' && e.group === 0));
});

test('auto_failback off: the group stays where it runs when the preferred node returns', () => {
  const b = new Node('b', 'off');
  b.state = { ...b.state, local: b.state.local.map((g, i) => (i === 0 ? { ...g, run: { phase: 'running', afterStall: false } } : g)) };
  b.membership(['a'], true);
  b.on({ kind: 'advert', node: 'a', advert: advert(['stopped', 'stopped']) });
  assert.equal(desiredOwner(b.state, b.view, 0, 0), 'b');
  assert.equal(b.effects.filter((e) => e.kind === 'agent' && e.group === 0 && e.action === 'stop').length, 0);
});

test('a failed start is rolled back right to left, failed resource included, and the peer may try', () => {
  const a = new Node('a');
  a.membership(['b'], true);
  a.on({ kind: 'advert', node: 'b', advert: advert(['stopped', 'running']) });
  const calls = a.runAgents((e) => ({ ok: !(e.resource === 1 && e.action === 'start'), running: false }));
  const g0 = calls.filter((c) => !c.startsWith('IPaddr::10.0.0.20'));
  assert.deepEqual(g0, ['IPaddr::10.0.0.10 status', 'IPaddr::10.0.0.10 start', 'apache2 status', 'apache2 start', 'apache2 stop', 'IPaddr::10.0.0.10 stop']);
  assert.equal(a.phase(0), 'stopped');
  assert.equal(desiredOwner(a.state, a.view, 0, 0), 'b', 'after a failed start here, the other node is asked');
});

test('a stop that keeps failing becomes stop-failed (CRIT) and keeps the group from the peer', () => {
  const a = new Node('a');
  a.membership(['b'], true);
  a.on({ kind: 'advert', node: 'b', advert: advert(['stopped', 'stopped']) });
  a.runAgents();
  a.on({ kind: 'standby', scope: 'all' });
  for (let i = 0; i < 10; i++) {
    a.runAgents((e) => ({ ok: e.action !== 'stop' }));
    a.now += 1500;
    a.on({ kind: 'tick' });
  }
  assert.equal(a.phase(0), 'stop-failed');
  assert.ok(a.logs().some((l) => /failed to stop: resource group .* may still be running here/.test(l)));
  const b = new Node('b');
  b.membership(['a'], true);
  b.on({ kind: 'advert', node: 'a', advert: advert(['stop-failed', 'stopped'], { standby: [0, 1] }) });
  assert.equal(b.effects.filter((e) => e.kind === 'agent' && e.group === 0).length, 0, 'b must not start it');
});

test('hb_standby gives groups away; hb_takeover on the other node asks for them back', () => {
  const a = new Node('a');
  a.membership(['b'], true);
  a.on({ kind: 'advert', node: 'b', advert: advert(['stopped', 'stopped']) });
  a.runAgents();
  assert.equal(a.phase(0), 'running');
  a.on({ kind: 'standby', scope: 'local' });
  assert.equal(desiredOwner(a.state, a.view, 0, 0), 'b');
  a.runAgents();
  assert.equal(a.phase(0), 'stopped');
  // b runs it now; a asks for it back with hb_takeover local.
  a.on({ kind: 'advert', node: 'b', advert: advert(['running', 'running']) });
  a.on({ kind: 'takeover', scope: 'local' });
  assert.equal(a.state.switches.standby.has(0), false);
  const b = new Node('b');
  b.state = { ...b.state, local: b.state.local.map((g) => ({ ...g, run: { phase: 'running', afterStall: false } })) };
  b.membership(['a'], true);
  b.on({ kind: 'advert', node: 'a', advert: advert(['stopped', 'stopped'], { takeover: { serial: 1, groups: [0] } }) });
  assert.ok(b.state.switches.standby.has(0));
  const calls = b.runAgents();
  assert.ok(calls.includes('IPaddr::10.0.0.10 stop'));
  assert.ok(!calls.includes('IPaddr::10.0.0.20 stop'), 'only the asked-for group moves');
});

test('the holder announces its addresses again when a node it could not hear comes back (it may have announced them meanwhile)', () => {
  const a = new Node('a');
  a.membership(['b'], true);
  a.on({ kind: 'advert', node: 'b', advert: advert(['stopped', 'running']) });
  a.runAgents();
  assert.equal(a.phase(0), 'running');
  // A partition: b is dead to a, takes group 0 over on its side, restarts, lets go: a never
  // sees any of that, only b's first advert after the heal, holding nothing of group 0.
  a.on({ kind: 'node-lost', node: 'b', reason: 'timeout' });
  a.membership([], true);
  a.runAgents();
  a.effects = [];
  a.membership(['b'], true);
  a.on({ kind: 'advert', node: 'b', advert: advert(['stopped', 'stopped']) });
  // a runs both groups by now (it took b's over too): both are announced again.
  assert.equal(a.phase(1), 'running');
  const re = a.effects.filter((e) => e.kind === 'reassert');
  assert.deepEqual(re, [
    { kind: 'reassert', group: 0, from: 'b', why: 'returned' },
    { kind: 'reassert', group: 1, from: 'b', why: 'returned' },
  ]);
  // Its next adverts are no news: no second burst.
  a.effects = [];
  a.on({ kind: 'advert', node: 'b', advert: advert(['stopped', 'stopped']) });
  assert.equal(a.effects.filter((e) => e.kind === 'reassert').length, 0);
});
