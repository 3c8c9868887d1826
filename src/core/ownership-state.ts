// What ownership keeps: its state (its tuning is ownership-tuning.ts), the state it starts from, and what it shows of
// itself: the advert it sends, the views it gives the policy and the lease rules, and the
// deadlines it holds.
import type { AutoFailback } from '../config/types.js';
import { holds, type GroupPhase, type PeerAdvert } from './advert.js';
import { sharesResource, type GroupDef } from './group.js';
import * as A from './arbiter.js';
import * as L from './lease.js';
import * as F from './node-fencing.js';
import * as Mon from './monitor.js';
import type { MembershipView } from './membership.js';
import * as P from './policy.js';
import * as S from './sequencer.js';
import * as W from './switches.js';
import { dueAt, expired, type Deadline } from './timeout.js';
import { arbiterDeadlines, outOfArbiter } from './ownership-arbiter.js';
import { tuningFor, type OwnershipTuning } from './ownership-tuning.js';

export { DEFAULT_TUNING, QUICK_FAILBACK_KEEPALIVES, tuningFor, type OwnershipTuning } from './ownership-tuning.js';

/** This node's part in one group. */
export interface LocalGroup {
  run: S.Run;
  /** Quorum clusters: our current claim on this group, and whom we grant it to. */
  claim: number | null;
  grant: L.GroupLease['grant'];
  /** A failed start here keeps this node out of the running for the group until then. */
  failedUntil: number | null;
  /** For logs: whose group we are taking over ("Resources being acquired from prime."). */
  acquiredFrom: string | null;
  /** Another node was seen running the group since we last ran it: our next start is a failback. */
  heldElsewhere: boolean;
  /**
   * Quorum clusters: the latest end our lease on the group has had while we held it (-Infinity:
   * none). Remembered because the lease can no longer be computed once the peers that granted
   * it are dead in our view, and it is exactly then that the fence below matters.
   */
  leaseUntil: number;
  /** The group's addresses were removed at the fence (see fenceDeadline): done once per hold. */
  fenced: boolean;
  /** A reload removed the group from haresources: it is stopped here if held, then forgotten. */
  removed: boolean;
  /**
   * A reload added the group: it is not started here while a live node lacks it (has not
   * reloaded yet). That node is no candidate for it: the group would start on whichever node
   * reloaded first, and move again once the others have. Cleared once every live node has it,
   * or once a peer runs it (its place is settled; it must still fail over from there).
   */
  waitsForPeers: boolean;
  /** Quorum clusters, a group a reload added: granted to nobody before this (see lease.ts). */
  noGrantUntil: number | null;
  /** Resource monitoring: checks, failures, restarts, and whether this node keeps out of the group. */
  monitor: Mon.MonitorState;
}

export interface OwnershipState {
  me: string;
  /** The nodes of ha.cf, and a witness when it has one (it votes, and runs nothing). */
  nodes: string[];
  witnesses: string[];
  groups: GroupDef[];
  autoFailback: AutoFailback;
  config: OwnershipTuning;
  local: LocalGroup[];
  /** The newest advert read from each live peer, and when (failback stability). */
  peers: Record<string, PeerAdvert>;
  heardAt: Record<string, number>;
  /**
   * When we saw each peer lost (a run of it whose advert we had read died, shut down, was cut
   * off or restarted), within the flap window: failback's hold-down grows with them
   * (policy.ts failbackHoldMs). Kept while the peer is dead: that is the point.
   */
  lostAt: Record<string, number[]>;
  /** Peers whose adverts date from before a stall of ours: start nothing until they speak again. */
  stale: string[];
  /** After a stall, we start nothing before this: what we hear first may be old news. */
  holdStartsUntil: number | null;
  /** hb_standby and hb_takeover, ours and the peers'. */
  switches: W.Switches;
  leaving: boolean;
  /** Our generation (restart count) and our deadtime. */
  gen: number;
  deadtimeMs: number;
  /** Quorum clusters: we grant nothing before this, one deadtime after our start (see lease.ts). */
  grantsOpenAt: number;
  lease: L.LeaseState;
  /** Ping nodes we reach (core/ping.ts), advertised; undefined without ping nodes. */
  pings?: number;
  /** ipfail: candidates are those that reach the most ping nodes (policy.ts). */
  ipfail: boolean;
  /** STONITH of nodes lost uncleanly, before taking over (node-fencing.ts). */
  nodeFencing: F.NodeFencing;
  /** ha.cf `arbiter etcd`: etcd keys decide who runs each group (arbiter.ts); null without. */
  arbiter: A.ArbiterState | null;
}

/** What initOwnership needs from outside ownership itself. */
export interface OwnershipEnv {
  /** The time of initialisation (our start). */
  now?: number;
  /** Our heartbeat generation (hg): grows on every restart. */
  generation?: number;
  deadtimeMs?: number;
  keepaliveMs?: number;
  /** The witnesses among `nodes`. */
  witnesses?: string[];
  ipfail?: boolean;
  /** A fence device is configured; a failed fence is retried after retryMs. */
  fencing?: { retryMs: number };
  /** ha.cf `arbiter etcd`: its numbers (arbiter.ts). Our own quorum leases are off under it. */
  arbiter?: A.ArbiterTuning;
}

/** This node's part in a group it has just learned of (at start, or added by a reload): nothing runs. */
export function newLocalGroup(): LocalGroup {
  return { run: S.STOPPED, claim: null, grant: null, failedUntil: null, acquiredFrom: null, heldElsewhere: false, leaseUntil: -Infinity, fenced: false, removed: false, waitsForPeers: false, noGrantUntil: null, monitor: Mon.NO_MONITOR };
}

export function initOwnership(me: string, nodes: string[], groups: GroupDef[], autoFailback: AutoFailback, tuning: Partial<OwnershipTuning> = {}, env: OwnershipEnv = {}): OwnershipState {
  const deadtimeMs = env.deadtimeMs ?? 30_000;
  return {
    me,
    nodes,
    witnesses: env.witnesses ?? [],
    groups,
    autoFailback,
    config: tuningFor(nodes, env.arbiter ? { ...tuning, quorum: false } : tuning, deadtimeMs, env.keepaliveMs ?? 1000),
    local: groups.map(newLocalGroup),
    peers: {},
    heardAt: {},
    lostAt: {},
    stale: [],
    holdStartsUntil: null,
    switches: W.NO_SWITCHES,
    leaving: false,
    gen: env.generation ?? 0,
    deadtimeMs,
    grantsOpenAt: (env.now ?? 0) + deadtimeMs,
    lease: { claimSeq: 0, acks: {}, grantsOpen: false },
    ipfail: env.ipfail ?? false,
    nodeFencing: F.initNodeFencing(env.fencing !== undefined, env.fencing?.retryMs),
    arbiter: env.arbiter ? A.initArbiter(env.arbiter) : null,
  };
}

/** What we know of a node that is not alive in membership's view is of a past run of it. */
export function forgetTheDead(s: OwnershipState, view: MembershipView): void {
  for (const map of [s.peers, s.lease.acks, s.heardAt]) {
    for (const n of Object.keys(map)) if (!view.live.includes(n)) delete map[n];
  }
  s.stale = s.stale.filter((n) => view.live.includes(n));
}

/** A run of `node` whose advert we had read is gone: one more loss for failback's hold-down. */
export function noteLoss(s: OwnershipState, node: string, now: number): void {
  const recent = (s.lostAt[node] ?? []).filter((t) => now - t < s.config.flapWindowMs);
  s.lostAt = { ...s.lostAt, [node]: [...recent, now] };
}

/** A group seen running on another node since we last ran it: our next start of it is a failback. */
export function noteHeldElsewhere(s: OwnershipState): void {
  for (const n in s.peers) {
    const a = s.peers[n]!;
    for (let g = 0; g < s.groups.length; g++) if (a.groups[s.groups[g]!.id]?.phase === 'running') s.local[g]!.heldElsewhere = true;
  }
}

/**
 * A failed start here, or a keep-out after failed monitors, keeps us out of the running for the
 * group: in our adverts too (as `failed`: the peers' policy then passes us over alike).
 */
function inHold(lg: LocalGroup, now: number): boolean {
  const end = holdEnd(lg);
  return (end !== null && !expired(end, now)) || Mon.keptOut(lg.monitor, now);
}

/**
 * The live node, first in ha.cf before us, that holds resources of group g under another line
 * (our haresources differ: one of us has reloaded, the other not yet), or null. Of two such
 * holders the one first in ha.cf keeps the resources: both decide alike from node names alone.
 */
export function yieldsTo(s: OwnershipState, view: MembershipView, g: number): string | null {
  const def = s.groups[g]!;
  const mine = s.nodes.indexOf(s.me);
  const first = view.live.find((n) => {
    const a = s.peers[n];
    return a !== undefined && s.nodes.indexOf(n) < mine && !holds(a.groups[def.id]?.phase ?? 'stopped') && a.resources.some((r) => def.resources.includes(r));
  });
  return first ?? null;
}

/** A removed group once stopped is no longer ours: forgotten at the start of the next step. */
export function forgotten(lg: LocalGroup): boolean {
  return lg.removed && lg.run.phase === 'stopped';
}

/**
 * A removed group still held here that shares a resource with group g (a reload changed g's
 * line): g's resources may be running here although g itself is stopped.
 */
export function heldUnderOldLine(s: OwnershipState, g: number): boolean {
  return s.local.some((lg, o) => o !== g && lg.removed && lg.run.phase !== 'stopped' && sharesResource(s.groups[o]!, s.groups[g]!));
}

/**
 * A group's phase as our heartbeats say it. A monitor's restart stops and starts part of a
 * group that stays ours throughout: said as `stopping`, a peer that holds it too (a 2-node pair
 * just healed) would take us for letting go and keep it until the restart ends (seed 1643713).
 */
function advertisedPhase(lg: LocalGroup): GroupPhase {
  return lg.run.phase === 'stopping' && lg.run.reason === 'restart' ? 'starting' : lg.run.phase;
}

/** What we put in our heartbeats: a removed group while it is held here, not after. */
export function advertOf(s: OwnershipState, now: number): PeerAdvert {
  const id = (g: number) => s.groups[g]!.id;
  const ours = s.local.flatMap((lg, g) => (forgotten(lg) ? [] : [g]));
  return {
    groups: Object.fromEntries(ours.map((g) => [id(g), { phase: advertisedPhase(s.local[g]!), claim: s.local[g]!.claim, grant: s.local[g]!.grant }])),
    standby: [...s.switches.standby].sort((a, b) => a - b).map(id),
    failed: s.local.flatMap((lg, g) => (inHold(lg, now) && !lg.removed ? [id(g)] : [])),
    takeover: s.switches.takeoverSerial > 0 ? { serial: s.switches.takeoverSerial, groups: s.switches.takeoverGroups.map(id) } : null,
    leaving: s.leaving,
    gen: s.gen,
    at: Math.floor(now),
    deadtimeMs: s.deadtimeMs,
    // Fencing: a peer waits for our ack of its run before it starts anything (node-fencing.ts).
    acks: s.config.quorum || s.nodeFencing.on ? L.acksOf(s.lease) : [],
    resources: [...new Set(s.local.flatMap((lg, g) => (lg.run.phase === 'stopped' ? [] : s.groups[g]!.resources)))],
    ...(s.pings !== undefined ? { pings: s.pings } : {}),
  };
}

/** The view the policy decides group g from. */
export function policyView(s: OwnershipState, view: MembershipView, g: number, now: number): P.PolicyView {
  const lg = s.local[g]!;
  return {
    me: s.me,
    nodes: s.nodes,
    witnesses: s.witnesses,
    group: s.groups[g]!,
    live: view.live,
    since: view.since,
    heardAt: s.heardAt,
    peers: s.peers,
    mine: { phase: lg.run.phase, standby: s.switches.standby.has(g), standbySince: s.switches.standbySince[g], failed: inHold(lg, now) || outOfArbiter(s, now), leaving: s.leaving, ...(s.pings !== undefined ? { pings: s.pings } : {}) },
    autoFailback: s.autoFailback,
    lostAt: s.lostAt,
    hold: s.config,
    ipfail: s.ipfail,
    now,
  };
}

export function leaseView(s: OwnershipState, view: MembershipView, g: number): L.LeaseView {
  return { me: s.me, gen: s.gen, nodes: s.nodes.length, live: view.live, peers: s.peers, group: s.groups[g]!.id, fenceMs: s.config.fenceMs };
}

/** Every deadline the state holds: `step` acts on the expired ones, `nextWake` is the earliest. */
export function deadlines(s: OwnershipState, view: MembershipView): Deadline[] {
  const all: Deadline[] = [];
  const grants = grantsOpening(s);
  if (grants) all.push(grants);
  const held = startsHeld(s);
  if (held) all.push(held);
  s.local.forEach((lg, g) => {
    const retry = S.retryDeadline(lg.run);
    if (retry) all.push(retry);
    const hold = holdEnd(lg);
    if (hold) all.push(hold);
    const lease = leaseDeadline(s, view, g);
    if (lease) all.push(lease);
    const fence = fenceDeadline(s, g);
    if (fence) all.push(fence);
    const grants = groupGrantsOpening(s, g);
    if (grants) all.push(grants);
    const check = lg.run.phase === 'running' && !lg.run.afterStall ? Mon.checkDeadline(lg.monitor, s.groups[g]!) : null;
    if (check) all.push(check);
    const keepOut = Mon.keepOutDeadline(lg.monitor, s.groups[g]!);
    if (keepOut) all.push(keepOut);
  });
  all.push(...F.fenceDeadlines(s.nodeFencing), ...arbiterDeadlines(s));
  return all;
}

/**
 * A real Heartbeat peer takes a group from us by its standby exchange (core/heartbeat-peer.ts):
 * we keep running group g for it until it answered our `me` with `other`, which it withholds
 * while a move is in flight. Stopping sooner could leave g running nowhere.
 */
export function handoverWaits(s: OwnershipState, to: string, g: number): boolean {
  const a = s.peers[to];
  return a?.heartbeatPeer === true && !(a.accepts ?? []).includes(s.groups[g]!.id);
}

/** Two nodes with fencing and no witness: a start needs the live peer's grant, with no lease (lease.ts). */
export function startsByConsent(s: OwnershipState): boolean {
  return !s.config.quorum && s.nodeFencing.on;
}

/** Quorum clusters: we may grant once our first deadtime is over. */
export function grantsOpening(s: OwnershipState): Deadline | null {
  return s.config.quorum && !s.lease.grantsOpen ? L.grantsOpening(s.grantsOpenAt) : null;
}

/** Quorum clusters: we may grant a group a reload added once a deadtime has passed since. */
export function groupGrantsOpening(s: OwnershipState, g: number): Deadline | null {
  const at = s.local[g]!.noGrantUntil;
  return s.config.quorum && at !== null ? dueAt('group-grants-open', at, s.groups[g]!.id) : null;
}

export function startsHeld(s: OwnershipState): Deadline | null {
  return s.holdStartsUntil === null ? null : dueAt('starts-held', s.holdStartsUntil);
}

export function holdEnd(lg: LocalGroup): Deadline | null {
  return lg.failedUntil === null ? null : dueAt('failed-start-hold', lg.failedUntil);
}

/**
 * Quorum clusters: another node may be granted a group we still hold from our lease's end plus
 * the fence on. The stop begun at the lease's end should be over by then; when it is not (a
 * resource that takes longer to stop than that, as a web server waiting for its clients can),
 * the group's addresses must go anyway, out of order, or two nodes answer for them. Halfway
 * through the fence: the orderly stop gets the first half, removing the addresses (an `ip`
 * or two, slower on a loaded host) the second. Found on real processes: a removal begun at the
 * very end lost the race with the new owner's `ip addr add` by a few milliseconds.
 */
export function fenceDeadline(s: OwnershipState, g: number): Deadline | null {
  const lg = s.local[g]!;
  if (!s.config.quorum || lg.fenced || !Number.isFinite(lg.leaseUntil) || lg.run.phase === 'stopped') return null;
  return dueAt('fence', lg.leaseUntil + s.config.fenceMs / 2, s.groups[g]!.id);
}

/** A group we hold under a lease, with no agent call in flight, stops when the lease ends. */
export function leaseDeadline(s: OwnershipState, view: MembershipView, g: number): Deadline | null {
  const run = s.local[g]!.run;
  if (!s.config.quorum || (run.phase !== 'starting' && run.phase !== 'running') || S.busy(run)) return null;
  return L.leaseDeadline(s.local[g]!, leaseView(s, view, g));
}

/**
 * A peer runs group g: its place is settled, so waiting for the nodes that lack it is over
 * (otherwise a reload stopped half-way would keep the group from failing over when that peer
 * dies: sim seed 600010).
 */
export function runningElsewhere(s: OwnershipState, g: number): boolean {
  const id = s.groups[g]!.id;
  return Object.values(s.peers).some((a) => a.groups[id]?.phase === 'running');
}

/**
 * Our adverts stopped for a while (`silentMs` since our last heartbeat); what we know of the
 * peers is old. Start nothing until each has spoken again (or is declared dead), and if we were
 * silent for a deadtime, the peers have declared us dead and may have taken our groups: let go.
 */
export function afterStall(s: OwnershipState, view: MembershipView, now: number, silentMs: number): void {
  s.stale = [...view.live];
  // Packets that waited in our socket during the stall come first, and tell of the past.
  s.holdStartsUntil = now + s.deadtimeMs;
  if (silentMs >= s.deadtimeMs) for (const lg of s.local) lg.run = S.afterStall(lg.run);
}
