// Two nodes with a quorum source (issue 16): a witness on a third host. Hand-written schedules
// for the partitions a witness exists for, each run on the real core with every invariant
// checked (two nodes with a witness are held to the strict safety rule of quorum clusters),
// then seeded schedules with the witness's own faults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Fault, Schedule } from '../../src/sim/schedule.js';
import { timersFor } from '../../src/sim/bounds.js';
import { runSchedule, type RunResult } from '../../src/sim/world.js';
import { failureReport } from '../../src/sim/run.js';
import { describeViolations, runParallel, type Range } from './parallel.js';

/** n1 and n2 with one group preferred by n1, and (unless `witness` is false) the witness w. */
function schedule(faults: Fault[], durationMs: number, witness = true, extra: Partial<Schedule['config']> = {}): Schedule {
  const nodes = witness ? ['n1', 'n2', 'w'] : ['n1', 'n2'];
  return {
    seed: 1,
    config: {
      nodes,
      ...(witness ? { witness: 'w' } : {}),
      links: ['eth0'],
      groups: [{ id: 'n1 r0 r1', preferredNode: 'n1', resources: ['r0', 'r1'] }],
      timers: timersFor(100, 600),
      autoFailback: 'on',
      tuning: { stopRetries: 2, stopRetryDelayMs: 100, stopFailedRetryMs: 1000, failedStartHoldMs: 3000, failbackDelayMs: 600 },
      agent: { minMs: 5, maxMs: 5, timeoutMs: { start: 60, stop: 60, status: 60 } },
      net: { minMs: 1, maxMs: 1 },
      bootAt: nodes.map(() => 0),
      durationMs,
      ...extra,
    },
    faults,
  };
}

function run(s: Schedule): RunResult {
  const r = runSchedule(s, { trace: true });
  assert.equal(r.violation, null, r.violation ? `${r.violation.invariant}: ${r.violation.message}\n${r.trace.slice(-60).join('\n')}` : '');
  return r;
}

/** When each node started the group's first resource, from the trace. */
const starts = (r: RunResult, node: string): number[] => r.trace.flatMap((l) => (new RegExp(`^\\s*([\\d.]+) ${node}: group "[^"]+" stopped -> starting$`).exec(l) ? [Number(/^\s*([\d.]+)/.exec(l)![1])] : []));

test('2 nodes + witness: the heartbeat path between the nodes cut, both still reach the witness: n2 never starts the group', () => {
  const r = run(schedule([{ kind: 'partition', at: 5000, durMs: 6000, side: ['n1'], others: ['n2'], oneWay: false, link: null }], 20_000));
  assert.equal(starts(r, 'n1').length, 1, 'n1 started the group once and kept it');
  assert.deepEqual(starts(r, 'n2'), [], 'the witness granted the group to n1 only');
  assert.equal(starts(r, 'w').length, 0, 'the witness runs nothing');
});

test('2 nodes + witness: n1 cut off from both n2 and the witness stops before n2 starts', () => {
  const r = run(schedule([{ kind: 'partition', at: 5000, durMs: 6000, side: ['n1'], oneWay: false, link: null }], 20_000));
  const n2 = starts(r, 'n2');
  assert.equal(n2.length, 1, 'n2 took the group over with the witness vote');
  const stopped = r.trace.find((l) => /n1: group "[^"]+" stopping -> stopped/.test(l) && Number(/^\s*([\d.]+)/.exec(l)![1]) > 5000);
  assert.ok(stopped, 'n1 released the group when its lease ended');
  assert.ok(Number(/^\s*([\d.]+)/.exec(stopped)![1]) < n2[0]!, `n1 stopped (${stopped}) before n2 started at ${n2[0]}`);
});

test('2 nodes + witness: the witness down, n1 crashes: n2 alone is no majority and waits (no split brain possible)', () => {
  const faults: Fault[] = [
    { kind: 'crash', at: 4000, node: 'w', downMs: 8000 },
    { kind: 'crash', at: 6000, node: 'n1', downMs: 3000 },
  ];
  const r = run(schedule(faults, 25_000));
  assert.ok(starts(r, 'n2').every((t) => t >= 12_000 || t < 4000), `n2 started only once the witness was back: ${starts(r, 'n2').join(', ')}`);
});

test('2 nodes, no quorum source: the same cut runs the group on both (as Heartbeat does)', () => {
  const r = runSchedule(schedule([{ kind: 'partition', at: 5000, durMs: 6000, side: ['n1'], others: ['n2'], oneWay: false, link: null }], 20_000, false), { trace: true });
  assert.equal(r.violation, null);
  assert.equal(starts(r, 'n2').length, 1, 'n2 took the group over while cut off');
  assert.ok((r.checked['2-node double ownerships heard out'] ?? 0) > 0, 'the double ownership ended once the nodes heard each other');
});

const PING = { ping: { nodes: ['p1'], deadpingMs: 600, intervalMs: 100, ipfail: true } };

test('ipfail: the holder loses its route to the ping node: the group moves to the peer; the route returns: nothing moves', () => {
  const r = run(schedule([{ kind: 'ping-loss', at: 5000, durMs: 5000, node: 'n1', target: null }], 20_000, false, { ...PING, autoFailback: 'off' }));
  const n2 = starts(r, 'n2');
  assert.equal(n2.length, 1, 'n2 took the group over once');
  assert.ok(n2[0]! > 5400 && n2[0]! < 5600 + 1000, `after deadping since the last echo reply, within a few keepalives (at ${n2[0]})`);
  assert.equal(starts(r, 'n1').length, 1, 'n1 never took it back');
});

test('ipfail at cold start: the preferred node\'s first echo reply comes after its peer\'s: it still starts the group, and alone (auto_failback off)', () => {
  // The namespace test's race (test/failover/quorum-ping.test.ts): n1 advertised "reaches 0
  // ping nodes" before its first reply, so n2, already answered, took n1's group and kept it.
  // n2 boots first and has its first reply at 100 ms; n1 boots at 150 ms, its replies lost until 350.
  const r = run(schedule([{ kind: 'ping-loss', at: 0, durMs: 350, node: 'n1', target: null }], 8_000, false, { ...PING, autoFailback: 'off', bootAt: [150, 0] }));
  assert.deepEqual(starts(r, 'n2'), [], 'n2 never started the group');
  assert.equal(starts(r, 'n1').length, 1, 'n1, its preferred node, started it once');
});

test('ipfail: a flapping route (losses shorter than deadping) moves nothing', () => {
  const flaps: Fault[] = Array.from({ length: 8 }, (_, i) => ({ kind: 'ping-loss', at: 5000 + i * 800, durMs: 400, node: 'n1', target: null }));
  const r = run(schedule(flaps, 20_000, false, { ...PING, autoFailback: 'on' }));
  assert.deepEqual(starts(r, 'n2'), []);
  assert.equal(starts(r, 'n1').length, 1);
});

test('ipfail with auto_failback on: the group comes back once, after the route has been back for deadping (hysteresis)', () => {
  const r = run(schedule([{ kind: 'ping-loss', at: 5000, durMs: 4000, node: 'n1', target: null }], 20_000, false, { ...PING, autoFailback: 'on' }));
  const back = starts(r, 'n1').filter((t) => t > 5000);
  assert.equal(back.length, 1, 'one move back');
  assert.ok(back[0]! >= 9000 + 600, `not before the route was back for deadping (at ${back[0]})`);
});

const WITNESS: Range = { from: 1_500_000, count: 200, opts: { nodes: 2, witness: 1, reloads: 0, faultWindowMs: [8_000, 25_000] } };

test(`${WITNESS.count} seeded schedules of 2 nodes + witness (its partitions and crashes): no invariant is violated`, async (t) => {
  const totals = await runParallel([WITNESS]);
  t.diagnostic(`${totals.schedules} schedules, faults ${JSON.stringify(totals.faults)}, checks ${JSON.stringify(totals.checked)}`);
  if (totals.violations.length > 0) assert.fail(`${describeViolations(totals, WITNESS.opts)}\n\n${failureReport(totals.violations[0]!.seed, WITNESS.opts)}`);
  assert.equal(totals.schedules, WITNESS.count);
  assert.equal(totals.checked['2-node double ownerships'] ?? 0, 0, 'every schedule had a witness: the strict rule applied');
  assert.ok((totals.checked['2 nodes + witness'] ?? 0) === WITNESS.count);
  assert.ok((totals.checked['failover checks'] ?? 0) > 0, 'some clean failover was timed');
});

const FENCING: Range = { from: 1_600_000, count: 150, opts: { nodes: 2, fencing: 1, faultWindowMs: [8_000, 25_000] } };
const PINGS: Range = { from: 1_700_000, count: 150, opts: { ping: 1, faultWindowMs: [8_000, 25_000] } };
const ALL: Range = { from: 1_800_000, count: 100, opts: { nodes: 2, witness: 1, fencing: 1, ping: 1, reloads: 0, faultWindowMs: [8_000, 25_000] } };

test(`seeded schedules with fence devices (${FENCING.count}, 2 nodes), ping nodes with ipfail (${PINGS.count}) and all three (${ALL.count}): no invariant is violated`, async (t) => {
  const ranges = [FENCING, PINGS, ALL];
  const totals = await runParallel(ranges);
  t.diagnostic(`${totals.schedules} schedules, faults ${JSON.stringify(totals.faults)}, checks ${JSON.stringify(totals.checked)}`);
  if (totals.violations.length > 0) {
    const v = totals.violations[0]!;
    const range = ranges.find((r) => v.seed >= r.from && v.seed < r.from + r.count)!;
    assert.fail(`${describeViolations(totals, range.opts)}\n\n${failureReport(v.seed, range.opts)}`);
  }
  assert.equal(totals.schedules, FENCING.count + PINGS.count + ALL.count);
  for (const f of ['fence-ok', 'fence-fail', 'fence-hang', 'ping-loss']) assert.ok((totals.faults[f] ?? 0) > 0, `some ${f} happened`);
  assert.ok((totals.checked['fence resets'] ?? 0) > 0, 'some node was powered off by a fence');
});
