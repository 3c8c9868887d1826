// Ownership: which node runs each resource group, and the ordered start/stop of its
// resources on this node. Pure: stepped by events and a time value, returns effects.
//
// Every node advertises, in each heartbeat, what it holds (per group: stopped, starting,
// running, stopping, stop-failed), where it is in standby and which starts failed here.
// From that shared view each node computes the same desired owner per group, and acts only
// on its own part of a handoff: a holder that is not the desired owner stops; the desired
// owner starts only when no live node holds the group. Heartbeats repeat the whole state
// every keepalive, so a lost packet delays a decision by one keepalive and never breaks it.

import type { AutoFailback } from '../config/types.js';
import type { LogLevel } from './membership.js';

export type GroupPhase = 'stopped' | 'starting' | 'running' | 'stopping' | 'stop-failed';
export type Scope = 'all' | 'local' | 'foreign';

export interface GroupDef {
  id: string;
  preferredNode: string;
  /** Resource names as written in haresources, in start order. */
  resources: string[];
}

export interface PeerAdvert {
  phases: GroupPhase[];
  /** Groups this node refuses while another eligible node is up (hb_standby). */
  standby: number[];
  /** Groups whose start failed on this node recently: it must not be asked again soon. */
  failed: number[];
  /** Takeover requests (hb_takeover on that node): applied once per serial. */
  takeover: { serial: number; groups: number[] } | null;
  /** The node is shutting down: it is no candidate, and takes nothing new. */
  leaving: boolean;
}

interface LocalGroup {
  phase: GroupPhase;
  /** The resource being worked on (index), or -1. */
  cursor: number;
  /** What the in-flight agent call is, if any. */
  pending: 'status' | 'start' | 'stop' | null;
  /** Why we are stopping: a handoff, a rollback of a failed start, or our shutdown. */
  stopReason: 'release' | 'rollback' | 'shutdown' | 'quorum' | null;
  stopAttempts: number;
  retryAt: number | null;
  failedUntil: number | null;
  /** For logs: whose group we are taking over ("Resources being acquired from prime."). */
  acquiredFrom: string | null;
  startedAt: number | null;
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
}

export const DEFAULT_TUNING: OwnershipTuning = {
  stopRetries: 3,
  stopRetryDelayMs: 1000,
  stopFailedRetryMs: 30_000,
  failedStartHoldMs: 60_000,
  quorum: true,
};

export type OwnershipEvent =
  | { kind: 'tick' }
  | { kind: 'membership'; live: string[]; settled: boolean }
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
  /** Every group is stopped after `leave`: the daemon may say goodbye and exit. */
  | { kind: 'left' };

export function initOwnership(me: string, nodes: string[], groups: GroupDef[], autoFailback: AutoFailback, tuning: Partial<OwnershipTuning> = {}): OwnershipState {
  return {
    me,
    nodes,
    groups,
    autoFailback,
    live: [],
    settled: false,
    local: groups.map(() => ({ phase: 'stopped', cursor: -1, pending: null, stopReason: null, stopAttempts: 0, retryAt: null, failedUntil: null, acquiredFrom: null, startedAt: null })),
    peers: {},
    standby: new Set(),
    takeoverSerial: 0,
    takeoverGroups: [],
    appliedTakeover: {},
    leaving: false,
    config: { ...DEFAULT_TUNING, ...tuning, quorum: (tuning.quorum ?? DEFAULT_TUNING.quorum) && nodes.length >= 3 },
  };
}

const holds = (p: GroupPhase): boolean => p !== 'stopped';

/** What we put in our heartbeats. */
export function advertOf(s: OwnershipState, now: number): PeerAdvert {
  return {
    phases: s.local.map((g) => g.phase),
    standby: [...s.standby].sort((a, b) => a - b),
    failed: s.local.flatMap((g, i) => (g.failedUntil !== null && g.failedUntil > now ? [i] : [])),
    takeover: s.takeoverSerial > 0 ? { serial: s.takeoverSerial, groups: s.takeoverGroups } : null,
    leaving: s.leaving,
  };
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
  return s.peers[node]?.phases[g] ?? 'stopped';
}

/**
 * The node that should run group g, as every node with the same view computes it; null
 * when no node may (all in failed-start hold, or no quorum).
 */
export function desiredOwner(s: OwnershipState, g: number, now: number): string | null {
  const def = s.groups[g]!;
  const alive = aliveNodes(s);
  const failedAt = (n: string) => (n === s.me ? (s.local[g]!.failedUntil ?? 0) > now : (s.peers[n]?.failed ?? []).includes(g));
  const standbyAt = (n: string) => (n === s.me ? s.standby.has(g) : (s.peers[n]?.standby ?? []).includes(g));
  // Preferred node first, then ha.cf order: the same list on every node.
  const leavingAt = (n: string) => (n === s.me ? s.leaving : s.peers[n]?.leaving === true);
  const order = [def.preferredNode, ...s.nodes.filter((n) => n !== def.preferredNode)].filter((n) => alive.includes(n) && !failedAt(n) && !leavingAt(n));
  const willing = order.filter((n) => !standbyAt(n));
  // Standby yields only to a node that can take the group; with none, the group still runs.
  const candidates = willing.length > 0 ? willing : order;
  if (candidates.length === 0) return null;
  if (s.autoFailback === 'off') {
    // Stay where it runs, as long as that node is a candidate; among several holders
    // (after a partition heals) the first in candidate order keeps it.
    const holder = candidates.find((n) => phaseAt(s, n, g) === 'running' || phaseAt(s, n, g) === 'starting');
    if (holder) return holder;
  }
  return candidates[0]!;
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
      break;
    case 'node-lost': {
      const had = s.peers[event.node];
      delete s.peers[event.node];
      s.live = s.live.filter((n) => n !== event.node);
      const held = had ? had.phases.flatMap((p, i) => (holds(p) ? [i] : [])) : [];
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
      s.peers[event.node] = event.advert;
      const tk = event.advert.takeover;
      if (tk && tk.serial > (s.appliedTakeover[event.node] ?? 0)) {
        s.appliedTakeover[event.node] = tk.serial;
        // The peer asked for these groups: stand by for them, as Heartbeat's hb_takeover
        // asks the other node to give them up.
        for (const g of tk.groups) {
          if (!s.standby.has(g)) {
            s.standby.add(g);
            advertise = true;
          }
        }
        if (tk.groups.length > 0) log('info', `${event.node} asked to take over: standing by for ${tk.groups.map(groupLabel).join('; ')}`);
      }
      break;
    }
    case 'agent-done':
      onAgentDone(event);
      break;
    case 'standby': {
      const gs = s.groups.map((_, g) => g).filter((g) => inScope(s, g, event.scope));
      for (const g of gs) s.standby.add(g);
      log('info', `Standby: giving ${event.scope} resources to the other node(s).`);
      for (const g of gs) effects.push({ kind: 'transition', group: g, what: 'standby' });
      advertise = true;
      break;
    }
    case 'takeover': {
      const gs = s.groups.map((_, g) => g).filter((g) => inScope(s, g, event.scope));
      for (const g of gs) {
        s.standby.delete(g);
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

  /** Drives every group one step: issue the next agent call or change phase. */
  function decide(): void {
    s.groups.forEach((def, g) => {
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
          if (s.leaving || !s.settled || desired !== s.me) return;
          // A live peer whose advert we have not read yet may hold the group: unknown is not
          // "stopped". Wait for its first heartbeat's advert, then for any holder to stop.
          const unknownPeer = aliveNodes(s).some((n) => n !== s.me && !s.peers[n]);
          const otherHolder = aliveNodes(s).find((n) => n !== s.me && holds(phaseAt(s, n, g)));
          if (unknownPeer || otherHolder) return; // never two at once
          beginStart(g);
          break;
        }
        case 'starting':
        case 'running': {
          const mustStop = s.leaving ? 'shutdown' : !quorate ? 'quorum' : desired !== s.me && desired !== null ? 'release' : null;
          if (mustStop) {
            if (mustStop === 'quorum') log('warn', `Lost quorum (${s.live.length + 1} of ${s.nodes.length} nodes): releasing ${groupLabel(g)}.`);
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

/** When a timer-driven retry is due (stop retries), for the shell's single timer. */
export function nextWake(s: OwnershipState, now: number): number {
  let wake = Infinity;
  for (const g of s.local) {
    if (g.retryAt !== null) wake = Math.min(wake, g.retryAt);
    if (g.failedUntil !== null && g.failedUntil > now) wake = Math.min(wake, g.failedUntil + 1);
  }
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
