// Ownership: which node runs each resource group, and the start and stop of its resources on
// this node. Pure: stepped by events, membership's view and a time value; returns effects.
//
// The coordinator of three concerns, each in its own module: policy.ts (who should own a
// group), sequencer.ts (one group's run here: starting, running, stopping) and lease.ts
// (claims and grants in quorum clusters). Why no group runs on two nodes at once is written
// at the top of lease.ts.

import { holds, type PeerAdvert } from './advert.js';
import { groupLabel } from './group.js';
import * as L from './lease.js';
import { viewWithout, type MembershipView } from './membership.js';
import { afterStall, deadlines, forgetTheDead, grantsOpening, groupGrantsOpening, handoverWaits, heldUnderOldLine, holdEnd, leaseDeadline, leaseView, noteHeldElsewhere, noteLoss, policyView, runningElsewhere, startsByConsent, startsHeld, yieldsTo, type OwnershipState } from './ownership-state.js';
import { forgetRemoved, knownEverywhere } from './reload.js';
import { keepFence, leaseOverWhy, updateGrant } from './ownership-lease.js';
import { arbiterFence, arbiterForget, arbiterStop, arbiterStopped, arbiterView, onArbiterNews } from './ownership-arbiter.js';
import { checkMonitors, onClear, onMonitorDone, restartCutShort } from './ownership-monitor.js';
import * as Mon from './monitor.js';
import * as P from './policy.js';
import * as S from './sequencer.js';
import * as W from './switches.js';
import * as F from './node-fencing.js';
import type { LostReason, OwnershipEffect, OwnershipEvent } from './ownership-events.js';
import { expired, nextWakeOf } from './timeout.js';

export type { GroupPhase, PeerAdvert, GroupAdvert, Grant, Ack } from './advert.js';
export type { GroupDef } from './group.js';
export type { Run, StopReason } from './sequencer.js';
export { defaultFenceMs } from './lease.js';
export type { Scope } from './switches.js';
export { DEFAULT_TUNING, advertOf, initOwnership, type LocalGroup, type OwnershipEnv, type OwnershipState, type OwnershipTuning } from './ownership-state.js';

export type { LostReason, OwnershipEffect, OwnershipEvent } from './ownership-events.js';

/** The node that should run group g, as every node with the same view computes it. */
export function desiredOwner(s: OwnershipState, view: MembershipView, g: number, now: number): string | null {
  return P.desiredOwner(policyView(s, view, g, now));
}

/** When a timer-driven change is due, for the shell's single timer. */
export function nextWake(s: OwnershipState, view: MembershipView, now: number): number {
  return nextWakeOf(deadlines(s, view), now);
}

export interface OwnershipResult {
  state: OwnershipState;
  effects: OwnershipEffect[];
}

/** One step in progress: this step's copy of the state, membership's view, what it says. */
interface Turn {
  s: OwnershipState;
  view: MembershipView;
  now: number;
  effects: OwnershipEffect[];
  /** Our advertised state changed: the peers should hear it now. */
  advertise: boolean;
  /** A peer restarted: its new run is alive, its advert comes in the next step; start nothing before it. */
  newRun: boolean;
}

export function step(prev: OwnershipState, event: OwnershipEvent, view: MembershipView, now: number): OwnershipResult {
  const s: OwnershipState = {
    ...prev,
    local: prev.local.map((g) => ({ ...g })),
    peers: { ...prev.peers },
    heardAt: { ...prev.heardAt },
    lease: { ...prev.lease, acks: { ...prev.lease.acks } },
  };
  const forgotten = forgetRemoved(s);
  // A lost node is dead for the step that handles its loss, even when membership already counts
  // its next run (a restart is a death, then a new run): the new run is seen from the next step.
  const t: Turn = { s, view: event.kind === 'node-lost' ? viewWithout(view, event.node) : view, now, effects: [], advertise: false, newRun: event.kind === 'node-lost' && event.reason === 'restart' };
  arbiterForget(t, forgotten);
  switch (event.kind) {
    case 'stalled':
      afterStall(s, t.view, now, event.silentMs);
      break;
    case 'node-lost':
      onNodeLost(t, event.node, event.reason);
      break;
    case 'advert':
      if (event.node !== s.me) onAdvert(t, event.node, event.advert);
      break;
    case 'agent-done':
      onAgentDone(t, event);
      break;
    case 'standby':
      onStandby(t, event.scope);
      break;
    case 'takeover':
      onTakeover(t, event.scope, event.from);
      break;
    case 'clear':
      onClear(t, event.groups);
      break;
    case 'leave':
      if (!s.leaving) t.advertise = true;
      s.leaving = true;
      break;
    case 'fence-done':
      fenced(t, F.onDone(s.nodeFencing, event.node, event.ok, now));
      break;
    case 'pings':
      if (s.pings !== event.count) t.advertise = true;
      s.pings = event.count;
      break;
    case 'arbiter':
      onArbiterNews(t, event.news);
      break;
    case 'tick':
    case 'membership':
      break;
  }
  forgetTheDead(s, t.view);
  fenced(t, F.onTick(s.nodeFencing, t.view.live, now));
  noteHeldElsewhere(s);
  t.view = arbiterView(s, t.view);
  decide(t);
  if (t.advertise) t.effects.push({ kind: 'advertise' });
  return { state: s, effects: t.effects };
}

function log(t: Turn, level: 'info' | 'warn', text: string): void {
  t.effects.push({ kind: 'log', level, text });
}

/** Takes a step of node fencing: its state, and its effects. */
function fenced(t: Turn, r: { state: F.NodeFencing; effects: F.FenceEffect[] }): void {
  t.s.nodeFencing = r.state;
  t.effects.push(...r.effects);
}

function onNodeLost(t: Turn, node: string, reason: LostReason): void {
  const s = t.s;
  const had = s.peers[node];
  // A node never heard (declared dead at initdead) lost no run of ours to count.
  if (had) noteLoss(s, node, t.now);
  delete s.peers[node];
  delete s.lease.acks[node];
  delete s.heardAt[node];
  s.stale = s.stale.filter((n) => n !== node);
  const quorate = P.hasQuorum(s.config.quorum, t.view.live.length, s.nodes.length);
  if (!s.witnesses.includes(node) && !s.witnesses.includes(s.me)) fenced(t, F.onLost(s.nodeFencing, node, reason !== 'timeout', quorate && !s.leaving));
  // Its claims died with it (timeout: after our deadtime of silence; shutdown: it stopped
  // everything first; restart: that run is gone).
  for (const lg of s.local) {
    if (lg.grant && lg.grant.node === node) {
      lg.grant = null;
      t.advertise = true;
    }
  }
  const held = had ? s.groups.flatMap((def, g) => (holds(had.groups[def.id]?.phase ?? 'stopped') ? [g] : [])) : [];
  for (const g of held) if (s.local[g]!.run.phase === 'running') t.effects.push({ kind: 'reassert', group: g, from: node, why: 'released' });
  if (reason === 'shutdown' && held.length === 0 && had) log(t, 'info', `Dead node ${node} gave up resources.`);
  for (const g of held) s.local[g]!.acquiredFrom = node;
  // Groups preferred by the lost node are "acquired from" it too, as Heartbeat logs.
  s.groups.forEach((def, g) => {
    if (def.preferredNode === node && s.local[g]!.acquiredFrom === null) s.local[g]!.acquiredFrom = node;
  });
}

function onAdvert(t: Turn, node: string, a: PeerAdvert): void {
  const s = t.s;
  const known = s.peers[node];
  // An advert older than the one we have (reordered on the way) is out of date.
  if (known && known.gen === a.gen && a.at < known.at) return;
  s.groups.forEach((def, g) => {
    if (s.local[g]!.run.phase !== 'running') return;
    const was = known?.groups[def.id]?.phase ?? 'stopped';
    const is = a.groups[def.id]?.phase ?? 'stopped';
    if (known && holds(was) && !holds(is)) t.effects.push({ kind: 'reassert', group: g, from: node, why: 'released' });
    // Its first advert since it was dead to us (or restarted): while we could not hear it, it
    // may have taken the group over and announced its addresses, and let go again since, so
    // the LAN may point at it (found by the nemesis: clients stuck on the wrong MAC for 20 s+).
    else if (!known) t.effects.push({ kind: 'reassert', group: g, from: node, why: 'returned' });
  });
  s.peers[node] = a;
  s.heardAt[node] = t.now;
  s.stale = s.stale.filter((n) => n !== node);
  s.lease.acks[node] = L.ackAfter(s.lease.acks[node], a);
  const ask = W.peerAsks(s.switches, node, a, s.groups, t.now);
  if (!ask) return;
  s.switches = ask.switches;
  if (ask.fresh.length > 0) t.advertise = true;
  if (ask.asked.length > 0) log(t, 'info', `${node} asked to take over: standing by for ${ask.asked.map((g) => groupLabel(s.groups[g]!)).join('; ')}`);
}

function onStandby(t: Turn, scope: W.Scope): void {
  const s = t.s;
  const gs = W.inScope(s.groups, s.me, scope).filter((g) => !s.local[g]!.removed);
  s.switches = W.standBy(s.switches, gs, t.now);
  log(t, 'info', `Standby: giving ${scope} resources to the other node(s).`);
  for (const g of gs) t.effects.push({ kind: 'transition', group: g, what: 'standby' });
  t.advertise = true;
}

function onTakeover(t: Turn, scope: W.Scope, from?: string): void {
  const s = t.s;
  const gs = W.inScope(s.groups, s.me, scope).filter((g) => !s.local[g]!.removed);
  // A Heartbeat peer's hb_standby is no request of ours: nothing for our adverts to carry.
  s.switches = from ? W.standByNoMore(s.switches, gs) : W.takeOver(s.switches, gs);
  for (const g of gs) s.local[g]!.failedUntil = null;
  log(t, 'info', from ? `${from} goes standby: taking ${scope} resources.` : `Takeover: asking the other node(s) for ${scope} resources.`);
  t.advertise = true;
}

function runContext(t: Turn, g: number): S.RunContext {
  return { group: g, def: t.s.groups[g]!, timing: t.s.config, now: t.now };
}

/** Takes the sequencer's step for group g: its run, and its effects. */
function apply(t: Turn, g: number, r: S.RunStep): void {
  const lg = t.s.local[g]!;
  if (r.run.phase !== lg.run.phase) t.advertise = true;
  lg.run = r.run;
  t.effects.push(...r.effects);
}

function onAgentDone(t: Turn, ev: Extract<OwnershipEvent, { kind: 'agent-done' }>): void {
  if (ev.action === 'monitor') return onMonitorDone(t, ev);
  const lg = t.s.local[ev.group];
  if (!lg) return;
  const r = S.agentDone(lg.run, ev, runContext(t, ev.group));
  if (!r) return; // stale
  if (r.startFailed) lg.failedUntil = t.now + t.s.config.failedStartHoldMs;
  apply(t, ev.group, r);
}

/** Drives every group one step: the next agent call, or a change of phase. */
function decide(t: Turn): void {
  const s = t.s;
  const grants = grantsOpening(s);
  if (grants && expired(grants, t.now)) s.lease.grantsOpen = true;
  const held = startsHeld(s);
  if (held && expired(held, t.now)) s.holdStartsUntil = null;
  // Removed groups first: a changed line starts in the step its old line's stop ends.
  const order = s.local.map((_, g) => g).sort((x, y) => Number(s.local[y]!.removed) - Number(s.local[x]!.removed));
  for (const g of order) {
    const lg = s.local[g]!;
    const hold = holdEnd(lg);
    if (hold && expired(hold, t.now)) {
      // The failed-start hold is over: we are a candidate again; say so now.
      lg.failedUntil = null;
      t.advertise = true;
    }
    const opening = groupGrantsOpening(s, g);
    if (opening && expired(opening, t.now)) lg.noGrantUntil = null;
    if (lg.waitsForPeers && (knownEverywhere(s, t.view, s.groups[g]!.id) || runningElsewhere(s, g))) lg.waitsForPeers = false;
    updateGrant(t, g);
    // A phase change (start begun, stop begun) is followed at once by its first agent
    // call, in this same step: waiting for the next tick would add up to a keepalive.
    for (let pass = 0; pass < 4; pass++) {
      const before = lg.run.phase;
      driveGroup(t, g);
      if (S.busy(lg.run) || lg.run.phase === before) break;
    }
    checkMonitors(t, g);
    keepFence(t, g);
    arbiterFence(t, g);
  }
  if (s.leaving && s.local.every((lg) => lg.run.phase === 'stopped')) t.effects.push({ kind: 'left' });
}

function driveGroup(t: Turn, g: number): void {
  const s = t.s;
  const run = s.local[g]!.run;
  if (S.busy(run)) return; // an agent call is running: wait for it
  const quorate = P.hasQuorum(s.config.quorum, t.view.live.length, s.nodes.length);
  const desired = s.leaving || !quorate ? null : desiredOwner(s, t.view, g, t.now);
  switch (run.phase) {
    case 'stopped':
      driveStopped(t, g, desired);
      break;
    case 'starting':
    case 'running':
      driveHeld(t, g, desired, quorate);
      break;
    case 'stopping':
    case 'stop-failed': {
      const cut = run.reason === 'restart' ? restartCutShort(t, g, quorate) : null;
      if (cut) log(t, 'warn', `The restart of ${groupLabel(s.groups[g]!)} is cut short (${cut}): stopping the whole group.`);
      const r = S.advance(cut ? S.restartToStop(run, cut) : run, runContext(t, g));
      apply(t, g, r);
      // Stopped: this claim is over (our own grant to it goes with it).
      if (r.reached === 'stopped' && s.local[g]!.claim !== null) {
        s.local[g]!.claim = null;
        updateGrant(t, g);
      }
      break;
    }
  }
}

function driveStopped(t: Turn, g: number, desired: string | null): void {
  const { s, view } = t;
  const lg = s.local[g]!;
  const pv = policyView(s, view, g, t.now);
  const def = s.groups[g]!;
  // A live peer whose advert we have not read yet may hold the group: unknown is not
  // "stopped". Wait for its first heartbeat's advert, then for any holder to stop, of the
  // group or of its resources under another line (a node whose haresources differs). A group
  // a reload added waits for the other nodes' reload, and for its old line's stop here.
  const want =
    !s.leaving &&
    !lg.removed &&
    !lg.waitsForPeers &&
    !heldUnderOldLine(s, g) &&
    view.settled &&
    desired === s.me &&
    s.stale.length === 0 &&
    s.holdStartsUntil === null &&
    !F.fencePending(s.nodeFencing) && // a node lost uncleanly is not fenced yet
    !F.unheardBy(s.nodeFencing, s.me, s.gen, view.live, s.peers) &&
    !t.newRun &&
    !view.live.some((n) => !s.peers[n]) && // unknown peer
    !view.live.some((n) => holds(P.phaseAt(pv, n))) && // another holder
    !view.live.some((n) => s.peers[n]!.resources.some((r) => def.resources.includes(r))); // its resources held under another line
  if (arbiterStopped(t, g, want, () => startGroup(t, g))) return;
  if (!s.config.quorum && !startsByConsent(s)) {
    if (want) startGroup(t, g); // never two at once
    return;
  }
  if (!want) {
    if (lg.claim !== null) {
      lg.claim = null;
      t.advertise = true;
      updateGrant(t, g);
    }
    return;
  }
  if (lg.claim === null) {
    s.lease.claimSeq += 1;
    lg.claim = s.lease.claimSeq;
    t.advertise = true;
    updateGrant(t, g);
  }
  // Start only under a majority of grants for this claim (two nodes with fencing: the peer's).
  const lv = leaseView(s, view, g);
  if (s.config.quorum ? !expired(L.leaseDeadline(lg, lv), t.now) : L.consented(lg, lv)) startGroup(t, g);
}

/** Why a group we hold must stop now, or null. */
function mustStop(t: Turn, g: number, desired: string | null, quorate: boolean): S.StopReason | null {
  const s = t.s;
  const run = s.local[g]!.run;
  if (s.leaving) return 'shutdown';
  if (s.local[g]!.removed) return 'removed';
  if (Mon.keptOut(s.local[g]!.monitor, t.now)) return 'kept-out';
  if (run.phase === 'running' || run.phase === 'starting' ? run.afterStall : false) return 'stall';
  if (!quorate) return 'quorum';
  if (arbiterStop(t, g)) return 'fence';
  if (yieldsTo(s, t.view, g)) return 'conflict';
  // A restart step sees the peer dead only to count its loss; it is alive, and its new run joins
  // in the next step. Letting go now would hand the group past it (to the next node in ha.cf
  // order) and let the new run start it at once, its failback hold-down never applied.
  if (desired !== s.me && desired !== null && !t.newRun && !handoverWaits(s, desired, g)) return 'release';
  const lease = leaseDeadline(s, t.view, g);
  return lease && expired(lease, t.now) ? 'fence' : null;
}

function driveHeld(t: Turn, g: number, desired: string | null, quorate: boolean): void {
  const s = t.s;
  const lg = s.local[g]!;
  const label = groupLabel(s.groups[g]!);
  const reason = mustStop(t, g, desired, quorate);
  if (reason === 'quorum') log(t, 'warn', `Lost quorum (${t.view.live.length + 1} of ${s.nodes.length} nodes): releasing ${label}.`);
  if (reason === 'fence') log(t, 'warn', arbiterStop(t, g) ?? leaseOverWhy(t, g));
  if (reason === 'stall') log(t, 'warn', `This node was not scheduled for longer than the deadtime; the other nodes may have taken over: releasing ${label}.`);
  if (reason === 'conflict') log(t, 'warn', `${yieldsTo(s, t.view, g)} runs resources of ${label} under another haresources line (the files differ: reload every node), and comes first in ha.cf: releasing ${label}.`);
  if (reason) {
    apply(t, g, S.beginStop(lg.run, reason, runContext(t, g)));
    return;
  }
  const r = S.advance(lg.run, runContext(t, g));
  apply(t, g, r);
  if (r.reached !== 'running') return;
  if (lg.acquiredFrom && lg.acquiredFrom !== s.me) log(t, 'info', `mach_down takeover complete for node ${lg.acquiredFrom}.`);
  else log(t, 'info', `Resource group ${label} is running.`);
  lg.acquiredFrom = null;
  lg.failedUntil = null;
  lg.heldElsewhere = false;
  lg.monitor = Mon.started(lg.monitor, s.groups[g]!, t.now);
}

function startGroup(t: Turn, g: number): void {
  const s = t.s;
  const lg = s.local[g]!;
  const from = lg.acquiredFrom;
  const takingOver = from !== null && from !== s.me;
  if (takingOver) {
    log(t, 'info', `Resources being acquired from ${from}.`);
    log(t, 'info', 'Taking over resource group');
  }
  apply(t, g, S.beginStart(lg.run, runContext(t, g)));
  // The preferred node taking its group back from another node (that died, or that ran it
  // while we were away or in standby) is a failback.
  const what = s.groups[g]!.preferredNode !== s.me ? 'takeover' : takingOver || lg.heldElsewhere ? 'failback' : 'acquired';
  t.effects.push({ kind: 'transition', group: g, what, from });
}
