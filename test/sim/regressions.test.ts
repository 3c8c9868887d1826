// Seeds the simulator once reported wrongly or rightly; each must stay free of violations.
//   900052: a 2-node double ownership ended with n1 releasing the group to n2 (which held it
//           too); a later run of n2 then started it, and the no-flap check judged that start
//           as a failback of n1's release, against the earlier run's uptime. A release that
//           ends a double ownership is no failback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed } from '../../src/sim/run.js';

for (const seed of [900052]) {
  test(`seed ${seed} replays without a violation`, () => {
    const r = runSeed(seed, {});
    assert.equal(r.violation, null, r.violation ? `${r.violation.invariant}: ${r.violation.message}` : '');
  });
}
