// The etcd arbiter in the simulator (src/sim/etcd.ts): a modelled lease service of three
// members behind the same news and effects as the daemon's etcd client. Hand-written schedules
// for what the arbiter is for (two nodes, no witness: a cut heartbeat path, the owner cut from
// etcd, a member down, the quorum lost), a core that starts its stop too late caught by the
// arbiter's invariant, then seeded schedules with the arbiter's own faults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Fault, Schedule } from '../../src/sim/schedule.js';
import { timersFor } from '../../src/sim/bounds.js';
import { realCore, runSchedule, type Core, type RunResult } from '../../src/sim/world.js';
import { runSeed } from '../../src/sim/run.js';

const ARBITER = { ttlMs: 3000, minMs: 1, maxMs: 5 };

/** n1 and n2 with one group of two resources preferred by n1; agent calls take `agentMs`, their timeouts a little more. */
function schedule(faults: Fault[], durationMs: number, agentMs = 5): Schedule {
  const nodes = ['n1', 'n2'];
  const timeout = Math.max(40, agentMs + 1);
  return {
    seed: 1,
    config: {
      nodes,
      // The stop time hbd works out: a start or status call in flight, then both stops.
      arbiter: { ...ARBITER, stopMs: 3 * timeout },
      links: ['eth0'],
      groups: [{ id: 'n1 r0 r1', preferredNode: 'n1', resources: ['r0', 'r1'] }],
      timers: timersFor(100, 600),
      autoFailback: 'on',
      tuning: { stopRetries: 2, stopRetryDelayMs: 100, stopFailedRetryMs: 1000, failedStartHoldMs: 3000, failbackDelayMs: 600 },
      agent: { minMs: agentMs, maxMs: agentMs, timeoutMs: { start: timeout, stop: timeout, status: timeout } },
      net: { minMs: 1, maxMs: 1 },
      bootAt: nodes.map(() => 0),
      durationMs,
    },
    faults,
  };
}

function run(s: Schedule, core?: Core): RunResult {
  const r = runSchedule(s, { trace: true, ...(core ? { core } : {}) });
  assert.equal(r.violation, null, r.violation ? `${r.violation.invariant}: ${r.violation.message}\n${r.trace.slice(-60).join('\n')}` : '');
  return r;
}

const at = (line: string): number => Number(/^\s*([\d.]+)/.exec(line)![1]);
/** When `node` began to start, and had stopped, the group, from the trace. */
const starts = (r: RunResult, node: string): number[] => r.trace.filter((l) => new RegExp(`^\\s*[\\d.]+ ${node}: group "[^"]+" stopped -> starting$`).test(l)).map(at);
const stops = (r: RunResult, node: string): number[] => r.trace.filter((l) => new RegExp(`^\\s*[\\d.]+ ${node}: group "[^"]+" stopping -> stopped$`).test(l)).map(at);

test('2 nodes, no witness: the heartbeat path cut while both reach etcd: n2 never starts the group', () => {
  const r = run(schedule([{ kind: 'partition', at: 5000, durMs: 6000, side: ['n1'], others: ['n2'], oneWay: false, link: null }], 20_000));
  assert.equal(starts(r, 'n1').length, 1, 'n1 started the group once and kept it');
  assert.deepEqual(starts(r, 'n2'), [], 'etcd kept the key with n1');
});

test('n1 cut from etcd (heartbeats flow): it stops before n2 starts; the cut heals: the group returns to n1 (auto_failback on)', () => {
  const r = run(schedule([{ kind: 'etcd', at: 5000, durMs: 6000, what: 'cut', node: 'n1' }], 25_000));
  const [n2] = starts(r, 'n2');
  assert.ok(n2 !== undefined, 'n2 took the group over');
  const stopped = stops(r, 'n1').find((t) => t > 5000)!;
  assert.ok(stopped < n2, `n1 stopped at ${stopped}, before n2 started at ${n2}`);
  assert.ok(n2 - 5000 >= ARBITER.ttlMs - 500, `not before etcd could expire n1's lease (n2 started ${n2 - 5000} ms after the cut)`);
  assert.ok(starts(r, 'n1').some((t) => t > 11_000), 'n1 took it back after the cut');
});

test('one etcd member down or cut off: nothing moves', () => {
  for (const what of ['member-down', 'member-partitioned'] as const) {
    const r = run(schedule([{ kind: 'etcd', at: 5000, durMs: 8000, what, member: 0 }], 20_000));
    assert.equal(starts(r, 'n1').length, 1, what);
    assert.deepEqual(starts(r, 'n2'), [], what);
  }
});

test('etcd loses its quorum: the owner stops within the TTL, nothing starts meanwhile, the group runs again once etcd is back', () => {
  const r = run(schedule([{ kind: 'etcd', at: 5000, durMs: 8000, what: 'quorum' }], 25_000));
  const stopped = stops(r, 'n1').find((t) => t > 5000)!;
  assert.ok(stopped - 5000 <= ARBITER.ttlMs, `n1 stopped ${stopped - 5000} ms after the quorum was lost`);
  assert.ok(![...starts(r, 'n1'), ...starts(r, 'n2')].some((t) => t > 5000 && t < 13_000), 'nothing starts without etcd');
  assert.ok(starts(r, 'n1').some((t) => t >= 13_000), 'the group runs again');
});

test('a core that begins its stop only when its lease may end (a stop time of 0) is caught by the arbiter-lease invariant', () => {
  const late: Core = { ...realCore, initNode: (opts, now) => realCore.initNode({ ...opts, ...(opts.arbiter ? { arbiter: { ...opts.arbiter, stopMs: 0 } } : {}) }, now) };
  const s = schedule([{ kind: 'etcd', at: 5000, durMs: 6000, what: 'cut', node: 'n1' }], 20_000, 300);
  const r = runSchedule(s, { core: late });
  assert.equal(r.violation?.invariant, 'arbiter-lease', r.violation ? r.violation.message : 'no violation');
  run(s); // the real core passes the same schedule
});

test('seeded schedules with the arbiter and its faults (2..7 nodes): no invariant broken', () => {
  const checked: Record<string, number> = {};
  for (let seed = 3_000_000; seed < 3_000_040; seed++) {
    const r = runSeed(seed, { arbiter: 1 });
    assert.equal(r.violation, null, r.violation ? `seed ${seed}: ${r.violation.invariant}: ${r.violation.message}` : '');
    for (const [k, v] of Object.entries(r.checked)) checked[k] = (checked[k] ?? 0) + v;
  }
  assert.ok((checked['arbiter starts'] ?? 0) > 40 && (checked['arbiter key gone'] ?? 0) > 10, JSON.stringify(checked));
});
