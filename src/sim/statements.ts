// The invariants the simulator checks, stated exactly (the README quotes them); invariants.ts
// holds the checker.
//
// Words:
//  - A node is UP from its boot until it crashes or exits; it is PAUSED while frozen.
//  - The OWNERS of a group at a time are the nodes that are up, not paused, and whose own
//    phase for the group is starting, running, stopping or stop-failed: a node that may
//    have any of the group's resources running (a frozen VM serves nothing while frozen; it
//    is an owner again from the moment it resumes). A node that holds another group sharing
//    a resource with it (a reload changed the group's line: the old line and the new one)
//    is an owner of the group too.
//  - A QUORUM cluster has 3 or more nodes (a strict majority of ha.cf's nodes is needed),
//    or 2 nodes with a quorum source: a witness (a third voter that runs no group) or fencing
//    (a node lost uncleanly is powered off before a takeover). A 2-node cluster without
//    either has no quorum source.
//  - Ping nodes, fence devices and the witness have faults of their own (ping-loss, fence
//    fail/hang, the witness partitioned or crashed); a fence that powers a node off in a quiet
//    period begins that period again from the node's boot.
//  - A QUIET period is a time with no fault in effect: no loss, delay, duplication,
//    partition, pause, crash or restart, shutdown, manual standby/takeover, reload, or
//    failing agent (configuration differences stay: they are not events). All nodes are up then.
//  - stopBudget (Bounds.stopBudgetMs): the longest agent call (a hung one: its timeout) plus
//    one successful stop of every resource of a group. The fence (half the deadtime) is
//    larger than it, by construction of the schedules: that is the assumption under which
//    the quorum protocol is safe ("a stop takes at most fenceMs").
// The bounds (settleMs, failoverMs, resolveMs) are in schedule.ts boundsOf().
export type InvariantName = 'safety' | 'half-started' | 'start-during-stop' | 'liveness' | 'failover' | 'failback' | 'no-flap' | 'busy-loop' | 'monitor-recovery' | 'keep-out' | 'arbiter-lease' | 'arbiter-key' | 'fencing-token';

export interface Violation {
  invariant: InvariantName;
  at: number;
  message: string;
}

/** The statements, as in the README. */
export const INVARIANTS: Record<InvariantName, string> = {
  safety:
    'Safety. Quorum cluster (3+ nodes, or 2 nodes with a witness or fencing): no group ever has two owners, except (a) a node that resumed from a pause less than stopBudget ago ' +
    '(it begins stopping what it held at its first step after the resume; software cannot stop a frozen VM, only fencing can), and (b) a node ' +
    'whose stop of the group had a failed or hung agent call (the stop took longer than the fence; only fencing can help). ' +
    '2-node cluster without a quorum source: two owners exist only while the two nodes cannot hear each other: once each has received a status heartbeat the other ' +
    'sent during the double ownership, after the sender\'s last change of what decides the owner (its haresources lines, standby, takeover request, failed-start or monitor hold, ' +
    'leaving, ping nodes reached), it ends within resolveMs = stopBudget (same exception (b)).',
  'arbiter-lease':
    'etcd arbiter: etcd lets go of a group\'s key (its lease expired, or its holder resigned) only while the holder\'s run has the group stopped (same exceptions (a) and (b)): ' +
    'a node that cannot renew its lease has stopped before etcd can give the key to another node. Under the arbiter the quorum rules of safety and start-during-stop apply to every cluster size.',
  'arbiter-key':
    'etcd arbiter: a node begins to start a group only while etcd holds the group\'s key on that node\'s current lease, at the revision the node was told.',
  'fencing-token':
    'etcd arbiter: the revision agents get (HA_ARBITER_REVISION) never goes back from one start of a group to the next, and grows whenever another node (or run) starts it.',
  'half-started':
    'Never half-started: a node whose phase for a group is running has every resource of it running (but one a monitor fault killed, until it is started again); a node whose phase is stopped has none running.',
  'monitor-recovery':
    'Monitoring. When a resource of a monitored group dies behind its running node (a monitor fault) and no other fault happens meanwhile, within (failures + 1) x (interval + ' +
    'the longest agent call x the most resources of a group) + stopBudget + startBudget + 2 keepalives that node has started the resource again or no longer runs the group.',
  'keep-out':
    'Keep-out. A node that keeps out of a group after failed monitors (it moved the group away) starts none of its resources until that is cleared or its keepout time is over; ' +
    'liveness and failback count it as no candidate meanwhile.',
  'start-during-stop':
    'Quorum cluster: no start of a resource of a group is issued on a node while a stop of that group may still run on another node (same exceptions (a) and (b)). ' +
    '(2-node clusters: covered by the 2-node safety rule, since a stopping node is an owner.)',
  liveness:
    'Liveness. In a quiet period, from settleMs after it began (or after the end of the last failed-start hold of the group), every group that a ' +
    'node may run (it has the group in its haresources and is not in a failed-start hold; in a quorum cluster, a majority of nodes has the group) has exactly one owner, and that owner\'s phase ' +
    'is running (for the group, or for another line of the same resources while the nodes\' files differ). Not promised for a group a reload added on a node that waits for an up node ' +
    'lacking it (that node\'s own reload). (Not promised in a quorum cluster whose nodes\' timers differ so much that ' +
    'a lease cannot last 3 keepalives: there groups may stop and start again; safety is still checked.)',
  failover:
    'Failover. When the running owner of a group crashes in a settled quiet period and nothing else happens for failoverMs = deadtime + 3 network delays + ' +
    'the group\'s start time, another node runs the group (alone) within failoverMs.',
  failback:
    'Failback. In a quiet period, from settleMs on (as for liveness), with auto_failback on (on every node with the group) the group runs on its first ' +
    'eligible node in [preferred node, ha.cf order] (standby nodes last); with off, it stays on the node that ran it at settleMs.',
  'busy-loop':
    'No busy loop: no node is woken by its own timer more than 1,000 times at one instant (a core that keeps asking to be woken now would spin the daemon at 100% CPU).',
  'no-flap':
    'No flapping. In a quiet period, a group never returns to a node it left; and a group released by a live node to its preferred node (failback; ' +
    'not the end of a double ownership, where the preferred node held the group too, nor an ipfail release by a node that reaches fewer ping nodes than a peer, ' +
    'nor a hand-off to another node (the releaser sees the preferred node dead, or another node comes first: it is active, and a monitor keep-out, ipfail or the etcd arbiter put it first), where a later run of the preferred node finding the group unheld (that node could not take it) places it as at a start, ' +
    'nor a release by a holder asked to stand by for the group after it heard the preferred node\'s run: hb_standby, or a peer\'s hb_takeover however late it arrived, is the operator\'s move) ' +
    'only goes there if the run of that node the releaser had heard had been up for the hold-down when it let go: half a keepalive (at most failbackDelay) when at most one run of that ' +
    'node the releaser had heard ended within the flap window (5 minutes, at least 16 failbackDelays) before, failbackDelay when two did, doubled with each further one up to 8 failbackDelays.',
};
