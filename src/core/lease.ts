// Leases: claims, grants, acks and the end of a lease, for clusters with a quorum (3+ nodes, or
// two and a witness); claims and grants alone for two nodes with fencing.
// The safety argument (why no group runs on two nodes at once), for every cluster size:
//
// Every node advertises, in each heartbeat, what it holds (per group: stopped, starting,
// running, stopping, stop-failed), where it is in standby and which starts failed here.
// From that shared view each node computes the same desired owner per group, and acts only
// on its own part of a handoff: a holder that is not the desired owner stops; the desired
// owner starts only when no live node holds the group. Heartbeats repeat the whole state
// every keepalive, so a lost packet delays a decision by one keepalive and never breaks it.
//
// With a quorum (3+ nodes), a shared view is not enough: views differ under partitions,
// one-way links and loss. There a node starts a group only under a majority of grants, and
// holds it only while those grants form a lease (see `leaseEnd`):
//   - a node wanting group g advertises a claim (a number it never reuses in its run);
//   - every node grants g to at most one claim at a time (its own desired owner's), and
//     withdraws a grant only when the claimant is dead in its view (after its deadtime of
//     silence, or its goodbye, or its restart), or has dropped that claim (which a node does
//     only once it has stopped the group);
//   - each advert echoes the newest `at` (sender's own clock) it has received from every
//     live node. A grant echoing our `at` = e cannot be withdrawn for silence before our
//     time e + (granter's deadtime): the granter heard us no earlier than e;
//   - the lease of a claim ends at the majority-th latest of those e + deadtime - fenceMs
//     (our own grant counts as forever). When it ends, the group is stopped; the stop must
//     take at most fenceMs (agent timeouts included) for two majorities never to overlap.
// A node grants nothing during its first deadtime after a restart: the grants of its
// previous run may still be counted in someone's lease until then.
//
// Two nodes with fencing and no witness have no majority to lean on once one is lost, so they
// keep no lease: a group keeps running on a node whose peer went silent, and the peer, which
// may only be cut off, has it powered off before it starts anything (node-fencing.ts). What
// fencing cannot stop is two live nodes starting a group at once from views that differ for a
// moment (a peer's hold just over, an advert delayed; sim seed 9002764). So there a start also
// needs the consent of the live peer: the same claims and grants, without a lease's expiry
// (see `consented`). Each start needs the other's grant and each node grants one claim at a
// time, withdrawn only once the claim is dropped (after the stop) or its node is dead, and a
// dead node is fenced before anything starts: two owners would need a fence that did not power
// its target off.
// A reload (core/reload.ts) keeps these promises. A node that lowers its deadtime declares
// no peer dead sooner than its earlier adverts promised, for one old deadtime (membership's
// promisedDeadtime). A reload that removes a group withdraws our grant on it although the
// claimant neither died nor dropped its claim: that grant may count in a lease for one more
// deadtime. So a group a reload adds is granted by nobody for one deadtime after it; that
// covers a group removed and added back, and a group whose line changed (a new id sharing
// resources with the old group, which other nodes may still hold under our old grant).
import type { Ack, Grant, PeerAdvert } from './advert.js';
import { dueAt, type Deadline } from './timeout.js';

/** The default fence: half the deadtime, leaving the lease at least 3 keepalives. */
export function defaultFenceMs(deadtimeMs: number, keepaliveMs: number): number {
  return Math.max(0, Math.min(deadtimeMs / 2, deadtimeMs - 3 * keepaliveMs));
}

export interface LeaseState {
  /** Last claim number used: a claim is never reused in a run. */
  claimSeq: number;
  /** Newest `at` (and generation) heard from each live peer: echoed in our adverts. */
  acks: Record<string, { gen: number; at: number }>;
  /** Our first deadtime is over: we may grant. */
  grantsOpen: boolean;
}

/** One group's part: our claim on it, and the claim we grant it to. */
export interface GroupLease {
  claim: number | null;
  grant: Grant | null;
}

/** What the rules read of the cluster, for one group. */
export interface LeaseView {
  me: string;
  /** Our generation: grants and acks name the run of ours they are for. */
  gen: number;
  /** How many nodes ha.cf has. */
  nodes: number;
  live: readonly string[];
  peers: Readonly<Record<string, PeerAdvert>>;
  group: string;
  fenceMs: number;
}

/** A strict majority of the nodes of ha.cf. */
export function majority(nodes: number): number {
  return Math.floor(nodes / 2) + 1;
}

/**
 * Until when our current claim on the group may hold it (our clock); -Infinity without a
 * claim or without a majority of grants. Each grant from a peer counts until (our `at` it
 * echoes) + (its deadtime) - fenceMs: before (echo + its deadtime) it cannot withdraw the grant
 * for our silence, and fenceMs is kept for our stop. (With the same timers on every node, that
 * is at least 3 keepalives after the echo; a peer with a much shorter deadtime gives short
 * leases: groups then stop and start again, but never run twice.)
 */
export function leaseEnd(gl: GroupLease, v: LeaseView): number {
  if (gl.claim === null) return -Infinity;
  const ends: number[] = [];
  if (gl.grant && gl.grant.node === v.me && gl.grant.gen === v.gen && gl.grant.claim === gl.claim) ends.push(Infinity);
  for (const n of v.live) {
    const a = v.peers[n];
    const gr = a?.groups[v.group]?.grant;
    if (!a || !gr || gr.node !== v.me || gr.gen !== v.gen || gr.claim !== gl.claim) continue;
    const ack = a.acks.find((k) => k.node === v.me && k.gen === v.gen);
    if (ack) ends.push(ack.at + a.deadtimeMs - v.fenceMs);
  }
  ends.sort((x, y) => y - x);
  return ends[majority(v.nodes) - 1] ?? -Infinity;
}

/**
 * Two nodes with fencing: every live peer grants our current claim on the group (none alive: its
 * fence decides). A real Heartbeat peer grants nothing: its own resource negotiation
 * (heartbeat-peer.ts) hands groups over with us, as it does without fencing.
 */
export function consented(gl: GroupLease, v: LeaseView): boolean {
  if (gl.claim === null) return false;
  return v.live.every((n) => {
    if (v.peers[n]?.heartbeatPeer) return true;
    const gr = v.peers[n]?.groups[v.group]?.grant;
    return gr !== undefined && gr !== null && gr.node === v.me && gr.gen === v.gen && gr.claim === gl.claim;
  });
}

/** The lease as a deadline: a group may start while it has not expired, and must stop once it has. */
export function leaseDeadline(gl: GroupLease, v: LeaseView): Deadline {
  return dueAt('lease', leaseEnd(gl, v));
}

/** The grants of our previous run may count in a lease until one deadtime after it ended. */
export function grantsOpening(at: number): Deadline {
  return dueAt('grants-open', at);
}

/**
 * Our grant is over: our own claim was dropped (or is of an older run of ours), the claimant
 * is dead in our view, or it dropped that claim. A node drops a claim only once it has
 * stopped the group, and never reuses one.
 */
export function grantOver(gl: GroupLease, v: LeaseView): boolean {
  const gr = gl.grant;
  if (!gr) return false;
  if (gr.node === v.me) return gr.gen !== v.gen || gl.claim !== gr.claim;
  if (!v.live.includes(gr.node)) return true;
  const a = v.peers[gr.node];
  return a !== undefined && (a.gen !== gr.gen || (a.groups[v.group]?.claim ?? null) !== gr.claim);
}

/** The grant we give when we grant nothing: to our desired owner's claim, if it has one. */
export function grantFor(desired: string | null, gl: GroupLease, v: LeaseView): Grant | null {
  if (desired === v.me) return gl.claim !== null ? { node: v.me, gen: v.gen, claim: gl.claim } : null;
  if (desired === null) return null;
  const a = v.peers[desired];
  const c = a?.groups[v.group]?.claim ?? null;
  return a && c !== null ? { node: desired, gen: a.gen, claim: c } : null;
}

/** The ack we echo for a peer after reading `advert`: the newest `at` of its current run. */
export function ackAfter(known: { gen: number; at: number } | undefined, advert: PeerAdvert): { gen: number; at: number } {
  return { gen: advert.gen, at: known && known.gen === advert.gen ? Math.max(known.at, advert.at) : advert.at };
}

export function acksOf(lease: LeaseState): Ack[] {
  return Object.entries(lease.acks).map(([node, a]) => ({ node, gen: a.gen, at: a.at }));
}
