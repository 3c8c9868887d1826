// Reloads in the simulator: hand-written rolling reloads (seed 003's procedure, and the wrong
// order), then seeded schedules that all have reload faults, every invariant checked. The
// checker counts the holders of a group's resources under any line as its owners, so a
// changed line that ran on two nodes at once would be a safety violation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Fault, Schedule, SimGroup } from '../../src/sim/schedule.js';
import { timersFor } from '../../src/sim/bounds.js';
import { runSchedule, type RunResult } from '../../src/sim/world.js';
import { failureReport } from '../../src/sim/run.js';
import { describeViolations, runParallel, type Range } from './parallel.js';

const A: SimGroup = { id: 'n1 a0 a1', preferredNode: 'n1', resources: ['a0', 'a1'] };
const B: SimGroup = { id: 'n2 b0', preferredNode: 'n2', resources: ['b0'], fromReload: true };
/** A's line changed: its resources and one more. */
const A2: SimGroup = { id: 'n1 a0 a1 a2', preferredNode: 'n1', resources: ['a0', 'a1', 'a2'], fromReload: true };

function schedule(nodes: number, faults: Fault[], durationMs: number, groups: SimGroup[] = [A, B]): Schedule {
  const names = Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  return {
    seed: 1,
    config: {
      nodes: names,
      links: ['eth0'],
      groups,
      timers: timersFor(100, 600),
      autoFailback: 'on',
      tuning: { stopRetries: 2, stopRetryDelayMs: 100, stopFailedRetryMs: 1000, failedStartHoldMs: 3000, failbackDelayMs: 1200 },
      agent: { minMs: 5, maxMs: 5, timeoutMs: { start: 60, stop: 60, status: 60 } },
      net: { minMs: 1, maxMs: 1 },
      bootAt: names.map(() => 0),
      durationMs,
    },
    faults,
  };
}

const reload = (at: number, node: string, groups: SimGroup[], deadtimeMs = 600): Fault => ({ kind: 'reload', at, node, keepaliveMs: 100, deadtimeMs, groups: groups.map((g) => g.id) });

function run(s: Schedule): RunResult {
  const r = runSchedule(s, { trace: true });
  assert.equal(r.violation, null, r.violation ? `${r.violation.invariant}: ${r.violation.message}\n${r.trace.slice(-60).join('\n')}` : '');
  return r;
}

/** "node from -> to" of a group's phase changes, in order. */
function phases(r: RunResult, id: string): string[] {
  return r.trace.flatMap((l) => {
    const m = /^\s*[\d.]+ (n\d): group "([^"]+)" (\S+) -> (\S+)$/.exec(l);
    return m && m[2] === id ? [`${m[1]} ${m[3]} -> ${m[4]}`] : [];
  });
}

for (const nodes of [2, 3]) {
  test(`${nodes} nodes: B added and the deadtime changed, non-owners first; later B removed: A never stops, B starts on its preferred node`, () => {
    const others = Array.from({ length: nodes - 1 }, (_, i) => `n${i + 2}`).reverse();
    const faults = [
      ...[...others, 'n1'].map((n, i) => reload(5000 + 300 * i, n, [A, B], 900)),
      ...['n1', ...others.filter((n) => n !== 'n2'), 'n2'].map((n, i) => reload(12_000 + 300 * i, n, [A], 900)),
    ];
    const r = run(schedule(nodes, faults, 20_000));
    assert.deepEqual(phases(r, A.id), ['n1 stopped -> starting', 'n1 starting -> running'], 'A started once, on n1, and never stopped');
    assert.deepEqual(phases(r, B.id), ['n2 stopped -> starting', 'n2 starting -> running', 'n2 running -> stopping', 'n2 stopping -> stopped']);
  });

  test(`${nodes} nodes: A's line changed, reloaded owner first (the wrong order): its resources never run twice, and end under the new line`, () => {
    const others = Array.from({ length: nodes - 1 }, (_, i) => `n${i + 2}`);
    const faults = ['n1', ...others].map((n, i) => reload(5000 + 1500 * i, n, [A2]));
    const r = run(schedule(nodes, faults, 20_000, [A, A2]));
    const a2 = phases(r, A2.id);
    assert.ok(a2.length >= 2 && a2.at(-1)!.endsWith('starting -> running'), `A2 runs in the end: ${a2.join(', ')}`);
  });
}

test('3 nodes: a group the other two reloaded away stops on its holder before it reloads, saying why', () => {
  const faults = ['n2', 'n3'].map((n, i) => reload(5000 + 500 * i, n, []));
  const r = run(schedule(3, faults, 9000, [A]));
  assert.deepEqual(phases(r, A.id).slice(-2), ['n1 running -> stopping', 'n1 stopping -> stopped'], 'its lease rests on their grants, and they no longer have it');
  assert.ok(r.trace.some((l) => l.includes(`n1: WARN Only 1 of 3 nodes have ${A.id} in haresources`)));
});

const RELOADING: Range[] = [
  { from: 8_000_000, count: 200, opts: { nodes: 2, reloads: 1, faultWindowMs: [8_000, 25_000] } },
  { from: 9_000_000, count: 120, opts: { nodes: 3, reloads: 1, faultWindowMs: [8_000, 25_000] } },
];

test('seeded schedules that all reload (2 and 3 nodes): no invariant is violated', async (t) => {
  const totals = await runParallel(RELOADING);
  t.diagnostic(`${totals.schedules} schedules, faults ${JSON.stringify(totals.faults)}, checks ${JSON.stringify(totals.checked)}`);
  if (totals.violations.length > 0) {
    const first = totals.violations[0]!;
    const range = RELOADING.find((x) => first.seed >= x.from && first.seed < x.from + x.count)!;
    assert.fail(`${describeViolations(totals, range.opts)}\n\n${failureReport(first.seed, range.opts)}`);
  }
  assert.ok((totals.faults.reload ?? 0) > 0);
  assert.ok((totals.checked['stops (removed)'] ?? 0) > 0, 'some removed group was stopped');
  assert.ok((totals.checked['liveness checks'] ?? 0) > 0);
});
