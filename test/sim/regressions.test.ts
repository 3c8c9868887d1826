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
//   9002764 (2 nodes, fencing): n1 started a group while n2 was held off after a failed start;
//           n2's hold ended and, with n1's advert still delayed, n2 started it too. Fencing stops
//           takeovers from a lost node, not two live nodes starting at once: a start there now
//           needs the live peer's grant (core/lease.ts, consented).
//   1600443 (6 nodes, every fault family): n2 held n4's group through n4's growing hold-down;
//           n4 restarted, and in the step that counted that loss n2 let go for n1 (first in
//           ha.cf with n4 out of the view). n4's new run joined 60 ms later, found the group
//           unheld and started it: the hold-down was bypassed. A restart step releases nothing.
//   1602560 (7 nodes): n5 and n6 were declared dead in the same instant. Ownership handled
//           n5's loss first, on a view without n6 either, and forgot n6's advert there; n6's own
//           loss then counted for nothing, and n6's group came back after one keepalive instead
//           of a grown hold-down. Nodes lost together stay in the view until their own step.
//   1608881 (5 nodes, auto_failback off): n3, in standby since an hb_takeover on n1, yielded
//           n1's group to n2, whose new run was heard but still joining (up, not active) and
//           could not start it; n1, crash-looping, came back and started the unheld group at
//           once. A node is stable (for failback or a standby's yield) only once it is active.
//   1607334 (3 nodes, etcd arbiter): n1 campaigned for n3's group while n3 was down, then a reload
//           removed that group from n1's haresources. The group was stopped there, so it was
//           forgotten without resigning: n1's campaign took the key when n3's lease expired, and
//           n3 never got it back. A group forgotten after a reload resigns its key by id.
//   1613627 (7 nodes, crash loop): n2 held n4's group through n4's hold-down while n1, first in
//           ha.cf, was back. n4 crashed; in the step of its death n2 let go for n1, and n4's next
//           run booted 87 ms later, found the group unheld and started it. The checker took that
//           for a failback n2 released to n4, judged on the run of n4 that had just died. A
//           release while the releaser sees the preferred node dead is for another node (as an
//           ipfail release is); the core is unchanged. Found by the long run on 5acd759.
//   1628211 (3 nodes, crash loop): n2, crash-looping, booted inside a partition and an operator
//           ran hb_takeover on it. When the partition healed, n1 read the request in n2's first
//           advert, stood by and let go at once, as the core means an operator's switch to act.
//           The checker excused switches only within a few deadtimes of the command, and took
//           the late-delivered one for a failback inside the hold-down. A release by a holder
//           asked to stand by after it heard the preferred node's run is the operator's; the
//           core is unchanged. Found by the long run on 46d05ca.
//   1631337 (5 nodes, etcd arbiter, monitors): n3 held n5's group while n5 was down and cut from
//           etcd, n1 kept out of it by its monitor. When n2's ping nodes came back, n3 handed
//           the group to n2 (n5, back but absent from etcd, was no candidate); n2, cut from etcd
//           itself, could not take it, and n5's new run found it unheld and started it. The
//           checker had computed where the release went without the arbiter's view (so: n5, a
//           failback inside n5's hold-down). A hand-off to another active node fails nothing
//           back; the core is unchanged. Found by the long run on 528398c.
//   1643713 (2 nodes, no quorum source, 42 % loss, a monitor fault): n1 took n2's group over in
//           the loss while n2 kept it. Just as they heard each other again, n2's monitor
//           restarted a resource, and its heartbeat said the group was `stopping`: to n1, n2
//           was letting go, so n1 kept it, and with n2's next adverts lost the double ownership
//           outlasted resolveMs. A group in a restart is ours throughout: it is advertised as
//           starting. Found by the long run on 2c1bd0d.
//   1765551 (7 nodes): a shutdown fault on n1 at 138 ms, before n1's first boot at 3117 ms,
//           ended at 1780 ms by booting it; its planned first boot then booted it again, a
//           second run without the first one ending. The checker's record of the peer runs n1
//           had read (kept per run, cleared when a run ends) carried over, and n1's new run was
//           judged on a loss of n7 only its old run had seen. A planned boot of a running node
//           is now skipped, and booting a running node is an error; the core is unchanged.
//           Found by the long run on 9d3ec09's simulator.
//   1784012 (2 nodes, no quorum source, a rolling reload under loss and delay): n1 reloaded
//           into a new line for g1r0 and took it over from a silent n2; n2, still on the old
//           line, took it too. n1 heard n2 then: n2 must yield to it (another line, n1 first in
//           ha.cf). But n2 reloaded before hearing n1, stopped the old line and started the new
//           one in one step, where n2 is preferred and n1 must yield, which n1 learns only from
//           n2's next heartbeat. The checker joined the two ownerships of n2 into one and judged
//           the second on what n1 had heard of the first. A stop is now seen before a start in
//           the same step; the core is unchanged. Found by the long run on 415b131.
//   1796630 (2 nodes, no quorum source, auto_failback off): n2 stood by for its own groups,
//           so n1 ran them; a partition, and n2 ran them too. When it healed n1 heard n2, in
//           standby: n2 was to yield. Then an operator ran hb_takeover on n2 (before n2 heard
//           n1): now n1 was to yield, and n1 learned it only from n2's next heartbeat, which the
//           delay held back past resolveMs after n2 heard n1. The checker counted n2's
//           heartbeat from before the takeover. A heartbeat counts now only if sent after the
//           sender's last change of what decides the owner (two-node.ts); the core is
//           unchanged. Found by the long run on f25dc28.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed } from '../../src/sim/run.js';
import { skipRelease } from '../../src/sim/variants.js';

import type { SimOptions } from '../../src/sim/run.js';

/** The long run's options: every fault family (its seeds replay with these). */
const EVERY_FAMILY: SimOptions = { monitors: 0.3, witness: 0.3, fencing: 0.3, ping: 0.3, arbiter: 0.2 };

const SEEDS: { seed: number; what?: string; opts: SimOptions }[] = [
  ...[900052, 610232, 600010, 604394].map((seed) => ({ seed, opts: {} })),
  { seed: 9002764, what: '2 nodes with fencing, held to the strict safety rule', opts: { nodes: 2, fencing: 1 } },
  { seed: 1600443, what: 'a holder let go in the step of a restart, bypassing the hold-down', opts: EVERY_FAMILY },
  { seed: 1602560, what: 'two nodes lost in one instant: the second loss was not counted', opts: EVERY_FAMILY },
  { seed: 1608881, what: 'a standby holder yielded to a node still joining', opts: EVERY_FAMILY },
  { seed: 1607334, what: 'a reload removed a group whose key campaign went on', opts: EVERY_FAMILY },
  { seed: 1613627, what: 'a holder let go for another node as the preferred node died; its next run found the group unheld', opts: EVERY_FAMILY },
  { seed: 1628211, what: 'an hb_takeover delivered after a partition: the holder let go at once, as asked', opts: EVERY_FAMILY },
  { seed: 1631337, what: 'a hand-off to another node (the preferred one absent from etcd) that could not take it', opts: EVERY_FAMILY },
  { seed: 1643713, what: 'a 2-node double ownership outlasted resolveMs: a restart was advertised as stopping', opts: EVERY_FAMILY },
  { seed: 1765551, what: 'a fault booted a node before its first boot, which then booted it again', opts: EVERY_FAMILY },
  { seed: 1784012, what: 'a reload swapped lines during a 2-node double ownership', opts: EVERY_FAMILY },
  { seed: 1796630, what: 'an hb_takeover turned a 2-node double ownership round after it was heard', opts: EVERY_FAMILY },
];

for (const { seed, what, opts } of SEEDS) {
  test(`seed ${seed}${what ? ` (${what})` : ''} replays without a violation`, () => {
    const r = runSeed(seed, opts);
    assert.equal(r.violation, null, r.violation ? `${r.violation.invariant}: ${r.violation.message}` : '');
  });
}

test('seed 1784012: the checker sees a swap of lines in one step as the end of one ownership and the start of another', () => {
  const r = runSeed(1784012, EVERY_FAMILY, { keep: [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 12], untilMs: 19100 }, true);
  assert.equal(r.violation, null);
  const owners = r.trace.filter((l) => /^\s*18860\.4 owners of "n2 g1r0":/.test(l)).map((l) => l.replace(/^.*: /, ''));
  // n2 stops "n2 g1r0" and starts "n2 g1r0 g2r0" at 18860.4: for that instant n1 alone owns g1r0.
  assert.deepEqual(owners, ['[n1]', '[n1, n2]']);
  // The new double ownership ends on n1's first heartbeat from n2 since, within resolveMs.
  const heard = r.trace.find((l) => /n1: WARN Late heartbeat: Node n2/.test(l) && parseFloat(l) > 18860.4);
  const released = r.trace.find((l) => /n1: group "n2 g1r0 g2r0" running -> stopping/.test(l));
  assert.ok(heard && released, 'n1 heard n2 and let go');
  assert.equal(parseFloat(released), parseFloat(heard));
});

test('seed 1796630: an hb_takeover during a 2-node double ownership turns it; the checker waits for a heartbeat sent after it, and still catches a core that never lets go', () => {
  const cut = { keep: [0, 1, 3, 4, 6], untilMs: 25_000 };
  const r = runSeed(1796630, EVERY_FAMILY, cut, true);
  assert.equal(r.violation, null);
  assert.ok((r.checked['2-node double ownerships turned by a change of what decides'] ?? 0) > 0, JSON.stringify(r.checked));
  // After hb_takeover on n2 (19095 ms), n1 lets go of n2's group, which n2 asked back.
  const released = r.trace.find((l) => /n1: group "n2 g0r0" running -> stopping/.test(l));
  assert.ok(released && parseFloat(released) > 19095, released);
  const broken = runSeed(1796630, { ...EVERY_FAMILY, core: skipRelease() }, cut);
  assert.equal(broken.violation?.invariant, 'safety');
});
