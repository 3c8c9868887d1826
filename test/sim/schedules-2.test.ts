// 2-node clusters (no quorum source): 900 seeded schedules against the real core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureReport } from '../../src/sim/run.js';
import { describeViolations, runParallel } from './parallel.js';
import { TWO_NODES } from './suite.js';

test(`${TWO_NODES.count} seeded schedules of 2 nodes: no invariant is violated`, async (t) => {
  const totals = await runParallel([TWO_NODES]);
  t.diagnostic(`${totals.schedules} schedules, ${(totals.simulatedMs / 3.6e6).toFixed(2)} simulated hours, faults ${JSON.stringify(totals.faults)}, checks ${JSON.stringify(totals.checked)}`);
  assert.equal(totals.schedules, TWO_NODES.count);
  if (totals.violations.length > 0) {
    const first = totals.violations[0]!;
    assert.fail(`${describeViolations(totals, TWO_NODES.opts)}\n\n${failureReport(first.seed, TWO_NODES.opts)}`);
  }
  // The faults that matter for 2 nodes did happen, and the checks did apply.
  assert.ok((totals.checked['2-node double ownerships heard out'] ?? 0) > 0, 'some double ownership (partition, pause) was healed and resolved');
  assert.ok((totals.checked['failover checks'] ?? 0) > 0, 'some clean failover was timed');
});
