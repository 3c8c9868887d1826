// The nemesis checker on hand-made histories: each invariant holds on a good history and
// fires on the bad one it is about, so a real run's silence means something.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundsOf, check, FAILED_START_HOLD_MS, type AppliedFault, type ClientAnswer, type History } from './checker.js';
import { DEFAULT_TIMERS, type Fault, type Schedule } from './schedule.js';

const T0 = 1_000_000;

function schedule(nodes: number, faults: Fault[] = [], redundantMedia = false): Schedule {
  return { seed: 1, nodes: Array.from({ length: nodes }, (_, i) => `node${i + 1}`), redundantMedia, timers: DEFAULT_TIMERS, startTimeoutMs: 3000, stopTimeoutMs: 10_000, windowMs: 20_000, tailMs: 30_000, faults };
}

/** Answers every 50 ms in [from, to) from `node` (null: failing). */
function answers(from: number, to: number, node: string | null): ClientAnswer[] {
  const out: ClientAnswer[] = [];
  for (let t = from; t < to; t += 50) out.push({ sent: t, t: t + 2, node });
  return out;
}

function history(s: Schedule, over: Partial<History> = {}): History {
  const tailFrom = T0 + s.windowMs;
  const end = tailFrom + boundsOf(s).settleMs + 4000;
  return {
    t0: T0,
    end,
    tailFrom,
    holdings: [{ node: 'node1', from: T0 - 5000, to: end }],
    answers: answers(T0, end, 'node1'),
    logs: {},
    applied: [],
    unexpectedExits: [],
    ...over,
  };
}

const invariants = (h: History, s: Schedule): string[] => check(h, s).violations.map((v) => v.invariant);
const applied = (fault: Fault): AppliedFault => ({ fault, from: T0 + fault.at, to: T0 + fault.at + fault.durMs });

test('a quiet history breaks no invariant', () => {
  for (const n of [2, 3, 5]) assert.deepEqual(invariants(history(schedule(n)), schedule(n)), []);
});

test('two holders with a quorum: a violation even during a partition', () => {
  const f: Fault = { kind: 'partition', at: 1000, durMs: 5000, shape: 'split', blocks: [{ from: 'node1', to: 'node2' }] };
  const s = schedule(3, [f]);
  const h = history(s, { applied: [applied(f)], holdings: [{ node: 'node1', from: T0 - 5000, to: T0 + 3000 }, { node: 'node2', from: T0 + 2990, to: history(s).end }] });
  assert.ok(invariants(h, s).includes('two-owners'));
  const handoff = history(s, { applied: [applied(f)], holdings: [{ node: 'node1', from: T0 - 5000, to: T0 + 3000 }, { node: 'node2', from: T0 + 3000, to: T0 + 10_000 }, { node: 'node1', from: T0 + 10_100, to: history(s).end }] });
  assert.ok(!invariants(handoff, s).includes('two-owners'));
});

test('two holders in 2 nodes: allowed while they cannot hear each other and for the resolve bound after', () => {
  const f: Fault = { kind: 'partition', at: 1000, durMs: 5000, shape: 'symmetric', blocks: [{ from: 'node1', to: 'node2' }, { from: 'node2', to: 'node1' }] };
  const s = schedule(2, [f]);
  const end = history(s).end;
  const healEnd = T0 + 6000;
  const soon = history(s, { applied: [applied(f)], holdings: [{ node: 'node1', from: T0 - 5000, to: end }, { node: 'node2', from: T0 + 3500, to: healEnd + boundsOf(s).resolveMs - 100 }] });
  assert.ok(!invariants(soon, s).includes('two-owners'));
  const late = history(s, { applied: [applied(f)], holdings: [{ node: 'node1', from: T0 - 5000, to: end }, { node: 'node2', from: T0 + 3500, to: healEnd + boundsOf(s).resolveMs + 500 }] });
  assert.ok(invariants(late, s).includes('two-owners'));
  const noFault = history(schedule(2), { holdings: [{ node: 'node1', from: T0 - 5000, to: end }, { node: 'node2', from: T0 + 3500, to: T0 + 3600 }] });
  assert.ok(invariants(noFault, schedule(2)).includes('two-owners'));
});

test('a frozen node is excused while frozen, not long after its thaw', () => {
  const f: Fault = { kind: 'freeze', at: 1000, durMs: 4000, node: 'node1' };
  const s = schedule(3, [f]);
  const end = history(s).end;
  const released = history(s, { applied: [applied(f)], holdings: [{ node: 'node1', from: T0 - 5000, to: T0 + 5100 }, { node: 'node2', from: T0 + 3500, to: end }], answers: answers(T0, end, 'node2') });
  assert.ok(!invariants(released, s).includes('two-owners'));
  // Excused until its stop could be over (the stop timeout) and a keepalive more, not after.
  const kept = history(s, { applied: [applied(f)], holdings: [{ node: 'node1', from: T0 - 5000, to: T0 + 5000 + s.stopTimeoutMs + 1000 }, { node: 'node2', from: T0 + 3500, to: end }] });
  assert.ok(invariants(kept, s).includes('two-owners'));
});

test('after the faults: failed requests, two servers, no holder, and no failback are each caught', () => {
  const s = schedule(2);
  const base = history(s);
  const settleAt = base.tailFrom + boundsOf(s).settleMs;
  assert.ok(invariants(history(s, { answers: [...answers(T0, settleAt + 500, 'node1'), ...answers(settleAt + 500, base.end, null)] }), s).includes('unserved'));
  assert.ok(invariants(history(s, { answers: [...answers(T0, settleAt + 500, 'node1'), ...answers(settleAt + 500, base.end, 'node2')] }), s).includes('two-servers'));
  assert.ok(invariants(history(s, { holdings: [{ node: 'node1', from: T0 - 5000, to: settleAt + 100 }] }), s).includes('unsettled'));
  assert.ok(invariants(history(s, { answers: answers(T0, base.end, 'node2') }), s).includes('no-failback'));
  // After a hand switch the group may end anywhere, but still on exactly one node.
  const switched = schedule(2, [{ kind: 'standby', at: 1000, durMs: 0, node: 'node1' }]);
  assert.ok(!invariants(history(switched, { answers: answers(T0, base.end, 'node2'), holdings: [{ node: 'node2', from: T0, to: base.end }] }), switched).includes('no-failback'));
});

test('a failed start on the preferred node: failback is due only after its hold, then it is', () => {
  const f: Fault = { kind: 'agent-fail', at: 1000, durMs: 2000, node: 'node1' };
  const s = schedule(3, [f]);
  const failedAt = T0 + 1500;
  const logs = { node1: [{ at: failedAt, text: 'ERROR: Resource web failed to start: stopping resource group node1 web again so it never runs half-started.' }] };
  // node2 serves through the hold; node1 takes the group back once it is over.
  const back = failedAt + FAILED_START_HOLD_MS + 5000;
  const end = failedAt + FAILED_START_HOLD_MS + boundsOf(s).settleMs + 4000;
  const holdings = [{ node: 'node1', from: T0 - 5000, to: failedAt }, { node: 'node2', from: failedAt + 200, to: back }, { node: 'node1', from: back + 100, to: end }];
  const failback = history(s, { end, applied: [applied(f)], logs, holdings, answers: [...answers(T0, failedAt, 'node1'), ...answers(failedAt + 300, back, 'node2'), ...answers(back + 200, end, 'node1')] });
  assert.deepEqual(invariants(failback, s), []);
  // Still on node2 once the hold and the settle bound are over: no failback.
  const stuck = history(s, { end, applied: [applied(f)], logs, holdings: [{ node: 'node1', from: T0 - 5000, to: failedAt }, { node: 'node2', from: failedAt + 200, to: end }], answers: [...answers(T0, failedAt, 'node1'), ...answers(failedAt + 300, end, 'node2')] });
  assert.ok(invariants(stuck, s).includes('no-failback'));
  // The failback's move at the hold's end is counted as the failing agent's outage.
  const moving = check({ ...failback, answers: [...answers(T0, back, 'node2'), ...answers(back + 1000, end, 'node1')] }, s);
  assert.equal(moving.longestOutage.none, undefined, JSON.stringify(moving.longestOutage));
  assert.ok((moving.longestOutage['agent-fail'] ?? 0) >= 1000);
});

test('flapping: more takes of the VIP than two per fault', () => {
  const f: Fault = { kind: 'kill-hbd', at: 1000, durMs: 1000, node: 'node1' };
  const s = schedule(2, [f]);
  const end = history(s).end;
  const takes = [0, 1, 2, 3, 4].map((i) => ({ node: i % 2 ? 'node2' : 'node1', from: T0 + i * 1000, to: T0 + i * 1000 + 900 }));
  assert.ok(invariants(history(s, { applied: [applied(f)], holdings: [...takes, { node: 'node1', from: T0 + 6000, to: end }] }), s).includes('flapping'));
  assert.ok(!invariants(history(s, { applied: [applied(f)], holdings: [{ node: 'node1', from: T0 - 1000, to: T0 + 1000 }, { node: 'node2', from: T0 + 2000, to: T0 + 4000 }, { node: 'node1', from: T0 + 4100, to: end }] }), s).includes('flapping'));
});

test('logs: split-brain lines outside a partition, daemon errors, and exits nobody caused', () => {
  const s = schedule(2);
  assert.ok(invariants(history(s, { logs: { node1: [{ at: T0 + 100, text: 'ERROR: Both machines own our resources!' }] } }), s).includes('split-brain-log'));
  assert.ok(invariants(history(s, { logs: { node2: [{ at: T0 + 100, text: 'hbd: internal error: TypeError: x is undefined' }] } }), s).includes('daemon-error'));
  assert.ok(invariants(history(s, { unexpectedExits: [{ node: 'node2', at: T0 + 100, how: 'exit code 1' }] }), s).includes('daemon-exit'));
});

test('cutting one of two media: a failover or an unnoticed cut is a violation', () => {
  const f: Fault = { kind: 'cut-medium', at: 1000, durMs: 3000, node: 'node1' };
  const s = schedule(2, [f], true);
  const end = history(s).end;
  const noticed = { node2: [{ at: T0 + 3200, text: 'info: Link node1:eth1 dead.' }] };
  assert.deepEqual(invariants(history(s, { applied: [applied(f)], logs: noticed }), s), []);
  assert.ok(invariants(history(s, { applied: [applied(f)] }), s).includes('media-unnoticed'));
  const moved = history(s, { applied: [applied(f)], logs: noticed, holdings: [{ node: 'node1', from: T0 - 5000, to: T0 + 3000 }, { node: 'node2', from: T0 + 3100, to: T0 + 6000 }, { node: 'node1', from: T0 + 6100, to: end }] });
  assert.ok(invariants(moved, s).includes('media-failover'));
});

test('the longest outage is attributed to the faults in effect during it', () => {
  const f: Fault = { kind: 'kill-hbd-guard', at: 1000, durMs: 2000, node: 'node1' };
  const s = schedule(2, [f]);
  const end = history(s).end;
  const r = check(history(s, { applied: [applied(f)], answers: [...answers(T0, T0 + 1000, 'node1'), ...answers(T0 + 1000, T0 + 3000, null), ...answers(T0 + 3000, end, 'node1')] }), s);
  assert.ok((r.longestOutage['kill-hbd-guard'] ?? 0) >= 1900, JSON.stringify(r.longestOutage));
  assert.equal(r.longestOutage.none, undefined);
});
