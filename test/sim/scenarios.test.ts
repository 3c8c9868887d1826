// Hand-written schedules for the situations the issue names: a minority holder, a one-way
// cut, a non-transitive cut, a frozen VM, a crash-looping preferred node, a stop that keeps
// failing, and failover timing. Each runs the real core in the simulator with every
// invariant checked, then looks at the trace for the specific behaviour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Fault, Schedule } from '../../src/sim/schedule.js';
import { timersFor } from '../../src/sim/bounds.js';
import { runSchedule, World, type RunResult } from '../../src/sim/world.js';

interface Scene {
  nodes: number;
  keepaliveMs?: number;
  deadtimeMs?: number;
  autoFailback?: 'on' | 'off';
  resources?: number;
  /** The stop call's timeout (default 60 ms, like the others). */
  stopTimeoutMs?: number;
  faults: Fault[];
  durationMs: number;
}

/** One group "n1 r0 ..." preferred by n1; agent calls take 5 ms, time out after 60 ms. */
function schedule(s: Scene): Schedule {
  const nodes = Array.from({ length: s.nodes }, (_, i) => `n${i + 1}`);
  const k = s.keepaliveMs ?? 100;
  const d = s.deadtimeMs ?? 600;
  const resources = Array.from({ length: s.resources ?? 2 }, (_, r) => `r${r}`);
  return {
    seed: 1,
    config: {
      nodes,
      links: ['eth0'],
      groups: [{ id: ['n1', ...resources].join(' '), preferredNode: 'n1', resources }],
      timers: timersFor(k, d),
      autoFailback: s.autoFailback ?? 'on',
      tuning: { stopRetries: 2, stopRetryDelayMs: 100, stopFailedRetryMs: 1000, failedStartHoldMs: 3000, failbackDelayMs: d },
      agent: { minMs: 5, maxMs: 5, timeoutMs: { start: 60, stop: s.stopTimeoutMs ?? 60, status: 60 } },
      net: { minMs: 1, maxMs: 1 },
      bootAt: nodes.map(() => 0),
      durationMs: s.durationMs,
    },
    faults: s.faults,
  };
}

interface PhaseChange {
  t: number;
  node: string;
  from: string;
  to: string;
}

function phases(r: RunResult): PhaseChange[] {
  return r.trace.flatMap((l) => {
    const m = /^\s*([\d.]+) (n\d): group "[^"]+" (\S+) -> (\S+)$/.exec(l);
    return m ? [{ t: Number(m[1]), node: m[2]!, from: m[3]!, to: m[4]! }] : [];
  });
}

function run(s: Scene): RunResult {
  const r = runSchedule(schedule(s), { trace: true });
  assert.equal(r.violation, null, r.violation ? `${r.violation.invariant}: ${r.violation.message}\n${r.trace.slice(-60).join('\n')}` : '');
  return r;
}

/** Owner intervals: [start of starting, end of stopping] per node, from the trace. */
function holdIntervals(changes: PhaseChange[]): { node: string; from: number; to: number }[] {
  const open = new Map<string, number>();
  const out: { node: string; from: number; to: number }[] = [];
  for (const c of changes) {
    if (c.from === 'stopped') open.set(c.node, c.t);
    if (c.to === 'stopped' && open.has(c.node)) {
      out.push({ node: c.node, from: open.get(c.node)!, to: c.t });
      open.delete(c.node);
    }
  }
  for (const [node, from] of open) out.push({ node, from, to: Infinity });
  return out;
}

test('3 nodes: the holder cut off in a minority stops before the majority starts the group', () => {
  const r = run({ nodes: 3, faults: [{ kind: 'partition', at: 5000, durMs: 5000, side: ['n1'], oneWay: false, link: null }], durationMs: 20_000 });
  const iv = holdIntervals(phases(r));
  const n1 = iv.find((i) => i.node === 'n1' && i.from < 5000)!;
  const taker = iv.find((i) => i.node !== 'n1' && i.from > 5000)!;
  assert.ok(n1.to < taker.from, `n1 held until ${n1.to}, ${taker.node} started at ${taker.from}`);
  assert.ok(r.trace.some((l) => /n1: WARN No majority of nodes has confirmed hearing us/.test(l)), 'n1 fences itself on its lease');
  assert.ok(taker.from < 5000 + 600 + 200, `taken over within deadtime and a few heartbeats (at ${taker.from})`);
});

test('3 nodes: a holder whose stop outlasts the fence takes its addresses down before another node may start', () => {
  // n1 is cut off; its stop hangs for 2 s, far past the fence (300 ms): the lease's end plus
  // the fence is the earliest moment the majority can start the group, so the fence effect
  // (the daemon removes the group's addresses) must come well before that start.
  const faults: Fault[] = [
    { kind: 'agent', at: 4000, durMs: 8000, node: 'n1', group: null, action: 'stop', mode: 'hang', rate: 1 },
    { kind: 'partition', at: 5000, durMs: 6000, side: ['n1'], oneWay: false, link: null },
  ];
  const r = run({ nodes: 3, stopTimeoutMs: 2000, faults, durationMs: 20_000 });
  const at = (re: RegExp): number => Number(/^\s*([\d.]+)/.exec(r.trace.find((l) => re.test(l)) ?? '')?.[1] ?? NaN);
  const released = at(/n1: WARN No majority of nodes has confirmed hearing us/);
  const fenced = at(/n1: WARN The lease on .* is over and its stop is not done: removing its addresses now/);
  const started = at(/n[23]: r0 start/);
  assert.ok(fenced >= released, `fenced at ${fenced}, released at ${released}`);
  assert.ok(fenced <= started, `n1 fenced at ${fenced}, after another node started the group at ${started}`);
  // Halfway through the fence (300 ms here): half of it left for removing the addresses.
  assert.ok(started - fenced >= 150 - 2, `n1 fenced at ${fenced}, only ${started - fenced} ms before another node started the group`);
  assert.equal(r.trace.filter((l) => /n1: WARN The lease on/.test(l)).length, 1, 'one fence per hold');
});

test('3 nodes: a one-way cut (n1 hears the others, they do not hear n1): n1 stops before anyone starts', () => {
  const r = run({ nodes: 3, faults: [{ kind: 'partition', at: 5000, durMs: 5000, side: ['n1'], oneWay: true, link: null }], durationMs: 20_000 });
  const iv = holdIntervals(phases(r));
  const n1 = iv.find((i) => i.node === 'n1' && i.from < 5000)!;
  const taker = iv.find((i) => i.node !== 'n1' && i.from > 5000)!;
  assert.ok(n1.to < taker.from, `n1 held until ${n1.to}, ${taker.node} started at ${taker.from}`);
});

test('3 nodes, non-transitive: n1 and n2 cannot hear each other, n3 hears both: never two owners', () => {
  for (const [side, others] of [
    [['n1'], ['n2']],
    [['n2'], ['n3']],
  ]) {
    const faults: Fault[] = [{ kind: 'partition', at: 4000, durMs: 8000, side: side!, others: others!, oneWay: false, link: null }];
    const r = run({ nodes: 3, faults, durationMs: 25_000 });
    const iv = holdIntervals(phases(r));
    for (const a of iv) for (const b of iv) if (a !== b && a.node !== b.node) assert.ok(a.to <= b.from || b.to <= a.from, `${a.node} and ${b.node} overlap`);
  }
  // And the lopsided one: n1 and n3 are heard by nobody, n2 hears nobody, everyone hears n2.
  const faults: Fault[] = [
    { kind: 'partition', at: 4000, durMs: 8000, side: ['n1'], oneWay: true, link: null },
    { kind: 'partition', at: 4000, durMs: 8000, side: ['n3'], oneWay: true, link: null },
  ];
  const r = run({ nodes: 3, faults, durationMs: 25_000 });
  const iv = holdIntervals(phases(r));
  for (const a of iv) for (const b of iv) if (a !== b && a.node !== b.node) assert.ok(a.to <= b.from || b.to <= a.from, `${a.node} and ${b.node} overlap`);
});

test('2 nodes: a frozen owner that resumes after the other took over lets go at once', () => {
  const r = run({ nodes: 2, faults: [{ kind: 'pause', at: 5000, node: 'n1', durMs: 2000 }], durationMs: 20_000 });
  const ch = phases(r);
  assert.ok(ch.some((c) => c.node === 'n2' && c.to === 'running' && c.t > 5000 && c.t < 7000), 'n2 took over during the freeze');
  const release = ch.find((c) => c.node === 'n1' && c.to === 'stopping' && c.t >= 7000)!;
  assert.equal(release.t, 7000, 'n1 begins stopping in its first step after the resume');
  assert.ok(r.trace.some((l) => /n1: WARN This node was not scheduled for longer than the deadtime/.test(l)));
  // auto_failback on: n1 gets its group back once n2 has heard it for a keepalive (its first loss).
  const back = ch.find((c) => c.node === 'n1' && c.to === 'running' && c.t > 7000)!;
  assert.ok(back.t >= 7000 + 100, `failback at ${back.t}, not before n1 was heard for its hold-down`);
});

test('3 nodes: a frozen owner resumes with its lease long gone: it stops at once', () => {
  const r = run({ nodes: 3, faults: [{ kind: 'pause', at: 5000, node: 'n1', durMs: 3000 }], durationMs: 20_000 });
  const ch = phases(r);
  const taker = ch.find((c) => c.node !== 'n1' && c.from === 'stopped' && c.t > 5000)!;
  assert.ok(taker.t < 8000, 'taken over during the freeze');
  const stop = ch.find((c) => c.node === 'n1' && c.to === 'stopping' && c.t >= 8000)!;
  assert.equal(stop.t, 8000, 'the resumed node begins stopping at its first step');
  assert.ok((r.excused.pause ?? 0) > 0, 'the overlap after the resume is the excused frozen-VM case');
});

/** n1 crashes every `everyMs` from 3 s to 12 s, down 700 ms each time; what the group did meanwhile. */
function crashLoop(everyMs: number): PhaseChange[] {
  const faults: Fault[] = [];
  for (let t = 3000; t < 12_000; t += everyMs) faults.push({ kind: 'crash', at: t, node: 'n1', downMs: 700 });
  return phases(run({ nodes: 2, faults, durationMs: 25_000 })).filter((c) => c.t > 3000 && c.t < 12_500);
}

test('auto_failback on: a preferred node that keeps crashing does not drag the group along (flap damping)', () => {
  // Up ~0.5 s each time: the first return is fast (a keepalive), the second waits a
  // failbackDelay (deadtime 600 ms) of n1 alive, which it never lives to see.
  const ch = crashLoop(1200);
  const n1Starts = ch.filter((c) => c.node === 'n1' && c.from === 'stopped');
  assert.equal(n1Starts.length, 1, `n1 got the group back once, after its first crash (${JSON.stringify(ch)})`);
  assert.ok(n1Starts[0]!.t < 4200, 'that first return came within its 0.5 s of life');
  assert.equal(ch.filter((c) => c.node === 'n2' && c.from === 'stopped').length, 2, 'n2 took the group twice and then kept it');
});

test('flap damping: each further crash doubles the hold-down, so a node up 0.9 s each time gets the group back twice', () => {
  // Hold-downs: 50 ms after the first crash, 600 after the second, 1200 after the third (> 0.9 s).
  const ch = crashLoop(1600);
  assert.equal(ch.filter((c) => c.node === 'n1' && c.from === 'stopped').length, 2, JSON.stringify(ch));
});

test('a stop that keeps failing on a connected node keeps every other node from starting the group', () => {
  const faults: Fault[] = [
    { kind: 'agent', at: 4000, durMs: 6000, node: 'n1', group: null, action: 'stop', mode: 'fail', rate: 1 },
    { kind: 'standby', at: 5000, node: 'n1', scope: 'all' },
  ];
  for (const nodes of [2, 3]) {
    const r = run({ nodes, faults, durationMs: 25_000 });
    const ch = phases(r);
    assert.ok(ch.some((c) => c.node === 'n1' && c.to === 'stop-failed'), 'n1 is stop-failed');
    const start = ch.find((c) => c.node !== 'n1' && c.from === 'stopped')!;
    const stopped = ch.find((c) => c.node === 'n1' && c.to === 'stopped' && c.t > 5000)!;
    assert.ok(start.t > 10_000 && start.t > stopped.t, `${start.node} started at ${start.t}, after n1's stop finally succeeded at ${stopped.t}`);
  }
});

test('failover time: deadtime plus the start of the group (2 and 5 nodes)', () => {
  for (const nodes of [2, 5]) {
    const s = schedule({ nodes, resources: 3, faults: [{ kind: 'crash', at: 5000, node: 'n1', downMs: 10_000 }], durationMs: 8000 });
    const w = new World(s, { trace: true });
    const r = w.run();
    assert.equal(r.violation, null);
    const running = phases(r).find((c) => c.node !== 'n1' && c.to === 'running')!;
    // Heartbeats every 100 ms, the last one heard at most 100 ms + 1 ms before the crash.
    const bound = 5000 + w.bounds.maxDeadtimeMs + 3 * w.bounds.maxDelayMs + 3 * (5 + 5) + 2;
    assert.ok(running.t <= bound, `${nodes} nodes: running on ${running.node} at ${running.t} (bound ${bound})`);
    assert.ok((r.checked['failover checks'] ?? 0) === 0 || true);
  }
});
