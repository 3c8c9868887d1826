// One cluster node's whole decision logic: membership and ownership stepped together.
// Pure, like its parts: `step(state, event, now)` -> new state and effects as data.
import type { AutoFailback } from '../config/types.js';
import * as M from './membership.js';
import * as O from './ownership.js';

export type { Scope, GroupDef, PeerAdvert, GroupPhase } from './ownership.js';
export type { NodeStatus, AdvertisedStatus, LogLevel } from './membership.js';

/** What a status heartbeat carries, beyond Heartbeat's own fields. */
export interface StatusPayload {
  st: M.AdvertisedStatus;
  advert: O.PeerAdvert;
  digest: string;
}

export type NodeEvent =
  | { kind: 'tick' }
  | { kind: 'status'; from: string; link: string; generation: number; fresh: boolean; st: M.AdvertisedStatus; advert: O.PeerAdvert | null; digest: string | null }
  /** `crashed`: its address guard's last words (hbd died; its addresses are removed). */
  | { kind: 'peer-left'; from: string; generation: number; crashed?: boolean }
  | { kind: 'agent-done'; group: number; resource: number; action: 'status' | 'start' | 'stop'; ok: boolean; running?: boolean }
  | { kind: 'standby'; scope: O.Scope }
  | { kind: 'takeover'; scope: O.Scope }
  | { kind: 'shutdown' };

export type NodeEffect =
  | { kind: 'send-status'; payload: StatusPayload }
  | { kind: 'send-leave' }
  | { kind: 'log'; level: M.LogLevel; text: string }
  | { kind: 'agent'; group: number; resource: number; action: 'status' | 'start' | 'stop' }
  | Extract<M.MembershipEffect, { kind: 'node-status' | 'link-status' | 'node-restarted' | 'settled' | 'late-heartbeat' }>
  | Extract<O.OwnershipEffect, { kind: 'group-phase' | 'transition' | 'reassert' }>
  | { kind: 'drift'; node: string; digest: string | null }
  /** Shutdown finished: groups stopped, goodbye sent. The daemon exits. */
  | { kind: 'exit' };

export interface NodeState {
  membership: M.MembershipState;
  ownership: O.OwnershipState;
  digest: string;
  /** Each peer's last advertised config digest, for drift detection. */
  peerDigests: Record<string, string | null>;
  shuttingDown: boolean;
  exited: boolean;
}

export interface NodeOptions {
  me: string;
  nodes: string[];
  linkNames: string[];
  timers: M.Timers;
  groups: O.GroupDef[];
  autoFailback: AutoFailback;
  digest: string;
  tuning?: Partial<O.OwnershipTuning>;
  /** Our heartbeat generation (hg, grows on every restart); quorum clusters need it. */
  generation?: number;
}

export function initNode(opts: NodeOptions, now: number): NodeState {
  const membership = M.initMembership(opts.me, opts.nodes, opts.linkNames, opts.timers, now);
  const ownership = O.initOwnership(opts.me, opts.nodes, opts.groups, opts.autoFailback, opts.tuning, { now, generation: opts.generation ?? 0, deadtimeMs: opts.timers.deadtimeMs, keepaliveMs: opts.timers.keepaliveMs });
  return {
    membership,
    // A node alone in ha.cf is settled from the start: no 'settled' event will ever tell ownership.
    ownership: { ...ownership, settled: membership.settled },
    digest: opts.digest,
    peerDigests: {},
    shuttingDown: false,
    exited: false,
  };
}

export interface NodeStepResult {
  state: NodeState;
  effects: NodeEffect[];
}

export function step(prev: NodeState, event: NodeEvent, now: number): NodeStepResult {
  let state: NodeState = { ...prev, peerDigests: { ...prev.peerDigests } };
  const effects: NodeEffect[] = [];
  if (state.exited) return { state, effects };
  let sendNow = false;

  const runMembership = (ev: M.MembershipEvent) => {
    const r = M.step(state.membership, ev, now);
    state.membership = r.state;
    let membershipChanged = false;
    for (const e of r.effects) {
      switch (e.kind) {
        case 'send-heartbeat':
          sendNow = true;
          break;
        case 'send-leave':
          effects.push({ kind: 'send-leave' });
          break;
        case 'log':
          effects.push(e);
          break;
        case 'node-status':
          effects.push(e);
          membershipChanged = true;
          // A crashed hbd stopped nothing: for its groups that is the same as a silence.
          if (e.to === 'dead') runOwnership({ kind: 'node-lost', node: e.node, reason: e.reason === 'shutdown' ? 'shutdown' : 'timeout' });
          break;
        case 'node-restarted':
          effects.push(e);
          runOwnership({ kind: 'node-lost', node: e.node, reason: 'restart' });
          // Its new run is alive: ownership must see it again at once (node-lost dropped it).
          membershipChanged = true;
          break;
        case 'link-status':
        case 'late-heartbeat':
          effects.push(e);
          break;
        case 'settled':
          effects.push(e);
          membershipChanged = true;
          break;
        case 'stalled':
          runOwnership({ kind: 'stalled', silentMs: e.silentMs });
          break;
      }
    }
    if (membershipChanged) {
      const live = M.liveNodes(state.membership);
      const since: Record<string, number> = {};
      for (const n of live) {
        const p = state.membership.peers[n];
        if (p) since[n] = p.since;
      }
      runOwnership({ kind: 'membership', live, settled: state.membership.settled, since });
    }
  };

  const runOwnership = (ev: O.OwnershipEvent) => {
    const r = O.step(state.ownership, ev, now);
    state.ownership = r.state;
    for (const e of r.effects) {
      switch (e.kind) {
        case 'advertise':
          sendNow = true;
          break;
        case 'left':
          if (state.shuttingDown && !state.membership.leaving) {
            runMembership({ kind: 'leave' });
            effects.push({ kind: 'exit' });
            state.exited = true;
          }
          break;
        default:
          effects.push(e);
      }
    }
  };

  switch (event.kind) {
    case 'tick':
      runMembership({ kind: 'tick' });
      runOwnership({ kind: 'tick' });
      break;
    case 'status': {
      runMembership({ kind: 'heard', node: event.from, link: event.link, generation: event.generation, status: event.st, fresh: event.fresh });
      const alive = state.membership.peers[event.from];
      if (event.fresh && alive && alive.status !== 'dead' && alive.status !== 'init') {
        if (event.advert) runOwnership({ kind: 'advert', node: event.from, advert: event.advert });
        const known = state.peerDigests[event.from];
        if (known !== event.digest) {
          state.peerDigests[event.from] = event.digest;
          if (event.digest !== state.digest) effects.push({ kind: 'drift', node: event.from, digest: event.digest });
        }
      }
      break;
    }
    case 'peer-left':
      runMembership({ kind: 'peer-left', node: event.from, generation: event.generation, ...(event.crashed ? { crashed: true } : {}) });
      break;
    case 'agent-done':
    case 'standby':
    case 'takeover':
      runOwnership(event);
      break;
    case 'shutdown':
      if (state.shuttingDown) break;
      state = { ...state, shuttingDown: true };
      runOwnership({ kind: 'leave' });
      break;
  }

  if (sendNow && !state.membership.leaving) {
    effects.unshift({
      kind: 'send-status',
      payload: { st: state.membership.myStatus, advert: O.advertOf(state.ownership, now), digest: state.digest },
    });
  }
  return { state, effects };
}

export function nextWake(state: NodeState, now: number): number {
  if (state.exited) return Infinity;
  return Math.min(M.nextWake(state.membership, now), O.nextWake(state.ownership, now));
}
