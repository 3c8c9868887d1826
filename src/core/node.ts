// One cluster node's whole decision logic: membership and ownership stepped together.
// Pure, like its parts: `step(state, event, now)` -> new state and effects as data.
import type { AutoFailback } from '../config/types.js';
import * as M from './membership.js';
import * as O from './ownership.js';
import * as Pg from './ping.js';
import type { ArbiterNews, ArbiterTuning } from './arbiter.js';
import { nextWakeOf } from './timeout.js';
import type { AgentAction } from './sequencer.js';
import { reconfigureMembership, reconfigureOwnership, reloadRefusals, timerChanges } from './reload.js';
import * as H from './heartbeat-peer.js';

export type { Scope, GroupDef, PeerAdvert, GroupPhase } from './ownership.js';
export type { AgentAction } from './sequencer.js';
export type { MonitorDef } from './group.js';
export type { NodeStatus, AdvertisedStatus, LogLevel, LogTag } from './membership.js';

/** What a status heartbeat carries, beyond Heartbeat's own fields. */
export interface StatusPayload {
  st: M.AdvertisedStatus;
  advert: O.PeerAdvert;
  digest: string;
}

export type NodeEvent =
  | { kind: 'tick' }
  /** `heartbeatPeer`: the sender speaks Heartbeat's protocol alone (a real Heartbeat: core/heartbeat-peer.ts). */
  | { kind: 'status'; from: string; link: string; generation: number; fresh: boolean; st: M.AdvertisedStatus; advert: O.PeerAdvert | null; digest: string | null; heartbeatPeer?: boolean }
  /** A resource negotiation message of a Heartbeat peer (starting, resource, ask_resources, hb_takeover). */
  | { kind: 'hb-peer'; from: string; generation: number; event: H.HbPeerEvent }
  /** `crashed`: its address guard's last words (hbd died; its addresses are removed). */
  | { kind: 'peer-left'; from: string; generation: number; crashed?: boolean }
  | { kind: 'agent-done'; group: number; resource: number; action: AgentAction; ok: boolean; running?: boolean }
  | { kind: 'standby'; scope: O.Scope }
  | { kind: 'takeover'; scope: O.Scope }
  /** `hbctl clear`: these groups (by id) are no longer kept out here (resource monitoring). */
  | { kind: 'clear'; groups: string[] }
  | { kind: 'shutdown' }
  /** The fence of `node` (a fence-node effect) answered; ok only on the device's success. */
  | { kind: 'fence-done'; node: string; ok: boolean }
  /** An ICMP echo reply from ping node (or ping group) `node` (core/ping.ts). */
  | { kind: 'ping-reply'; node: string }
  /** A reload (SIGHUP): the new configuration, applied whole or refused whole (core/reload.ts). */
  | { kind: 'reconfigure'; options: NodeOptions }
  /** What the etcd arbiter's shell saw: our lease renewed or lost, a key won or lost, the nodes in etcd. */
  | { kind: 'arbiter'; news: ArbiterNews };

export type NodeEffect =
  | { kind: 'send-status'; payload: StatusPayload }
  | { kind: 'send-leave' }
  | { kind: 'log'; level: M.LogLevel; text: string; tag?: M.LogTag }
  /** `monitor`: a status call that checks a running resource (OCF's monitor). */
  | { kind: 'agent'; group: number; resource: number; action: AgentAction }
  | Extract<M.MembershipEffect, { kind: 'node-status' | 'link-status' | 'node-restarted' | 'settled' | 'late-heartbeat' }>
  | Extract<O.OwnershipEffect, { kind: 'group-phase' | 'transition' | 'reassert' | 'resource' | 'fence' | 'monitor' | 'fence-node' | 'arbiter-campaign' | 'arbiter-resign' }>
  | { kind: 'drift'; node: string; digest: string | null }
  | Extract<Pg.PingEffect, { kind: 'ping-status' }>
  /** A message for a Heartbeat peer (core/heartbeat-peer.ts). */
  | H.HbSend
  /** Shutdown finished: groups stopped, goodbye sent. The daemon exits. */
  | { kind: 'exit' };

export interface NodeState {
  membership: M.MembershipState;
  ownership: O.OwnershipState;
  ping: Pg.PingState;
  digest: string;
  /** Each peer's last advertised config digest, for drift detection. */
  peerDigests: Record<string, string | null>;
  /** Peers that speak Heartbeat's protocol alone, and where their resource negotiation stands. */
  hbPeers: Record<string, H.HbPeer>;
  shuttingDown: boolean;
  exited: boolean;
}

export interface NodeOptions {
  me: string;
  /** The nodes of ha.cf, and the witness (last) when there is one. */
  nodes: string[];
  /** Witnesses among `nodes` (`witness` in ha.cf): they vote for a quorum and never run a group. */
  witnesses?: string[];
  linkNames: string[];
  timers: M.Timers;
  groups: O.GroupDef[];
  autoFailback: AutoFailback;
  digest: string;
  tuning?: Partial<O.OwnershipTuning>;
  /** Our heartbeat generation (hg, grows on every restart); quorum clusters need it. */
  generation?: number;
  /** A fence device is configured (stonith_host, fence_agent): nodes lost uncleanly are fenced before a takeover. */
  fencing?: { retryMs: number };
  /** Ping nodes and ping groups by name (ha.cf `ping`, `ping_group`), their `deadping`, and ipfail. */
  ping?: { nodes: string[]; deadpingMs: number; ipfail: boolean };
  /** ha.cf `arbiter etcd`: etcd keys decide who runs each group (core/arbiter.ts). */
  arbiter?: ArbiterTuning;
}

export function initNode(opts: NodeOptions, now: number): NodeState {
  return {
    membership: M.initMembership(opts.me, opts.nodes, opts.linkNames, opts.timers, now),
    ownership: O.initOwnership(opts.me, opts.nodes, opts.groups, opts.autoFailback, opts.tuning, { now, generation: opts.generation ?? 0, deadtimeMs: opts.timers.deadtimeMs, keepaliveMs: opts.timers.keepaliveMs, witnesses: opts.witnesses ?? [], ipfail: opts.ping?.ipfail ?? false, ...(opts.fencing ? { fencing: opts.fencing } : {}), ...(opts.arbiter ? { arbiter: opts.arbiter } : {}) }),
    ping: Pg.initPing(opts.ping?.nodes ?? [], opts.ping?.deadpingMs ?? opts.timers.deadtimeMs, opts.ping?.ipfail ?? false, now),
    digest: opts.digest,
    peerDigests: {},
    hbPeers: {},
    shuttingDown: false,
    exited: false,
  };
}

export interface NodeStepResult {
  state: NodeState;
  effects: NodeEffect[];
}

/** One step in progress: this step's copy of the state, and what it says. */
interface Turn {
  state: NodeState;
  effects: NodeEffect[];
  now: number;
  /** Our heartbeat is due, or what it says changed: send it at the end of the step. */
  sendNow: boolean;
  /** Membership's view as of the last membership step, computed once for ownership. */
  view: M.MembershipView | null;
}

export function step(prev: NodeState, event: NodeEvent, now: number): NodeStepResult {
  const t: Turn = { state: { ...prev, peerDigests: { ...prev.peerDigests }, hbPeers: { ...prev.hbPeers } }, effects: [], now, sendNow: false, view: null };
  if (t.state.exited) return { state: t.state, effects: t.effects };
  switch (event.kind) {
    case 'tick':
      membershipStep(t, { kind: 'tick' });
      pingStep(t, { kind: 'tick' });
      ownershipStep(t, { kind: 'tick' });
      break;
    case 'ping-reply':
      pingStep(t, { kind: 'reply', node: event.node });
      break;
    case 'status':
      onStatus(t, event);
      break;
    case 'peer-left':
      membershipStep(t, { kind: 'peer-left', node: event.from, generation: event.generation, ...(event.crashed ? { crashed: true } : {}) });
      break;
    case 'agent-done':
    case 'fence-done':
    case 'clear':
    case 'arbiter':
      ownershipStep(t, event);
      break;
    case 'standby':
    case 'takeover':
      // As Heartbeat's hb_standby: no new move while one with a Heartbeat peer is under way
      // (one only asked for, not accepted yet, may still be called off).
      if (Object.values(t.state.hbPeers).some(H.moving)) {
        t.effects.push({ kind: 'log', level: 'warn', text: `Standby in progress: ${event.kind === 'standby' ? 'hb_standby' : 'hb_takeover'} ignored; issue it again once the move is over.` });
        break;
      }
      ownershipStep(t, event);
      if (event.kind === 'standby') break;
      // A Heartbeat peer is asked as its hb_takeover asks: it runs hb_standby for the other half.
      if (Object.keys(t.state.hbPeers).length > 0) t.effects.push(H.takeoverRequest(event.scope));
      break;
    case 'hb-peer':
      onHbPeer(t, event);
      break;
    case 'shutdown':
      if (t.state.shuttingDown) break;
      t.state.shuttingDown = true;
      ownershipStep(t, { kind: 'leave' });
      break;
    case 'reconfigure':
      reconfigure(t, event.options);
      break;
  }
  if (Object.keys(t.state.hbPeers).length > 0) hbAfterStep(t);
  const { state, effects } = t;
  if (t.sendNow && !state.membership.leaving) {
    effects.unshift({ kind: 'send-status', payload: { st: state.membership.myStatus, advert: O.advertOf(state.ownership, now), digest: state.digest } });
  }
  return { state, effects };
}

function onStatus(t: Turn, event: Extract<NodeEvent, { kind: 'status' }>): void {
  membershipStep(t, { kind: 'heard', node: event.from, link: event.link, generation: event.generation, status: event.st, fresh: event.fresh });
  const alive = t.state.membership.peers[event.from];
  if (!event.fresh || !alive || alive.status === 'dead' || alive.status === 'init') return;
  if (event.heartbeatPeer) {
    const known = t.state.hbPeers[event.from];
    if (!known || known.gen !== event.generation) t.state.hbPeers[event.from] = H.newPeer(event.generation);
    // Its heartbeat renews what we know of it, as an advert would (failback waits for a peer heard for a while).
    const advert = H.advertOfPeer(t.state.hbPeers[event.from]!, event.from, t.state.ownership.groups, t.state.membership.timers.deadtimeMs, t.now);
    if (advert) ownershipStep(t, { kind: 'advert', node: event.from, advert });
  }
  if (event.advert) ownershipStep(t, { kind: 'advert', node: event.from, advert: event.advert });
  // A peer that sends no digest (a real Heartbeat) cannot drift from us in what it never says.
  if (event.digest === null || t.state.peerDigests[event.from] === event.digest) return;
  t.state.peerDigests[event.from] = event.digest;
  if (event.digest !== t.state.digest) t.effects.push({ kind: 'drift', node: event.from, digest: event.digest });
}

/** A Heartbeat peer's negotiation message: its state, our answer, and its advert for ownership. */
function onHbPeer(t: Turn, event: Extract<NodeEvent, { kind: 'hb-peer' }>): void {
  const p = t.state.hbPeers[event.from];
  const alive = t.state.membership.peers[event.from];
  if (!p || p.gen !== event.generation || !alive || alive.status === 'dead' || alive.status === 'init') return;
  const r = H.onPeerEvent(p, event.event, t.state.ownership.groups, event.from);
  t.state.hbPeers[event.from] = r.peer;
  t.effects.push(...r.sends);
  const ev = event.event;
  if (r.ignored) t.effects.push({ kind: 'log', level: 'warn', text: `Standby in progress: new request from ${event.from} ignored.` });
  // It gives us what it stands by for: we stand by for none of it any more (hb_standby is one move, not a mode, in Heartbeat).
  if (ev.kind === 'ask' && ev.info === 'me' && ev.hold !== 'none' && !r.ignored) ownershipStep(t, { kind: 'takeover', scope: H.mirror(ev.hold) as 'all' | 'local' | 'foreign', from: event.from });
  if (ev.kind === 'hb-takeover' && ev.hold !== 'none' && !r.ignored) {
    t.effects.push({ kind: 'log', level: 'info', text: `${event.from} asked to take over (hb_takeover ${ev.hold}).` });
    ownershipStep(t, { kind: 'standby', scope: H.mirror(ev.hold) as 'all' | 'local' | 'foreign' });
  }
  const advert = H.advertOfPeer(r.peer, event.from, t.state.ownership.groups, t.state.membership.timers.deadtimeMs, t.now);
  if (advert) ownershipStep(t, { kind: 'advert', node: event.from, advert });
}

/** After a step: what each Heartbeat peer must hear of it (core/heartbeat-peer.ts). */
function hbAfterStep(t: Turn): void {
  const s = t.state;
  const view = M.viewOf(s.membership);
  for (const [node, p] of Object.entries(s.hbPeers)) {
    const status = s.membership.peers[node]?.status;
    if (status === 'dead') {
      delete s.hbPeers[node];
      continue;
    }
    const r = H.afterStep(p, node, {
      me: s.ownership.me,
      groups: s.ownership.groups,
      phase: (g) => s.ownership.local[g]?.run.phase ?? 'stopped',
      desired: (g) => O.desiredOwner(s.ownership, view, g, t.now),
      leaving: s.ownership.leaving,
      peerActive: status === 'active',
      now: t.now,
    });
    s.hbPeers[node] = r.peer;
    t.effects.push(...r.sends);
  }
}

function membershipStep(t: Turn, ev: M.MembershipEvent): void {
  const before = t.state.membership;
  const r = M.step(t.state.membership, ev, t.now);
  t.state.membership = r.state;
  // Ownership handles each loss in a step of its own. Nodes lost in the same instant as another
  // stay in the view until their own step, so what ownership knew of them (their adverts, the
  // groups they held, the loss that counts for failback's hold-down) reaches that step.
  const lostLater = r.effects.flatMap((e) => (isLoss(e) ? [e.node] : []));
  let viewChanged = false;
  for (const e of r.effects) {
    if (isLoss(e)) lostLater.shift();
    t.view = lostLater.length > 0 ? M.viewWith(t.state.membership, lostLater, before) : null;
    viewChanged = onMembershipEffect(t, e) || viewChanged;
  }
  t.view = null;
  if (viewChanged) ownershipStep(t, { kind: 'membership' });
}

/** A peer's run ends: ownership's node-lost. */
function isLoss(e: M.MembershipEffect): e is Extract<M.MembershipEffect, { node: string }> {
  return (e.kind === 'node-status' && e.to === 'dead') || e.kind === 'node-restarted';
}

/** Passes one effect of membership on; true when it changed the view ownership decides from. */
function onMembershipEffect(t: Turn, e: M.MembershipEffect): boolean {
  switch (e.kind) {
    case 'send-heartbeat':
      t.sendNow = true;
      return false;
    case 'send-leave':
      t.effects.push({ kind: 'send-leave' });
      return false;
    case 'stalled':
      ownershipStep(t, { kind: 'stalled', silentMs: e.silentMs });
      return false;
    case 'node-status':
      t.effects.push(e);
      // A crashed hbd stopped nothing: for its groups that is the same as a silence.
      if (e.to === 'dead') ownershipStep(t, { kind: 'node-lost', node: e.node, reason: e.reason === 'shutdown' ? 'shutdown' : 'timeout' });
      return true;
    case 'node-restarted':
      t.effects.push(e);
      // Its new run is alive, but what its old run held is gone.
      ownershipStep(t, { kind: 'node-lost', node: e.node, reason: 'restart' });
      return true;
    case 'settled':
      t.effects.push(e);
      return true;
    default:
      t.effects.push(e);
      return false;
  }
}

function ownershipStep(t: Turn, ev: O.OwnershipEvent): void {
  t.view ??= M.viewOf(t.state.membership);
  const r = O.step(t.state.ownership, ev, t.view, t.now);
  t.state.ownership = r.state;
  for (const e of r.effects) {
    if (e.kind === 'advertise') t.sendNow = true;
    else if (e.kind === 'left') onLeft(t);
    else t.effects.push(e);
  }
}

/** Ping nodes: their status and our count of those we reach, which ownership advertises. */
function pingStep(t: Turn, ev: Pg.PingEvent): void {
  const r = Pg.stepPing(t.state.ping, ev, t.now);
  t.state.ping = r.state;
  t.effects.push(...r.effects);
  const count = Pg.reachable(r.state, t.now);
  if (count !== null && count !== t.state.ownership.pings) ownershipStep(t, { kind: 'pings', count });
}

/** Why a reload with these options would be refused (empty: it would be applied). */
export function refusals(state: NodeState, options: NodeOptions): string[] {
  return reloadRefusals(state, options);
}

/**
 * A reload: the new timers, links, groups and policy from this step on, or, when any part
 * cannot be applied, none of it. Then a step as on a tick: a peer now past the new deadtime is
 * dead, a removed group's stop and an added group's start begin, our heartbeat says so.
 */
function reconfigure(t: Turn, next: NodeOptions): void {
  const refused = reloadRefusals(t.state, next);
  for (const why of refused) t.effects.push({ kind: 'log', level: 'error', text: `reload refused: ${why}.` });
  if (refused.length > 0) return;
  const s = t.state;
  for (const text of timerChanges(s.membership.timers, next.timers)) t.effects.push({ kind: 'log', level: 'info', text });
  s.membership = reconfigureMembership(s.membership, next, s.ownership.config.quorum, t.now);
  t.view = null;
  const r = reconfigureOwnership(s.ownership, next, M.viewOf(s.membership), t.now);
  s.ownership = r.state;
  t.effects.push(...r.effects);
  // Drift is judged against our new digest: each peer's next heartbeat says whether it differs.
  s.digest = next.digest;
  s.peerDigests = {};
  t.sendNow = true;
  membershipStep(t, { kind: 'tick' });
  ownershipStep(t, { kind: 'tick' });
}

/** Every group is stopped after our shutdown: say goodbye, and exit. */
function onLeft(t: Turn): void {
  if (!t.state.shuttingDown || t.state.membership.leaving) return;
  membershipStep(t, { kind: 'leave' });
  t.effects.push({ kind: 'exit' });
  t.state.exited = true;
}

export function nextWake(state: NodeState, now: number): number {
  if (state.exited) return Infinity;
  return Math.min(M.nextWake(state.membership, now), O.nextWake(state.ownership, M.viewOf(state.membership), now), nextWakeOf(Pg.pingDeadlines(state.ping), now));
}
