// Who should own a group. Every node computes it from the same kind of view (the nodes alive,
// their adverts, its own part), so nodes that share a view agree without asking each other.
// Pure: nothing here is written, and nothing here acts.
import type { AutoFailback } from '../config/types.js';
import type { GroupPhase, PeerAdvert } from './advert.js';
import type { GroupDef } from './group.js';

/** Our own part in one group, as the peers see it in our adverts. */
export interface OwnPart {
  phase: GroupPhase;
  standby: boolean;
  /** When we were put in standby for it (hb_standby, or a peer's hb_takeover). */
  standbySince: number | undefined;
  /** In a failed-start hold: this node is not to be asked again soon. */
  failed: boolean;
  leaving: boolean;
  /** How many ping nodes we reach (advertised as `pings`); undefined without ping nodes. */
  pings?: number;
}

export interface PolicyView {
  me: string;
  /** The nodes of ha.cf, in order (a witness among them). */
  nodes: readonly string[];
  /** Witnesses (`hbd --witness`): they vote in quorum clusters and never run a group. */
  witnesses: readonly string[];
  group: GroupDef;
  /** Peers alive in membership's view. */
  live: readonly string[];
  /** Since when each live peer has been up in its current run (membership's). */
  since: Readonly<Record<string, number>>;
  /** When we last read each live peer's advert. */
  heardAt: Readonly<Record<string, number>>;
  /** The newest advert read from each live peer. */
  peers: Readonly<Record<string, PeerAdvert>>;
  mine: OwnPart;
  autoFailback: AutoFailback;
  /** When we saw each peer lost (dead, shut down, restarted), within the flap window. */
  lostAt: Readonly<Record<string, readonly number[]>>;
  hold: FailbackHold;
  /** ipfail: a node that reaches fewer ping nodes than another candidate is no candidate. */
  ipfail: boolean;
  now: number;
}

/** The hold-down rule's parameters (ownership's tuning; see failbackHoldMs). */
export interface FailbackHold {
  /** The hold-down after a node's first recent loss: its next heartbeat after it is active. */
  quickFailbackMs: number;
  /** After a second recent loss; doubled with each further one, up to 8 times this. */
  failbackDelayMs: number;
  /** A loss older than this is forgotten. */
  flapWindowMs: number;
}

/** The longest hold-down: the second loss's, doubled three times. */
export const HOLD_CAP_FACTOR = 8;

/**
 * Flap damping: how long a node must have been heard continuously before a group goes (back)
 * to it, given the times we saw it lost. The loss that sent the group away is the first: the
 * group returns on the returning node's next heartbeat. Each further loss within the window doubles the
 * hold-down from failbackDelay on, up to 8 times it, so a crash-looping node drags the group
 * along less and less often; once it has been quiet for the window, the first return is fast
 * again. Every node that saw the same losses computes the same hold-down.
 */
export function failbackHoldMs(lostAt: readonly number[], now: number, h: FailbackHold): number {
  let recent = 0;
  for (const t of lostAt) if (now - t < h.flapWindowMs) recent++;
  if (recent <= 1) return Math.min(h.quickFailbackMs, h.failbackDelayMs);
  return h.failbackDelayMs * Math.min(2 ** (recent - 2), HOLD_CAP_FACTOR);
}

/** A node's phase for the group in our view: ours, or the one its advert says. */
export function phaseAt(v: PolicyView, node: string): GroupPhase {
  if (node === v.me) return v.mine.phase;
  return v.peers[node]?.groups[v.group.id]?.phase ?? 'stopped';
}

/** Quorum clusters run nothing without a strict majority of ha.cf's nodes alive in our view. */
export function hasQuorum(quorum: boolean, livePeers: number, nodes: number): boolean {
  return !quorum || (livePeers + 1) * 2 > nodes;
}

/** Candidates in [preferred node, ha.cf order]: the same list on every node with the same view. */
function candidates(v: PolicyView): { order: string[]; willing: string[]; any: string[] } {
  const def = v.group;
  const failedAt = (n: string) => (n === v.me ? v.mine.failed : (v.peers[n]?.failed ?? []).includes(def.id));
  const leavingAt = (n: string) => (n === v.me ? v.mine.leaving : v.peers[n]?.leaving === true);
  // A node whose haresources has no line for this group cannot run it (configuration drift).
  const absentAt = (n: string) => {
    const a = n === v.me ? undefined : v.peers[n];
    return a !== undefined && !Object.hasOwn(a.groups, def.id);
  };
  const eligible = (n: string) => (n === v.me || v.live.includes(n)) && !v.witnesses.includes(n) && !failedAt(n) && !leavingAt(n) && !absentAt(n);
  const standbyAt = (n: string) => (n === v.me ? v.mine.standby : (v.peers[n]?.standby ?? []).includes(def.id));
  const order: string[] = [];
  if (v.nodes.includes(def.preferredNode) && eligible(def.preferredNode)) order.push(def.preferredNode);
  for (const n of v.nodes) if (n !== def.preferredNode && eligible(n)) order.push(n);
  const reach = v.ipfail ? bestReach(v, order) : order;
  return { order: reach, willing: reach.filter((n) => !standbyAt(n)), any: order };
}

/**
 * ipfail (Heartbeat's contrib/ipfail, as a rule every node computes alike): of the candidates,
 * those that reach the most ping nodes. A node that lost its route to them hands its groups to
 * a peer that still has one. A node that does not say (no ping nodes) is not compared.
 */
function bestReach(v: PolicyView, order: string[]): string[] {
  const pingsAt = (n: string) => (n === v.me ? v.mine.pings : v.peers[n]?.pings);
  const best = Math.max(...order.map((n) => pingsAt(n) ?? -1));
  return order.filter((n) => (pingsAt(n) ?? best) >= best);
}

/**
 * The node that should run the group; null when no node may (all in a failed-start hold, or
 * leaving). Quorum is the caller's to check.
 */
export function desiredOwner(v: PolicyView): string | null {
  const { order, willing, any } = candidates(v);
  // Standby yields only to a node that can take the group; with none, the group still runs.
  const list = willing.length > 0 ? willing : order;
  if (list.length === 0) return null;
  const active = (n: string) => phaseAt(v, n) === 'running' || phaseAt(v, n) === 'starting';
  if (v.autoFailback === 'off') {
    // Stay where it runs, as long as that node is a candidate; among several holders
    // (after a partition heals) the first in candidate order keeps it.
    const holder = list.find(active);
    if (holder) return holder;
  }
  const first = list[0]!;
  // A group moves to a node only once that node has been heard continuously for its hold-down
  // (failback, or a standby holder yielding; failbackHoldMs): a node that keeps crashing must
  // not drag the group along. (Being "up" in our view for a while proves little: a node is up
  // until a deadtime after its last heartbeat.) Only the holder applies this (it alone decides
  // when to let go); a node that holds too (after a partition) gets it at once. A standby
  // asked for while that node was already up is an operator's choice: at once.
  const since = v.since[first] ?? v.now;
  const stable = (v.heardAt[first] ?? -Infinity) - since >= failbackHoldMs(v.lostAt[first] ?? [], v.now, v.hold);
  const asked = v.mine.standby && (v.mine.standbySince ?? -Infinity) >= since;
  // (A holder that ipfail no longer counts among the best waits for that stability too.)
  if (first !== v.me && any.includes(v.me) && active(v.me) && !active(first) && !stable && !asked) return v.me;
  return first;
}
