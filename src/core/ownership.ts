// Ownership: which node runs each resource group, and the ordered start/stop of its
// resources on this node. Pure: stepped by events and a time value, returns effects.
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

import type { AutoFailback } from '../config/types.js';
import type { LogLevel } from './membership.js';
import type { GroupPhase, PeerAdvert, Grant } from './advert.js';

export type { GroupPhase, PeerAdvert, GroupAdvert, Grant, Ack } from './advert.js';
export type Scope = 'all' | 'local' | 'foreign';

export interface GroupDef {
  id: string;
  preferredNode: string;
  /** Resource names as written in haresources, in start order. */
  resources: string[];
}

interface LocalGroup {
  phase: GroupPhase;
  /** The resource being worked on (index), or -1. */
  cursor: number;
  /** What the in-flight agent call is, if any. */
  pending: 'status' | 'start' | 'stop' | null;
  /**
   * Why we are stopping: a handoff, a rollback of a failed start, our shutdown, lost
   * quorum, an expired lease (fence), or a stall of this process long enough for the
   * peers to have declared us dead (stall).
   */
  stopReason: 'release' | 'rollback' | 'shutdown' | 'quorum' | 'fence' | 'stall' | null;
  stopAttempts: number;
  retryAt: number | null;
  failedUntil: number | null;
  /** For logs: whose group we are taking over ("Resources being acquired from prime."). */
  acquiredFrom: string | null;
  startedAt: number | null;
  /** Quorum clusters: our current claim on this group, or null. */
  claim: number | null;
  /** Quorum clusters: whom we grant this group to, or null. */
  grant: Grant | null;
  /** A stop is due as soon as no agent call is pending (after a stall). */
  releaseReq: boolean;
}

export interface OwnershipState {
  me: string;
  nodes: string[];
  groups: GroupDef[];
  autoFailback: AutoFailback;
  /** Membership's view: live peers (not counting us) and whether startup is settled. */
  live: string[];
  settled: boolean;
  local: LocalGroup[];
  peers: Record<string, PeerAdvert>;
  standby: Set<number>;
  takeoverSerial: number;
  takeoverGroups: number[];
  /** Highest takeover serial applied per peer (per generation of that peer). */
  appliedTakeover: Record<string, number>;
  leaving: boolean;
  config: OwnershipTuning;
  /** Our generation (restart count), our start time and our deadtime. */
  gen: number;
  bootAt: number;
  deadtimeMs: number;
  /** Last claim number used. */
  claimSeq: number;
  /** Newest `at` (and generation) heard from each live peer: echoed in our adverts. */
  acks: Record<string, { gen: number; at: number }>;
  /** Since when each live peer has been up in our view, and when we last heard its advert (failback stability). */
  liveSince: Record<string, number>;
  heardAt: Record<string, number>;
  /** Peers whose adverts date from before a stall of ours: start nothing until they speak again. */
  stale: string[];
  /** Our first deadtime is over: we may grant (quorum clusters). */
  grantsOpen: boolean;
  /** After a stall, we start nothing before this: what we hear first may be old news. */
  holdStartsUntil: number;
  /** When each group of `standby` was put in standby. */
  standbySince: Record<number, number>;
}

export interface OwnershipTuning {
  /** Retry a failed stop this many times (1 s apart) before declaring stop-failed. */
  stopRetries: number;
  stopRetryDelayMs: number;
  /** After stop-failed, keep retrying at this interval. */
  stopFailedRetryMs: number;
  /** How long a failed start keeps this node out of the running for that group. */
  failedStartHoldMs: number;
  /** Require a strict majority of nodes to start anything (3+ node clusters). */
  quorum: boolean;
  /**
   * Quorum clusters: the time reserved between the end of a lease and the earliest moment
   * another node can start the group: the stop (pending agent call included) must fit in
   * it. The lease itself lasts deadtime - fenceMs after the echo it rests on, and an echo
   * comes back within about 2 keepalives: the lease needs 3. Default: half the deadtime, but
   * at most deadtime - 3 keepalives. Must be below the deadtime.
   */
  fenceMs: number;
  /**
   * A group goes back to its preferred node (auto_failback on), or to a node a standby
   * holder yields to, only once the holder has heard that node continuously for this long,
   * so a node that keeps crashing does not drag the group along. Default: the deadtime.
   */
  failbackDelayMs: number;
}

export const DEFAULT_TUNING: Omit<OwnershipTuning, 'fenceMs' | 'failbackDelayMs'> = {
  stopRetries: 3,
  stopRetryDelayMs: 1000,
  stopFailedRetryMs: 30_000,
  failedStartHoldMs: 60_000,
  quorum: true,
};

/** What initOwnership needs from outside ownership itself. */
export interface OwnershipEnv {
  /** The time of initialisation (our start). */
  now?: number;
  /** Our heartbeat generation (hg): grows on every restart. */
  generation?: number;
  deadtimeMs?: number;
  keepaliveMs?: number;
}

/** The default fence: half the deadtime, leaving the lease at least 3 keepalives. */
export function defaultFenceMs(deadtimeMs: number, keepaliveMs: number): number {
  return Math.max(0, Math.min(deadtimeMs / 2, deadtimeMs - 3 * keepaliveMs));
}

export type OwnershipEvent =
  | { kind: 'tick' }
  /** `since`: for each live node, since when it has been up (default: when first seen live here). */
  | { kind: 'membership'; live: string[]; settled: boolean; since?: Record<string, number> }
  /** This process was not scheduled for a while; `silentMs`: since our last heartbeat went out. */
  | { kind: 'stalled'; silentMs: number }
  | { kind: 'node-lost'; node: string; reason: 'timeout' | 'shutdown' | 'restart' }
  | { kind: 'advert'; node: string; advert: PeerAdvert }
  | { kind: 'agent-done'; group: number; resource: number; action: 'status' | 'start' | 'stop'; ok: boolean; running?: boolean }
  | { kind: 'standby'; scope: Scope }
  | { kind: 'takeover'; scope: Scope }
  | { kind: 'leave' };

export type OwnershipEffect =
  | { kind: 'agent'; group: number; resource: number; action: 'status' | 'start' | 'stop' }
  | { kind: 'log'; level: LogLevel; text: string }
  /** Our advertised state changed: send a heartbeat now rather than at the next keepalive. */
  | { kind: 'advertise' }
  | { kind: 'group-phase'; group: number; from: GroupPhase; to: GroupPhase }
  | { kind: 'transition'; group: number; what: 'takeover' | 'failback' | 'release' | 'start-failed' | 'stop-failed' | 'standby' | 'acquired'; from?: string | null }
  /**
   * We run the group and another node that held it too (a healed partition, a conflict
   * resolved in our favour) has let go or died: its last gratuitous ARP may have pointed the
   * LAN at it, so our addresses must be announced again.
   */
  | { kind: 'reassert'; group: number; from: string }
  /** Every group is stopped after `leave`: the daemon may say goodbye and exit. */
  | { kind: 'left' };

export function initOwnership(me: string, nodes: string[], groups: GroupDef[], autoFailback: AutoFailback, tuning: Partial<OwnershipTuning> = {}, env: OwnershipEnv = {}): OwnershipState {
  const deadtimeMs = env.deadtimeMs ?? 30_000;
  const fenceMs = tuning.fenceMs ?? defaultFenceMs(deadtimeMs, env.keepaliveMs ?? 1000);
  if (!(fenceMs >= 0 && fenceMs < deadtimeMs)) throw new RangeError(`fenceMs (${fenceMs}) must be at least 0 and below the deadtime (${deadtimeMs} ms)`);
  return {
    me,
    nodes,
    groups,
    autoFailback,
    live: [],
    settled: false,
    local: groups.map(() => ({ phase: 'stopped', cursor: -1, pending: null, stopReason: null, stopAttempts: 0, retryAt: null, failedUntil: null, acquiredFrom: null, startedAt: null, claim: null, grant: null, releaseReq: false })),
    peers: {},
    standby: new Set(),
    takeoverSerial: 0,
    takeoverGroups: [],
    appliedTakeover: {},
    leaving: false,
    config: { ...DEFAULT_TUNING, fenceMs, failbackDelayMs: deadtimeMs, ...tuning, quorum: (tuning.quorum ?? DEFAULT_TUNING.quorum) && nodes.length >= 3 },
    gen: env.generation ?? 0,
    bootAt: env.now ?? 0,
    deadtimeMs,
    claimSeq: 0,
    acks: {},
    liveSince: {},
    heardAt: {},
    stale: [],
    grantsOpen: false,
    holdStartsUntil: -Infinity,
    standbySince: {},
  };
}

const holds = (p: GroupPhase): boolean => p !== 'stopped';

/** What we put in our heartbeats. */
export function advertOf(s: OwnershipState, now: number): PeerAdvert {
  const id = (g: number) => s.groups[g]!.id;
  return {
    groups: Object.fromEntries(s.local.map((lg, g) => [id(g), { phase: lg.phase, claim: lg.claim, grant: lg.grant }])),
    standby: [...s.standby].sort((a, b) => a - b).map(id),
    failed: s.local.flatMap((lg, g) => (lg.failedUntil !== null && lg.failedUntil > now ? [id(g)] : [])),
    takeover: s.takeoverSerial > 0 ? { serial: s.takeoverSerial, groups: s.takeoverGroups.map(id) } : null,
    leaving: s.leaving,
    gen: s.gen,
    at: Math.floor(now),
    deadtimeMs: s.deadtimeMs,
    acks: s.config.quorum ? Object.entries(s.acks).map(([node, a]) => ({ node, gen: a.gen, at: a.at })) : [],
  };
}

/** Majority size: a strict majority of the nodes of ha.cf. */
function majority(s: OwnershipState): number {
  return Math.floor(s.nodes.length / 2) + 1;
}

/**
 * Quorum clusters: until when our current claim on group g may hold the group (our clock);
 * -Infinity without a claim or without a majority of grants. Each grant from a peer counts
 * until (our `at` it echoes) + (its deadtime) - fenceMs: before (echo + its deadtime) it
 * cannot withdraw the grant for our silence, and fenceMs is kept for our stop. (With the
 * same timers on every node, that is at least 3 keepalives after the echo; a peer with a
 * much shorter deadtime gives short leases: groups then stop and start again, but never run
 * twice.)
 */
export function leaseEnd(s: OwnershipState, g: number): number {
  const lg = s.local[g]!;
  if (lg.claim === null) return -Infinity;
  const ends: number[] = [];
  if (lg.grant && lg.grant.node === s.me && lg.grant.gen === s.gen && lg.grant.claim === lg.claim) ends.push(Infinity);
  for (const n of s.live) {
    const a = s.peers[n];
    const gr = a?.groups[s.groups[g]!.id]?.grant;
    if (!a || !gr || gr.node !== s.me || gr.gen !== s.gen || gr.claim !== lg.claim) continue;
    const ack = a.acks.find((k) => k.node === s.me && k.gen === s.gen);
    if (ack) ends.push(ack.at + a.deadtimeMs - s.config.fenceMs);
  }
  ends.sort((x, y) => y - x);
  return ends[majority(s) - 1] ?? -Infinity;
}

function inScope(s: OwnershipState, g: number, scope: Scope): boolean {
  const local = s.groups[g]?.preferredNode === s.me;
  return scope === 'all' || (scope === 'local' ? local : !local);
}

export function hasQuorum(s: OwnershipState): boolean {
  if (!s.config.quorum) return true;
  return (s.live.length + 1) * 2 > s.nodes.length;
}

/** Nodes alive in our view, ourselves included, in ha.cf order. */
function aliveNodes(s: OwnershipState): string[] {
  return s.nodes.filter((n) => n === s.me || s.live.includes(n));
}

function phaseAt(s: OwnershipState, node: string, g: number): GroupPhase {
  if (node === s.me) return s.local[g]!.phase;
  return s.peers[node]?.groups[s.groups[g]!.id]?.phase ?? 'stopped';
}

/**
 * The node that should run group g, as every node with the same view computes it; null
 * when no node may (all in failed-start hold, or no quorum).
 */
export function desiredOwner(s: OwnershipState, g: number, now: number): string | null {
  const def = s.groups[g]!;
  const failedAt = (n: string) => (n === s.me ? (s.local[g]!.failedUntil ?? 0) > now : (s.peers[n]?.failed ?? []).includes(def.id));
  const standbyAt = (n: string) => (n === s.me ? s.standby.has(g) : (s.peers[n]?.standby ?? []).includes(def.id));
  // Preferred node first, then ha.cf order: the same list on every node.
  const leavingAt = (n: string) => (n === s.me ? s.leaving : s.peers[n]?.leaving === true);
  // A node whose haresources has no line for this group cannot run it (configuration drift).
  const absentAt = (n: string) => {
    const a = n === s.me ? undefined : s.peers[n];
    return a !== undefined && !Object.hasOwn(a.groups, def.id);
  };
  const eligible = (n: string) => (n === s.me || s.live.includes(n)) && !failedAt(n) && !leavingAt(n) && !absentAt(n);
  const order: string[] = [];
  if (s.nodes.includes(def.preferredNode) && eligible(def.preferredNode)) order.push(def.preferredNode);
  for (const n of s.nodes) if (n !== def.preferredNode && eligible(n)) order.push(n);
  const willing = order.filter((n) => !standbyAt(n));
  // Standby yields only to a node that can take the group; with none, the group still runs.
  const candidates = willing.length > 0 ? willing : order;
  if (candidates.length === 0) return null;
  const active = (n: string) => phaseAt(s, n, g) === 'running' || phaseAt(s, n, g) === 'starting';
  if (s.autoFailback === 'off') {
    // Stay where it runs, as long as that node is a candidate; among several holders
    // (after a partition heals) the first in candidate order keeps it.
    const holder = candidates.find(active);
    if (holder) return holder;
  }
  const first = candidates[0]!;
  // A group moves to a node only once that node has been heard continuously for
  // failbackDelayMs (failback, or a standby holder yielding): a node that keeps crashing must
  // not drag the group along. (Being "up" in our view for a while proves little: a node is up
  // until a deadtime after its last heartbeat.) Only the holder applies this (it alone decides
  // when to let go); a node that holds too (after a partition) gets it at once. A standby
  // asked for while that node was already up is an operator's choice: at once.
  const since = s.liveSince[first] ?? now;
  const stable = (s.heardAt[first] ?? -Infinity) - since >= s.config.failbackDelayMs;
  const asked = s.standby.has(g) && (s.standbySince[g] ?? -Infinity) >= since;
  if (first !== s.me && order.includes(s.me) && active(s.me) && !active(first) && !stable && !asked) return s.me;
  return first;
}

export interface OwnershipResult {
  state: OwnershipState;
  effects: OwnershipEffect[];
}

export function step(prev: OwnershipState, event: OwnershipEvent, now: number): OwnershipResult {
  const s: OwnershipState = {
    ...prev,
    local: prev.local.map((g) => ({ ...g })),
    peers: { ...prev.peers },
    standby: new Set(prev.standby),
    appliedTakeover: { ...prev.appliedTakeover },
    acks: { ...prev.acks },
    liveSince: { ...prev.liveSince },
    heardAt: { ...prev.heardAt },
    standbySince: { ...prev.standbySince },
  };
  const effects: OwnershipEffect[] = [];
  let advertise = false;
  const log = (level: LogLevel, text: string) => effects.push({ kind: 'log', level, text });
  const setPhase = (g: number, to: GroupPhase) => {
    const lg = s.local[g]!;
    if (lg.phase === to) return;
    effects.push({ kind: 'group-phase', group: g, from: lg.phase, to });
    lg.phase = to;
    advertise = true;
  };
  const groupLabel = (g: number) => {
    const def = s.groups[g]!;
    return [def.preferredNode, ...def.resources].join(' ');
  };

  switch (event.kind) {
    case 'membership':
      s.live = event.live.filter((n) => n !== s.me);
      s.settled = event.settled;
      for (const n of Object.keys(s.peers)) if (!s.live.includes(n)) delete s.peers[n];
      for (const n of Object.keys(s.acks)) if (!s.live.includes(n)) delete s.acks[n];
      for (const n of Object.keys(s.liveSince)) if (!s.live.includes(n)) delete s.liveSince[n];
      for (const n of Object.keys(s.heardAt)) if (!s.live.includes(n)) delete s.heardAt[n];
      for (const n of s.live) s.liveSince[n] = event.since?.[n] ?? s.liveSince[n] ?? now;
      s.stale = s.stale.filter((n) => s.live.includes(n));
      break;
    case 'stalled':
      // Our adverts stopped for a while; what we know of the peers is old. Start nothing
      // until each has spoken again (or is declared dead), and if we were silent for a
      // deadtime, the peers have declared us dead and may have taken our groups: let go.
      s.stale = [...s.live];
      // Packets that waited in our socket during the stall come first, and tell of the past.
      s.holdStartsUntil = now + s.deadtimeMs;
      if (event.silentMs >= s.deadtimeMs) {
        for (const lg of s.local) if (lg.phase === 'starting' || lg.phase === 'running') lg.releaseReq = true;
      }
      break;
    case 'node-lost': {
      const had = s.peers[event.node];
      delete s.peers[event.node];
      delete s.acks[event.node];
      delete s.liveSince[event.node];
      delete s.heardAt[event.node];
      s.stale = s.stale.filter((n) => n !== event.node);
      s.live = s.live.filter((n) => n !== event.node);
      // Its claims died with it (timeout: after our deadtime of silence; shutdown: it stopped
      // everything first; restart: that run is gone).
      for (const lg of s.local) {
        if (lg.grant && lg.grant.node === event.node) {
          lg.grant = null;
          advertise = true;
        }
      }
      const held = had ? s.groups.flatMap((def, g) => (holds(had.groups[def.id]?.phase ?? 'stopped') ? [g] : [])) : [];
      for (const g of held) if (s.local[g]!.phase === 'running') effects.push({ kind: 'reassert', group: g, from: event.node });
      if (event.reason === 'shutdown' && held.length === 0 && had) log('info', `Dead node ${event.node} gave up resources.`);
      for (const g of held) s.local[g]!.acquiredFrom = event.node;
      // Groups preferred by the lost node are "acquired from" it too, as Heartbeat logs.
      s.groups.forEach((def, g) => {
        if (def.preferredNode === event.node && s.local[g]!.acquiredFrom === null) s.local[g]!.acquiredFrom = event.node;
      });
      break;
    }
    case 'advert': {
      if (event.node === s.me) break;
      const a = event.advert;
      const known = s.peers[event.node];
      // An advert older than the one we have (reordered on the way) is out of date.
      if (known && known.gen === a.gen && a.at < known.at) break;
      if (known) {
        s.groups.forEach((def, g) => {
          const was = known.groups[def.id]?.phase ?? 'stopped';
          if (holds(was) && !holds(a.groups[def.id]?.phase ?? 'stopped') && s.local[g]!.phase === 'running') effects.push({ kind: 'reassert', group: g, from: event.node });
        });
      }
      s.peers[event.node] = a;
      s.heardAt[event.node] = now;
      s.stale = s.stale.filter((n) => n !== event.node);
      const ack = s.acks[event.node];
      s.acks[event.node] = { gen: a.gen, at: ack && ack.gen === a.gen ? Math.max(ack.at, a.at) : a.at };
      const tk = a.takeover;
      // Takeover serials count from 1 again in a peer's new run (generation).
      const applied = s.appliedTakeover[`${event.node}#${a.gen}`] ?? 0;
      if (tk && tk.serial > applied) {
        s.appliedTakeover[`${event.node}#${a.gen}`] = tk.serial;
        // The peer asked for these groups (those we have): stand by for them, as Heartbeat's
        // hb_takeover asks the other node to give them up.
        const asked = s.groups.flatMap((def, g) => (tk.groups.includes(def.id) ? [g] : []));
        for (const g of asked) {
          if (!s.standby.has(g)) {
            s.standby.add(g);
            s.standbySince[g] = now;
            advertise = true;
          }
        }
        if (asked.length > 0) log('info', `${event.node} asked to take over: standing by for ${asked.map(groupLabel).join('; ')}`);
      }
      break;
    }
    case 'agent-done':
      onAgentDone(event);
      break;
    case 'standby': {
      const gs = s.groups.map((_, g) => g).filter((g) => inScope(s, g, event.scope));
      for (const g of gs) {
        s.standby.add(g);
        s.standbySince[g] = now;
      }
      log('info', `Standby: giving ${event.scope} resources to the other node(s).`);
      for (const g of gs) effects.push({ kind: 'transition', group: g, what: 'standby' });
      advertise = true;
      break;
    }
    case 'takeover': {
      const gs = s.groups.map((_, g) => g).filter((g) => inScope(s, g, event.scope));
      for (const g of gs) {
        s.standby.delete(g);
        delete s.standbySince[g];
        s.local[g]!.failedUntil = null;
      }
      s.takeoverSerial += 1;
      s.takeoverGroups = gs;
      log('info', `Takeover: asking the other node(s) for ${event.scope} resources.`);
      advertise = true;
      break;
    }
    case 'leave':
      if (!s.leaving) advertise = true;
      s.leaving = true;
      break;
    case 'tick':
      break;
  }

  decide();
  if (advertise) effects.push({ kind: 'advertise' });
  return { state: s, effects };

  function onAgentDone(ev: Extract<OwnershipEvent, { kind: 'agent-done' }>): void {
    const lg = s.local[ev.group];
    if (!lg || lg.pending !== ev.action || lg.cursor !== ev.resource) return; // stale
    lg.pending = null;
    const def = s.groups[ev.group]!;
    const name = def.resources[ev.resource] ?? '?';
    if (lg.phase === 'starting') {
      if (ev.action === 'status') {
        if (ev.running) {
          log('info', `Resource ${name} is already running.`);
          lg.cursor += 1;
        } else {
          lg.pending = 'start';
          effects.push({ kind: 'agent', group: ev.group, resource: lg.cursor, action: 'start' });
        }
        return;
      }
      if (ev.action === 'start' && ev.ok) {
        lg.cursor += 1;
        return;
      }
      // A start failed: undo what this group started, right to left, the failed one included.
      log('error', `Resource ${name} failed to start: stopping resource group ${groupLabel(ev.group)} again so it never runs half-started.`);
      effects.push({ kind: 'transition', group: ev.group, what: 'start-failed' });
      lg.failedUntil = now + s.config.failedStartHoldMs;
      beginStop(ev.group, 'rollback', ev.resource);
      return;
    }
    if (lg.phase === 'stopping' || lg.phase === 'stop-failed') {
      if (ev.ok) {
        lg.stopAttempts = 0;
        if (lg.phase === 'stop-failed') setPhase(ev.group, 'stopping');
        lg.cursor -= 1;
        return;
      }
      lg.stopAttempts += 1;
      if (lg.stopAttempts <= s.config.stopRetries) {
        log('info', `Retrying failed stop operation [${name}]`);
        lg.retryAt = now + s.config.stopRetryDelayMs;
      } else {
        if (lg.phase !== 'stop-failed') {
          log('crit', `Resource ${name} failed to stop: resource group ${groupLabel(ev.group)} may still be running here; no other node will start it until it stops. Fix the cause; hbd keeps retrying every ${Math.round(s.config.stopFailedRetryMs / 1000)} s.`);
          effects.push({ kind: 'transition', group: ev.group, what: 'stop-failed' });
        }
        setPhase(ev.group, 'stop-failed');
        lg.retryAt = now + s.config.stopFailedRetryMs;
      }
    }
  }

  function beginStop(g: number, reason: NonNullable<LocalGroup['stopReason']>, from?: number): void {
    const lg = s.local[g]!;
    if (reason !== 'rollback') log('info', `Releasing resource group: ${groupLabel(g)}`);
    if (reason === 'release') effects.push({ kind: 'transition', group: g, what: 'release' });
    lg.stopReason = reason;
    lg.releaseReq = false;
    lg.stopAttempts = 0;
    lg.retryAt = null;
    // Stop from the last resource that may be running (all of them, unless a start was cut short).
    lg.cursor = from ?? (lg.phase === 'starting' ? Math.min(lg.cursor, s.groups[g]!.resources.length - 1) : s.groups[g]!.resources.length - 1);
    setPhase(g, 'stopping');
  }

  function beginStart(g: number): void {
    const lg = s.local[g]!;
    const def = s.groups[g]!;
    const from = lg.acquiredFrom;
    if (from && from !== s.me) {
      log('info', `Resources being acquired from ${from}.`);
      log('info', 'Taking over resource group');
    }
    log('info', `Acquiring resource group: ${groupLabel(g)}`);
    lg.cursor = 0;
    lg.pending = null;
    lg.startedAt = now;
    setPhase(g, 'starting');
    const what = def.preferredNode === s.me ? (from && from !== s.me ? 'failback' : 'acquired') : 'takeover';
    effects.push({ kind: 'transition', group: g, what, from: from ?? null });
  }

  /**
   * Quorum clusters: withdraw our grant on g when its claim is over, and grant g to our
   * desired owner's claim when we grant nothing.
   */
  function updateGrant(g: number): void {
    if (!s.config.quorum) return;
    const lg = s.local[g]!;
    const gr = lg.grant;
    if (gr) {
      let over: boolean;
      if (gr.node === s.me) over = gr.gen !== s.gen || lg.claim !== gr.claim;
      else if (!s.live.includes(gr.node)) over = true;
      else {
        // A node drops a claim only once it has stopped the group, and never reuses one.
        const a = s.peers[gr.node];
        over = a !== undefined && (a.gen !== gr.gen || (a.groups[s.groups[g]!.id]?.claim ?? null) !== gr.claim);
      }
      if (over) {
        lg.grant = null;
        advertise = true;
      }
    }
    // The grants of our previous run may count in a lease until one deadtime after it ended.
    if (lg.grant || !s.settled || !s.grantsOpen) return;
    const d = desiredOwner(s, g, now);
    if (d === s.me) {
      if (lg.claim !== null) lg.grant = { node: s.me, gen: s.gen, claim: lg.claim };
    } else if (d !== null) {
      const a = s.peers[d];
      const c = a?.groups[s.groups[g]!.id]?.claim ?? null;
      if (a && c !== null) lg.grant = { node: d, gen: a.gen, claim: c };
    }
    if (lg.grant) advertise = true;
  }

  /** Drives every group one step: issue the next agent call or change phase. */
  function decide(): void {
    if (!s.grantsOpen && now >= s.bootAt + s.deadtimeMs) s.grantsOpen = true;
    s.groups.forEach((def, g) => {
      const lg = s.local[g]!;
      if (lg.failedUntil !== null && lg.failedUntil <= now) {
        // The failed-start hold is over: we are a candidate again; say so now.
        lg.failedUntil = null;
        advertise = true;
      }
      updateGrant(g);
      // A phase change (start begun, stop begun) is followed at once by its first agent
      // call, in this same step: waiting for the next tick would add up to a keepalive.
      for (let pass = 0; pass < 4; pass++) {
        const before = s.local[g]!.phase;
        driveGroup(def, g);
        if (s.local[g]!.pending || s.local[g]!.phase === before) break;
      }
    });
    if (s.leaving && s.local.every((g) => g.phase === 'stopped' && !g.pending)) effects.push({ kind: 'left' });
  }

  function driveGroup(def: GroupDef, g: number): void {
    const quorate = hasQuorum(s);
    {
      const lg = s.local[g]!;
      if (lg.pending) return; // an agent call is running: wait for it
      const desired = s.leaving || !quorate ? null : desiredOwner(s, g, now);

      switch (lg.phase) {
        case 'stopped': {
          // A live peer whose advert we have not read yet may hold the group: unknown is not
          // "stopped". Wait for its first heartbeat's advert, then for any holder to stop.
          const want =
            !s.leaving &&
            s.settled &&
            desired === s.me &&
            s.stale.length === 0 &&
            now >= s.holdStartsUntil &&
            !s.live.some((n) => !s.peers[n]) && // unknown peer
            !s.live.some((n) => holds(phaseAt(s, n, g))); // another holder
          if (!s.config.quorum) {
            if (want) beginStart(g); // never two at once
            return;
          }
          if (!want) {
            if (lg.claim !== null) {
              lg.claim = null;
              advertise = true;
              updateGrant(g);
            }
            return;
          }
          if (lg.claim === null) {
            s.claimSeq += 1;
            lg.claim = s.claimSeq;
            advertise = true;
            updateGrant(g);
          }
          // Start only under a majority of grants for this claim.
          if (leaseEnd(s, g) > now) beginStart(g);
          return;
        }
        case 'starting':
        case 'running': {
          const mustStop = s.leaving
            ? 'shutdown'
            : lg.releaseReq
              ? 'stall'
              : !quorate
                ? 'quorum'
                : desired !== s.me && desired !== null
                  ? 'release'
                  : s.config.quorum && leaseEnd(s, g) <= now
                    ? 'fence'
                    : null;
          if (mustStop) {
            if (mustStop === 'quorum') log('warn', `Lost quorum (${s.live.length + 1} of ${s.nodes.length} nodes): releasing ${groupLabel(g)}.`);
            if (mustStop === 'fence') log('warn', `No majority of nodes has confirmed hearing us for too long: releasing ${groupLabel(g)} before another node may take it over.`);
            if (mustStop === 'stall') log('warn', `This node was not scheduled for longer than the deadtime; the other nodes may have taken over: releasing ${groupLabel(g)}.`);
            beginStop(g, mustStop);
            break;
          }
          if (lg.phase === 'running') return;
          if (lg.cursor >= def.resources.length) {
            setPhase(g, 'running');
            if (lg.acquiredFrom && lg.acquiredFrom !== s.me) log('info', `mach_down takeover complete for node ${lg.acquiredFrom}.`);
            else log('info', `Resource group ${groupLabel(g)} is running.`);
            lg.acquiredFrom = null;
            lg.failedUntil = null;
            return;
          }
          lg.pending = 'status';
          effects.push({ kind: 'agent', group: g, resource: lg.cursor, action: 'status' });
          break;
        }
        case 'stopping':
        case 'stop-failed': {
          if (lg.retryAt !== null && now < lg.retryAt) return;
          lg.retryAt = null;
          if (lg.cursor < 0) {
            setPhase(g, 'stopped');
            const reason = lg.stopReason;
            lg.stopReason = null;
            lg.releaseReq = false;
            if (lg.claim !== null) {
              // Stopped: this claim is over (our own grant to it goes with it).
              lg.claim = null;
              updateGrant(g);
            }
            if (reason === 'rollback') log('warn', `Resource group ${groupLabel(g)} stopped after its failed start; another node may take it.`);
            else log('info', `Resource group ${groupLabel(g)} released.`);
            return;
          }
          lg.pending = 'stop';
          effects.push({ kind: 'agent', group: g, resource: lg.cursor, action: 'stop' });
          break;
        }
      }
    }
  }
}

/**
 * When a timer-driven change is due (stop retries, end of a failed-start hold, end of a
 * lease, end of our first deadtime), for the shell's single timer.
 */
export function nextWake(s: OwnershipState, now: number): number {
  let wake = Infinity;
  // A deadline already past wakes us at once: a step in between (a duplicate heartbeat) may
  // not have stepped ownership, and a lease must never be overrun by a keepalive.
  const at = (t: number) => {
    wake = Math.min(wake, Math.max(now, t));
  };
  s.local.forEach((lg, g) => {
    if (lg.retryAt !== null) at(lg.retryAt);
    if (lg.failedUntil !== null) at(lg.failedUntil);
    if (s.config.quorum && (lg.phase === 'starting' || lg.phase === 'running') && !lg.pending) at(leaseEnd(s, g));
  });
  if (s.config.quorum && !s.grantsOpen) at(s.bootAt + s.deadtimeMs);
  if (s.holdStartsUntil > now) at(s.holdStartsUntil);
  return wake;
}

/** Who holds each group in our view, for status output. */
export function ownersView(s: OwnershipState): { group: number; holders: { node: string; phase: GroupPhase }[] }[] {
  return s.groups.map((_, g) => ({
    group: g,
    holders: aliveNodes(s)
      .map((n) => ({ node: n, phase: phaseAt(s, n, g) }))
      .filter((h) => holds(h.phase)),
  }));
}
