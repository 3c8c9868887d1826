// One seed determines a run: schedule, network, agents, traces. Different seeds differ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replayCommand, runSeed, scheduleOf } from '../../src/sim/run.js';
import { generateSchedule, restrict } from '../../src/sim/schedule.js';
import { runSchedule } from '../../src/sim/world.js';

test('the same seed gives the same schedule, the same trace and the same totals', () => {
  for (const seed of [7, 123_456, 4_000_017]) {
    assert.deepEqual(generateSchedule(seed), generateSchedule(seed));
    const a = runSeed(seed, {}, undefined, true);
    const b = runSeed(seed, {}, undefined, true);
    assert.ok(a.trace.length > 20);
    assert.deepEqual(a.trace, b.trace);
    assert.deepEqual({ ...a, trace: [] }, { ...b, trace: [] });
  }
});

test('different seeds give different runs', () => {
  const traces = new Set([1, 2, 3, 4, 5].map((s) => runSeed(s, { nodes: 3 }, undefined, true).trace.join('\n')));
  assert.equal(traces.size, 5);
});

test('a reduction (kept faults, earlier end) is itself a schedule that replays exactly', () => {
  const seed = 99;
  const full = scheduleOf(seed, { nodes: 4 });
  assert.ok(full.faults.length >= 2, 'this seed has faults to drop');
  const keep = full.faults.map((_, i) => i).filter((i) => i % 2 === 0);
  const reduced = restrict(full, keep, 20_000);
  assert.equal(reduced.faults.length, keep.length);
  assert.equal(reduced.config.durationMs, 20_000);
  const a = runSchedule(reduced, { trace: true });
  const b = runSeed(seed, { nodes: 4 }, { keep, untilMs: 20_000 }, true);
  assert.deepEqual(a.trace, b.trace);
  assert.match(replayCommand(seed, { nodes: 4 }, { keep, untilMs: 20_000 }), /^npm run sim -- --seed 99 --nodes 4 --keep [0-9,]+ --until 20000$/);
});

test('onStep sees every step of every node, in order, the same on every run of a seed (bench/sim-digest.ts)', () => {
  const record = () => {
    const steps: string[] = [];
    const r = runSchedule(scheduleOf(7, { nodes: 3 }), { onStep: (node, now, effects) => steps.push(`${node} ${now} ${JSON.stringify(effects)}`) });
    return { steps, r };
  };
  const a = record();
  const b = record();
  assert.equal(a.steps.length, a.r.steps);
  assert.ok(new Set(a.steps.map((s) => s.split(' ')[0])).size === 3, 'steps of all three nodes');
  assert.deepEqual(a.steps, b.steps);
});
