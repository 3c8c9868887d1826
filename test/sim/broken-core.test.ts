// The invariants can fail: a core that skips the release step (a node never lets go of a
// group it holds, except for its own shutdown or a failed start) is caught by the
// simulator within the suite's schedules, shrunk, and replayed exactly from its seed. A core
// without flap damping is caught by crash-loop schedules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed, scheduleOf, shrink, type SimOptions } from '../../src/sim/run.js';
import { forgetLosses, skipRelease } from '../../src/sim/variants.js';
import { THREE_NODES, TWO_NODES } from './suite.js';
import type { Range } from './parallel.js';

function firstCaught(range: Range, core: SimOptions['core']): { seed: number; invariant: string; tried: number } | null {
  for (let k = 0; k < range.count; k++) {
    const seed = range.from + k;
    const r = runSeed(seed, { ...range.opts, core });
    if (r.violation) return { seed, invariant: r.violation.invariant, tried: k + 1 };
  }
  return null;
}

for (const range of [TWO_NODES, THREE_NODES]) {
  test(`a core that skips the release step is caught within the ${range.opts.nodes}-node schedules of the suite`, (t) => {
    const broken = skipRelease();
    const caught = firstCaught(range, broken);
    assert.ok(caught, `the broken core passed all ${range.count} schedules`);
    t.diagnostic(`caught by seed ${caught.seed} (${caught.invariant}) after ${caught.tried} schedule(s)`);
    // The same schedule passes with the real core: the variant, not the schedule, is at fault.
    assert.equal(runSeed(caught.seed, range.opts).violation, null);

    // Shrunk to a short schedule that still fails the same way, and replayed exactly.
    const opts = { ...range.opts, core: broken };
    const { reduction, result } = shrink(caught.seed, opts, 150);
    assert.equal(result.violation?.invariant, caught.invariant);
    t.diagnostic(`shrunk from ${scheduleOf(caught.seed, opts).faults.length} to ${reduction.keep.length} fault(s), ${reduction.untilMs ?? 'full'} ms: ${result.violation!.message}`);
    const a = runSeed(caught.seed, opts, reduction, true);
    const b = runSeed(caught.seed, opts, reduction, true);
    assert.deepEqual(a.violation, b.violation);
    assert.deepEqual(a.trace, b.trace, 'the same seed and reduction give the same trace, line for line');
    assert.ok(a.trace.some((l) => l.includes('VIOLATION')));
  });
}

test('a core without flap damping is caught by crash-loop schedules (no-flap)', (t) => {
  const range: Range = { from: 700_000, count: 60, opts: { crashLoops: 1 } };
  const caught = firstCaught(range, forgetLosses());
  assert.ok(caught, `the core without flap damping passed all ${range.count} crash-loop schedules`);
  t.diagnostic(`caught by seed ${caught.seed} (${caught.invariant}) after ${caught.tried} schedule(s)`);
  assert.equal(caught.invariant, 'no-flap');
  assert.equal(runSeed(caught.seed, range.opts).violation, null, 'the real core passes the same schedule');
});
