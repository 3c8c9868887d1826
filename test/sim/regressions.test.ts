// Seeds the simulator once reported wrongly or rightly; each must stay free of violations.
//   900052: a 2-node double ownership ended with n1 releasing the group to n2 (which held it
//           too); a later run of n2 then started it, and the no-flap check judged that start
//           as a failback of n1's release, against the earlier run's uptime. A release that
//           ends a double ownership is no failback.
//   610232: n1 froze for 4 s while it asked a resource's status during a start; when it ran
//           again its lease was over and the majority's owner was stopping the group, yet the
//           status answer issued the start at once, before the coordinator could stop instead.
//           The sequencer now issues every call from advance(), after the coordinator's checks.
//   600010, 604394: a rolling reload stopped half-way (one node never reloaded) left the nodes
//           that had reloaded waiting for that node before starting the added group, for good;
//           one node stopped waiting during a partition and ran it, and when it crashed nobody
//           took over. Waiting ends once a peer runs the group.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed } from '../../src/sim/run.js';

for (const seed of [900052, 610232, 600010, 604394]) {
  test(`seed ${seed} replays without a violation`, () => {
    const r = runSeed(seed, {});
    assert.equal(r.violation, null, r.violation ? `${r.violation.invariant}: ${r.violation.message}` : '');
  });
}
