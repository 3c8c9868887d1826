// Membership: who is alive, over which links, decided from heartbeats and a time value.
// Pure: no I/O, no clock. The daemon calls `step(state, event, now)` and carries out the
// effects; `nextWake(state, now)` says when the next timer-driven change can happen.
//
// Node status words are Heartbeat's (cl_status nodestatus): `init` (not heard yet since we
// started), `up` (heard, still starting), `active` (running normally), `dead`.
import { dueAfter, dueAt, expired, nextWakeOf, type Deadline } from './timeout.js';

export type NodeStatus = 'init' | 'up' | 'active' | 'dead';
/** What a node says of itself in its heartbeats. */
export type AdvertisedStatus = 'init' | 'up' | 'active';

/** Why a peer is dead: silence for deadtime, its goodbye, or its address guard's word that its hbd died. */
export type DeadReason = 'timeout' | 'shutdown' | 'crash';

export interface Timers {
  keepaliveMs: number;
  warntimeMs: number;
  deadtimeMs: number;
  initdeadMs: number;
}

export interface LinkState {
  up: boolean;
  lastHeard: number | null;
}

export interface PeerState {
  name: string;
  status: NodeStatus;
  lastHeard: number | null;
  /** The peer's heartbeat generation (hg): grows on every restart of its daemon. */
  generation: number | null;
  links: Record<string, LinkState>;
  /** Set once per silence, so "late heartbeat" is logged once, not every tick. */
  lateWarned: boolean;
  /** Why it is dead, for status views: silence or its own shutdown notice. */
  deadReason: DeadReason | null;
  /** When the status last changed (monotonic ms). */
  since: number;
  /** The generation that said goodbye: its late, reordered heartbeats must not revive it. */
  leftGeneration: number | null;
}

export interface MembershipState {
  me: string;
  timers: Timers;
  linkNames: string[];
  startedAt: number;
  /** What we advertise: `init` in the first heartbeat, `up` until settled, then `active`. */
  myStatus: AdvertisedStatus;
  /** True once every peer is heard or declared dead: only then can ownership be decided. */
  settled: boolean;
  nextHeartbeatAt: number;
  peers: Record<string, PeerState>;
  leaving: boolean;
  /** When we last stepped, and when our last heartbeat went out (stall detection). */
  lastStepAt: number;
  lastSentAt: number | null;
  /**
   * When we last came back from a stall (a frozen VM, a stopped process): silence before
   * it is not the peers' fault, so it is counted from here at the earliest.
   */
  resumedAt: number | null;
  /**
   * Quorum clusters, after a reload lowered the deadtime: our earlier heartbeats told the peers
   * that we declare a node dead only after `ms` of silence, and leases rest on that (lease.ts);
   * so no peer heard before the reload is declared dead sooner, until `until`.
   */
  promisedDeadtime: { ms: number; until: number } | null;
}

export type MembershipEvent =
  /** Timers may have expired. */
  | { kind: 'tick' }
  /**
   * A verified heartbeat from `node` over `link`. `fresh` is false when the same message
   * already came over another link: it proves this link alive, and nothing more.
   */
  | { kind: 'heard'; node: string; link: string; generation: number; status: AdvertisedStatus; fresh: boolean }
  /** The peer said it is shutting down (Heartbeat's `shutdone`): it is gone now, not after deadtime. */
  | { kind: 'peer-left'; node: string; generation: number; crashed?: boolean }
  /** We are shutting down: stop heartbeats, tell the peers. */
  | { kind: 'leave' };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'crit';
export type LogTag = 'ResourceManager' | 'ipfail';

export type MembershipEffect =
  | { kind: 'send-heartbeat'; status: AdvertisedStatus }
  | { kind: 'send-leave' }
  /** `tag`: the Heartbeat program that printed such a line when it was not heartbeat itself. */
  | { kind: 'log'; level: LogLevel; text: string; tag?: LogTag }
  | { kind: 'node-status'; node: string; from: NodeStatus; to: NodeStatus; reason?: DeadReason | 'restart' }
  | { kind: 'link-status'; node: string; link: string; up: boolean }
  /**
   * A silence past warntime: once while it lasts (`arrived: false`), and when the heartbeat
   * that ends it arrives (`arrived: true`); a status view counts each silence once.
   */
  | { kind: 'late-heartbeat'; node: string; silentMs: number; arrived: boolean }
  /** The peer restarted (new generation) without us noticing it die: it lost what it held. */
  | { kind: 'node-restarted'; node: string; generation: number }
  /** We were not scheduled for `ms`; our last heartbeat went out `silentMs` ago. */
  | { kind: 'stalled'; ms: number; silentMs: number }
  | { kind: 'settled' };

export interface StepResult {
  state: MembershipState;
  effects: MembershipEffect[];
}

export function initMembership(me: string, nodes: string[], linkNames: string[], timers: Timers, now: number): MembershipState {
  const peers: Record<string, PeerState> = {};
  for (const name of nodes) {
    if (name === me) continue;
    const links: Record<string, LinkState> = {};
    for (const l of linkNames) links[l] = { up: false, lastHeard: null };
    peers[name] = { name, status: 'init', lastHeard: null, generation: null, links, lateWarned: false, deadReason: null, since: now, leftGeneration: null };
  }
  return {
    me,
    timers,
    linkNames,
    startedAt: now,
    myStatus: 'init',
    settled: Object.keys(peers).length === 0,
    nextHeartbeatAt: now,
    peers,
    leaving: false,
    lastStepAt: now,
    lastSentAt: null,
    resumedAt: null,
    promisedDeadtime: null,
  };
}

/** A gap between two steps longer than this is a stall: the shell wakes us every keepalive. */
function stallAfter(timers: Timers): number {
  return Math.max(timers.deadtimeMs / 2, 2 * timers.keepaliveMs);
}

/** Since when a peer's silence counts: its last heartbeat, or our start, but never before our last stall. */
function silentSince(state: MembershipState, t: number | null): number {
  const since = t ?? state.startedAt;
  return state.resumedAt !== null && state.resumedAt > since ? state.resumedAt : since;
}

/**
 * The silence after which a peer silent since `since` is dead: initdead for one never heard
 * since we started; never less than our heartbeats promised it before a reload.
 */
function deadAfter(state: MembershipState, peer: PeerState, since: number): number {
  if (peer.lastHeard === null) return state.timers.initdeadMs;
  const p = state.promisedDeadtime;
  return p ? Math.max(state.timers.deadtimeMs, Math.min(p.ms, p.until - since)) : state.timers.deadtimeMs;
}

/** One step in progress: the copy being written, and what it says. */
interface Turn {
  state: MembershipState;
  effects: MembershipEffect[];
  now: number;
}

export function step(prev: MembershipState, event: MembershipEvent, now: number): StepResult {
  // Copy-on-write of the parts we touch keeps `prev` valid for the simulator's traces.
  const t: Turn = { state: { ...prev, peers: { ...prev.peers } }, effects: [], now };
  noteStall(t, now - prev.lastStepAt);
  if (prev.promisedDeadtime && now >= prev.promisedDeadtime.until) t.state.promisedDeadtime = null;
  switch (event.kind) {
    case 'heard':
      onHeard(t, event);
      break;
    case 'peer-left':
      onPeerLeft(t, event);
      break;
    case 'leave':
      if (t.state.leaving) break;
      t.state.leaving = true;
      t.effects.push({ kind: 'send-leave' });
      break;
    case 'tick':
      break;
  }
  onDeadlines(t);
  settle(t);
  return { state: t.state, effects: t.effects };
}

/**
 * A stall: no step for much longer than a keepalive. The peers' silence during it is not
 * theirs to answer for; and if it lasted a deadtime, they have declared us dead.
 */
function noteStall(t: Turn, gap: number): void {
  const s = t.state;
  s.lastStepAt = t.now;
  if (s.leaving || gap <= stallAfter(s.timers)) return;
  s.resumedAt = t.now;
  const silentMs = t.now - (s.lastSentAt ?? s.startedAt);
  t.effects.push({ kind: 'log', level: 'warn', text: `hbd was not scheduled for ${Math.round(gap)} ms (a frozen VM or an overloaded host?): no heartbeat went out for ${Math.round(silentMs)} ms (deadtime ${s.timers.deadtimeMs} ms).` });
  t.effects.push({ kind: 'stalled', ms: gap, silentMs });
}

function onHeard(t: Turn, event: Extract<MembershipEvent, { kind: 'heard' }>): void {
  if (t.state.leaving) return;
  const p = peer(t, event.node);
  if (!p) return; // the shell drops packets from unknown nodes before they get here
  if (p.leftGeneration !== null && event.generation <= p.leftGeneration) return;
  const link = p.links[event.link] ?? { up: false, lastHeard: null };
  p.links[event.link] = { up: true, lastHeard: t.now };
  if (!link.up) {
    t.effects.push({ kind: 'link-status', node: p.name, link: event.link, up: true });
    t.effects.push({ kind: 'log', level: 'info', text: `Link ${p.name}:${event.link} up.` });
  }
  if (!event.fresh) return;
  if (p.generation !== null && event.generation > p.generation && p.status !== 'dead' && p.status !== 'init') {
    // It restarted faster than deadtime: whatever it held is gone, as if it had died.
    t.effects.push({ kind: 'log', level: 'warn', text: `node ${p.name}: restarted (generation ${p.generation} -> ${event.generation}).` });
    t.effects.push({ kind: 'node-restarted', node: p.name, generation: event.generation });
    p.since = t.now; // this run of it has been up since now (failback waits for a stable node)
  }
  if (p.lastHeard !== null && p.status !== 'dead') {
    const gap = t.now - p.lastHeard;
    if (gap > t.state.timers.warntimeMs) {
      t.effects.push({ kind: 'log', level: 'warn', text: `Late heartbeat: Node ${p.name}: interval ${Math.round(gap)} ms (warntime ${t.state.timers.warntimeMs} ms).` });
      t.effects.push({ kind: 'late-heartbeat', node: p.name, silentMs: gap, arrived: true });
    }
  }
  const wasDead = p.status === 'dead' || p.status === 'init';
  p.lastHeard = t.now;
  p.generation = Math.max(p.generation ?? 0, event.generation);
  p.lateWarned = false;
  p.deadReason = null;
  const to: NodeStatus = event.status === 'active' ? 'active' : 'up';
  if (p.status === to) return;
  if (wasDead) t.effects.push({ kind: 'log', level: 'info', text: `node ${p.name}: is up` });
  t.effects.push({ kind: 'log', level: 'info', text: `Status update for node ${p.name}: status ${to}` });
  setStatus(t, p, to);
}

function onPeerLeft(t: Turn, event: Extract<MembershipEvent, { kind: 'peer-left' }>): void {
  const p = peer(t, event.node);
  if (!p) return;
  // A goodbye ends a run we have heard alive, or nothing: replayed to a node that has just
  // started (its replay window empty, the peer not heard yet), a recorded one of an earlier
  // run would otherwise make it declare a live peer dead and take over what it runs.
  if (p.status === 'init' || p.generation !== event.generation) {
    t.effects.push({ kind: 'log', level: 'warn', text: `Ignored a ${event.crashed ? 'crash notice' : 'shutdown notice'} from ${p.name} (generation ${event.generation}): not a run of it heard alive here (a replayed packet?).` });
    return;
  }
  p.leftGeneration = Math.max(p.leftGeneration ?? 0, event.generation);
  if (p.status === 'dead') return;
  if (event.crashed) {
    t.effects.push({ kind: 'log', level: 'warn', text: `hbd on ${p.name} died: its address guard removed its addresses and said so.` });
    markDead(t, p, 'crash');
  } else {
    t.effects.push({ kind: 'log', level: 'info', text: `Received shutdown notice from '${p.name}'.` });
    markDead(t, p, 'shutdown');
  }
}

/** Every deadline the state holds: `step` acts on the expired ones, `nextWake` is the earliest. */
function deadlines(s: MembershipState): Deadline[] {
  const all: Deadline[] = heartbeatDeadline(s);
  for (const name in s.peers) peerDeadlines(s, s.peers[name]!, all);
  return all;
}

/** Ours: none once we are leaving (the goodbye was our last word). */
function heartbeatDeadline(s: MembershipState): Deadline[] {
  return s.leaving ? [] : [dueAt('heartbeat', s.nextHeartbeatAt)];
}

/**
 * A peer's: each of its links' silence (the subject is the link) and its own. None for a dead
 * peer: only a heartbeat revives it.
 */
function peerDeadlines(s: MembershipState, p: PeerState, all: Deadline[] = []): Deadline[] {
  if (p.status === 'dead') return all;
  for (const link in p.links) {
    const l = p.links[link]!;
    if (l.up && l.lastHeard !== null) all.push(dueAfter('link-dead', silentSince(s, l.lastHeard), s.timers.deadtimeMs, link));
  }
  const since = silentSince(s, p.lastHeard);
  if (p.lastHeard !== null && !p.lateWarned) all.push(dueAfter('late', since, s.timers.warntimeMs));
  all.push(dueAfter('dead', since, deadAfter(s, p, since)));
  return all;
}

function onDeadlines(t: Turn): void {
  const s = t.state;
  if (heartbeatDeadline(s).some((d) => expired(d, t.now))) beat(t);
  for (const name of Object.keys(s.peers)) {
    const due = peerDeadlines(s, s.peers[name]!).filter((d) => expired(d, t.now));
    if (due.length === 0) continue;
    const p = peer(t, name)!;
    for (const d of due) if (d.name === 'link-dead') linkDown(t, p, d.subject);
    if (due.some((d) => d.name === 'dead')) {
      markDead(t, p, 'timeout');
    } else if (due.some((d) => d.name === 'late')) {
      p.lateWarned = true;
      const silent = t.now - silentSince(s, p.lastHeard);
      t.effects.push({ kind: 'log', level: 'warn', text: `node ${p.name}: is late: no heartbeat for ${Math.round(silent)} ms (warntime ${s.timers.warntimeMs} ms).` });
      t.effects.push({ kind: 'late-heartbeat', node: p.name, silentMs: silent, arrived: false });
    }
  }
}

function beat(t: Turn): void {
  const s = t.state;
  t.effects.push({ kind: 'send-heartbeat', status: s.myStatus });
  s.lastSentAt = t.now;
  if (s.myStatus === 'init') s.myStatus = 'up';
  // Schedule from the planned time, not `now`, so a late tick doesn't drift the rhythm;
  // but never try to catch up a backlog of missed beats after a long stall.
  const planned = s.nextHeartbeatAt + s.timers.keepaliveMs;
  s.nextHeartbeatAt = planned > t.now ? planned : t.now + s.timers.keepaliveMs;
}

function settle(t: Turn): void {
  const s = t.state;
  if (!s.settled && Object.values(s.peers).every((p) => p.status !== 'init')) {
    s.settled = true;
    t.effects.push({ kind: 'settled' });
  }
  if (s.settled && s.myStatus !== 'active' && !s.leaving) {
    s.myStatus = 'active';
    // Say so at once rather than a keepalive later: peers wait for it to decide ownership.
    t.effects.push({ kind: 'send-heartbeat', status: 'active' });
    s.lastSentAt = t.now;
    s.nextHeartbeatAt = t.now + s.timers.keepaliveMs;
  }
}

/** The peer's record, copied into this step's state before it is written. */
function peer(t: Turn, name: string): PeerState | null {
  const p = t.state.peers[name];
  if (!p) return null;
  const copy = { ...p, links: { ...p.links } };
  t.state.peers[name] = copy;
  return copy;
}

function setStatus(t: Turn, p: PeerState, to: NodeStatus, reason?: DeadReason | 'restart'): void {
  if (p.status === to) return;
  t.effects.push({ kind: 'node-status', node: p.name, from: p.status, to, ...(reason ? { reason } : {}) });
  p.status = to;
  p.since = t.now;
}

function linkDown(t: Turn, p: PeerState, link: string): void {
  p.links[link] = { ...p.links[link]!, up: false };
  t.effects.push({ kind: 'link-status', node: p.name, link, up: false });
  t.effects.push({ kind: 'log', level: 'info', text: `Link ${p.name}:${link} dead.` });
}

function markDead(t: Turn, p: PeerState, reason: DeadReason): void {
  for (const [link, l] of Object.entries(p.links)) if (l.up) linkDown(t, p, link);
  p.deadReason = reason;
  t.effects.push({ kind: 'log', level: 'warn', text: `node ${p.name}: is dead` });
  setStatus(t, p, 'dead', reason);
}

/** The earliest time at which `tick` can change something; the shell sleeps until then. */
export function nextWake(state: MembershipState, now: number): number {
  return nextWakeOf(deadlines(state), now);
}

/** What ownership needs of membership, passed in with each of its steps. */
export interface MembershipView {
  /** Peers that count as alive: heard and not dead (not ourselves), in ha.cf order. */
  live: string[];
  /** Every peer heard or declared dead: only then can ownership be decided. */
  settled: boolean;
  /** For each active peer, since when (failback stability); none for a peer still joining (`up`). */
  since: Record<string, number>;
}

export function viewOf(state: MembershipState): MembershipView {
  const live: string[] = [];
  const since: Record<string, number> = {};
  for (const p of Object.values(state.peers)) {
    if (p.status !== 'up' && p.status !== 'active') continue;
    live.push(p.name);
    if (p.status === 'active') since[p.name] = p.since;
  }
  return { live, settled: state.settled, since };
}

/** The view with what `before` knew of `nodes` (lost since, their losses not yet handled). */
export function viewWith(state: MembershipState, nodes: readonly string[], before: MembershipState): MembershipView {
  const peers = { ...state.peers };
  for (const n of nodes) if (before.peers[n]) peers[n] = before.peers[n]!;
  return viewOf({ ...state, peers });
}

export function viewWithout(view: MembershipView, node: string): MembershipView {
  return { ...view, live: view.live.filter((n) => n !== node) };
}
