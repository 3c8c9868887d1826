// Membership: who is alive, over which links, decided from heartbeats and a time value.
// Pure: no I/O, no clock. The daemon calls `step(state, event, now)` and carries out the
// effects; `nextWake(state)` says when the next timer-driven change can happen.
//
// Node status words are Heartbeat's (cl_status nodestatus): `init` (not heard yet since we
// started), `up` (heard, still starting), `active` (running normally), `dead`.

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

export type MembershipEffect =
  | { kind: 'send-heartbeat'; status: AdvertisedStatus }
  | { kind: 'send-leave' }
  | { kind: 'log'; level: LogLevel; text: string }
  | { kind: 'node-status'; node: string; from: NodeStatus; to: NodeStatus; reason?: DeadReason | 'restart' }
  | { kind: 'link-status'; node: string; link: string; up: boolean }
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

/** The silence after which a peer is dead: initdead for one never heard since we started. */
function deadAfter(state: MembershipState, peer: PeerState): number {
  return peer.lastHeard === null ? state.timers.initdeadMs : state.timers.deadtimeMs;
}

export function step(prev: MembershipState, event: MembershipEvent, now: number): StepResult {
  // Copy-on-write of the parts we touch keeps `prev` valid for the simulator's traces.
  const state: MembershipState = { ...prev, peers: { ...prev.peers } };
  const effects: MembershipEffect[] = [];
  const peer = (name: string): PeerState | null => {
    const p = state.peers[name];
    if (!p) return null;
    const copy = { ...p, links: { ...p.links } };
    state.peers[name] = copy;
    return copy;
  };
  const setStatus = (p: PeerState, to: NodeStatus, reason?: DeadReason | 'restart') => {
    if (p.status === to) return;
    effects.push({ kind: 'node-status', node: p.name, from: p.status, to, ...(reason ? { reason } : {}) });
    p.status = to;
    p.since = now;
  };

  // A stall: no step for much longer than a keepalive. The peers' silence during it is not
  // theirs to answer for; and if it lasted a deadtime, they have declared us dead.
  const gap = now - prev.lastStepAt;
  state.lastStepAt = now;
  if (!state.leaving && gap > stallAfter(state.timers)) {
    state.resumedAt = now;
    const silentMs = now - (state.lastSentAt ?? state.startedAt);
    effects.push({ kind: 'log', level: 'warn', text: `hbd was not scheduled for ${Math.round(gap)} ms (a frozen VM or an overloaded host?): no heartbeat went out for ${Math.round(silentMs)} ms (deadtime ${state.timers.deadtimeMs} ms).` });
    effects.push({ kind: 'stalled', ms: gap, silentMs });
  }

  switch (event.kind) {
    case 'heard': {
      if (state.leaving) break;
      const p = peer(event.node);
      if (!p) break; // the shell drops packets from unknown nodes before they get here
      if (p.leftGeneration !== null && event.generation <= p.leftGeneration) break;
      const link = p.links[event.link] ?? { up: false, lastHeard: null };
      p.links[event.link] = { up: true, lastHeard: now };
      if (!link.up) {
        effects.push({ kind: 'link-status', node: p.name, link: event.link, up: true });
        effects.push({ kind: 'log', level: 'info', text: `Link ${p.name}:${event.link} up.` });
      }
      if (!event.fresh) break;
      if (p.generation !== null && event.generation > p.generation && p.status !== 'dead' && p.status !== 'init') {
        // It restarted faster than deadtime: whatever it held is gone, as if it had died.
        effects.push({ kind: 'log', level: 'warn', text: `node ${p.name}: restarted (generation ${p.generation} -> ${event.generation}).` });
        effects.push({ kind: 'node-restarted', node: p.name, generation: event.generation });
        p.since = now; // this run of it has been up since now (failback waits for a stable node)
      }
      if (p.lastHeard !== null && p.status !== 'dead') {
        const gap = now - p.lastHeard;
        if (gap > state.timers.warntimeMs) {
          effects.push({ kind: 'log', level: 'warn', text: `Late heartbeat: Node ${p.name}: interval ${Math.round(gap)} ms (warntime ${state.timers.warntimeMs} ms).` });
        }
      }
      const wasDead = p.status === 'dead' || p.status === 'init';
      p.lastHeard = now;
      p.generation = Math.max(p.generation ?? 0, event.generation);
      p.lateWarned = false;
      p.deadReason = null;
      const to: NodeStatus = event.status === 'active' ? 'active' : 'up';
      if (p.status !== to) {
        if (wasDead) effects.push({ kind: 'log', level: 'info', text: `node ${p.name}: is up` });
        effects.push({ kind: 'log', level: 'info', text: `Status update for node ${p.name}: status ${to}` });
        setStatus(p, to);
      }
      break;
    }
    case 'peer-left': {
      const p = peer(event.node);
      if (!p) break;
      p.leftGeneration = Math.max(p.leftGeneration ?? 0, event.generation);
      if (p.status === 'dead') break;
      if (event.crashed) {
        effects.push({ kind: 'log', level: 'warn', text: `hbd on ${p.name} died: its address guard removed its addresses and said so.` });
        markDead(p, 'crash');
      } else {
        effects.push({ kind: 'log', level: 'info', text: `Received shutdown notice from '${p.name}'.` });
        markDead(p, 'shutdown');
      }
      break;
    }
    case 'leave': {
      if (state.leaving) break;
      state.leaving = true;
      effects.push({ kind: 'send-leave' });
      break;
    }
    case 'tick':
      break;
  }

  // Timers: our own heartbeat, late warnings, dead links, dead nodes.
  if (!state.leaving && now >= state.nextHeartbeatAt) {
    effects.push({ kind: 'send-heartbeat', status: state.myStatus });
    state.lastSentAt = now;
    if (state.myStatus === 'init') state.myStatus = 'up';
    // Schedule from the planned time, not `now`, so a late tick doesn't drift the rhythm;
    // but never try to catch up a backlog of missed beats after a long stall.
    const planned = state.nextHeartbeatAt + state.timers.keepaliveMs;
    state.nextHeartbeatAt = planned > now ? planned : now + state.timers.keepaliveMs;
  }
  for (const name of Object.keys(state.peers)) {
    const p0 = state.peers[name]!;
    if (p0.status === 'dead') continue;
    const since = silentSince(state, p0.lastHeard);
    const silent = now - since;
    const anyLinkExpired = Object.values(p0.links).some((l) => l.up && l.lastHeard !== null && now - silentSince(state, l.lastHeard) > state.timers.deadtimeMs);
    const late = p0.lastHeard !== null && !p0.lateWarned && silent > state.timers.warntimeMs;
    const dead = silent > deadAfter(state, p0);
    if (!anyLinkExpired && !late && !dead) continue;
    const p = peer(name)!;
    for (const [linkName, l] of Object.entries(p.links)) {
      if (l.up && l.lastHeard !== null && now - silentSince(state, l.lastHeard) > state.timers.deadtimeMs) {
        p.links[linkName] = { ...l, up: false };
        effects.push({ kind: 'link-status', node: p.name, link: linkName, up: false });
        effects.push({ kind: 'log', level: 'info', text: `Link ${p.name}:${linkName} dead.` });
      }
    }
    if (dead) {
      markDead(p, 'timeout');
    } else if (late) {
      p.lateWarned = true;
      effects.push({ kind: 'log', level: 'warn', text: `node ${p.name}: is late: no heartbeat for ${Math.round(silent)} ms (warntime ${state.timers.warntimeMs} ms).` });
    }
  }

  if (!state.settled && Object.values(state.peers).every((p) => p.status !== 'init')) {
    state.settled = true;
    effects.push({ kind: 'settled' });
  }
  if (state.settled && state.myStatus !== 'active' && !state.leaving) {
    state.myStatus = 'active';
    // Say so at once rather than a keepalive later: peers wait for it to decide ownership.
    state.nextHeartbeatAt = now;
    effects.push({ kind: 'send-heartbeat', status: 'active' });
    state.lastSentAt = now;
    state.nextHeartbeatAt = now + state.timers.keepaliveMs;
  }
  return { state, effects };

  function markDead(p: PeerState, reason: DeadReason): void {
    for (const [linkName, l] of Object.entries(p.links)) {
      if (l.up) {
        p.links[linkName] = { ...l, up: false };
        effects.push({ kind: 'link-status', node: p.name, link: linkName, up: false });
        effects.push({ kind: 'log', level: 'info', text: `Link ${p.name}:${linkName} dead.` });
      }
    }
    p.deadReason = reason;
    effects.push({ kind: 'log', level: 'warn', text: `node ${p.name}: is dead` });
    setStatus(p, 'dead', reason);
  }
}

/** The earliest time at which `tick` can change something; the shell sleeps until then. */
export function nextWake(state: MembershipState): number {
  let wake = state.leaving ? Infinity : state.nextHeartbeatAt;
  for (const p of Object.values(state.peers)) {
    if (p.status === 'dead') continue;
    const since = silentSince(state, p.lastHeard);
    wake = Math.min(wake, since + deadAfter(state, p) + 1);
    if (p.lastHeard !== null && !p.lateWarned) wake = Math.min(wake, since + state.timers.warntimeMs + 1);
    for (const l of Object.values(p.links)) {
      if (l.up && l.lastHeard !== null) wake = Math.min(wake, silentSince(state, l.lastHeard) + state.timers.deadtimeMs + 1);
    }
  }
  return wake;
}

/** Nodes that count as alive for ownership: heard and not dead (includes ourselves). */
export function liveNodes(state: MembershipState): string[] {
  return [state.me, ...Object.values(state.peers).filter((p) => p.status === 'up' || p.status === 'active').map((p) => p.name)];
}
