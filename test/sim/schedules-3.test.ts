// 3-node clusters (quorum: a majority of 2): 700 seeded schedules against the real core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureReport } from '../../src/sim/run.js';
import { describeViolations, runParallel } from './parallel.js';
import { THREE_NODES } from './suite.js';

test(`${THREE_NODES.count} seeded schedules of 3 nodes: no invariant is violated`, async (t) => {
  const totals = await runParallel([THREE_NODES]);
  t.diagnostic(`${totals.schedules} schedules, ${(totals.simulatedMs / 3.6e6).toFixed(2)} simulated hours, faults ${JSON.stringify(totals.faults)}, excused ${JSON.stringify(totals.excused)}, checks ${JSON.stringify(totals.checked)}`);
  assert.equal(totals.schedules, THREE_NODES.count);
  if (totals.violations.length > 0) {
    const first = totals.violations[0]!;
    assert.fail(`${describeViolations(totals, THREE_NODES.opts)}\n\n${failureReport(first.seed, THREE_NODES.opts)}`);
  }
  assert.ok((totals.checked['stops (fence)'] ?? 0) > 0, 'some holder lost its lease and stopped (partitions, loss)');
  assert.ok((totals.checked['failover checks'] ?? 0) > 0, 'some clean failover was timed');
});
