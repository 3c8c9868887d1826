// 4 to 7 nodes: 100 seeded schedules each against the real core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureReport } from '../../src/sim/run.js';
import { describeViolations, runParallel } from './parallel.js';
import { LARGER } from './suite.js';

for (const range of LARGER) {
  test(`${range.count} seeded schedules of ${range.opts.nodes} nodes: no invariant is violated`, async (t) => {
    const totals = await runParallel([range]);
    t.diagnostic(`${totals.schedules} schedules, ${(totals.simulatedMs / 3.6e6).toFixed(2)} simulated hours, faults ${JSON.stringify(totals.faults)}, excused ${JSON.stringify(totals.excused)}`);
    assert.equal(totals.schedules, range.count);
    if (totals.violations.length > 0) {
      const first = totals.violations[0]!;
      assert.fail(`${describeViolations(totals, range.opts)}\n\n${failureReport(first.seed, range.opts)}`);
    }
  });
}
