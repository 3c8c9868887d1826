// The etcd arbiter's part in each step of ownership.ts: the view ownership decides from, the
// campaign for a group's key and the resignation, why a held group must stop, and the fence.
// The rules and the safety argument are in arbiter.ts.
import * as A from './arbiter.js';
import { groupLabel } from './group.js';
import type { MembershipView } from './membership.js';
import type { OwnershipEffect } from './ownership-events.js';
import type { OwnershipState } from './ownership-state.js';
import * as S from './sequencer.js';
import { dueAt, expired, type Deadline } from './timeout.js';

/** The part of ownership's step in progress these rules read and write. */
export interface ArbiterTurn {
  s: OwnershipState;
  now: number;
  effects: OwnershipEffect[];
}

/** Ownership's view under the arbiter: a peer whose lease is gone from etcd is no candidate, and holds nothing. */
export function arbiterView(s: OwnershipState, view: MembershipView): MembershipView {
  return s.arbiter ? { ...view, live: A.liveInEtcd(s.arbiter, view.live) } : view;
}

export function onArbiterNews(t: ArbiterTurn, news: A.ArbiterNews): void {
  const a = t.s.arbiter;
  if (!a) return;
  t.s.arbiter = A.onNews(a, news);
  if (news.kind === 'lost' && Object.keys(a.held).length > 0) {
    t.effects.push({ kind: 'log', level: 'warn', text: `arbiter: our etcd lease is gone, and with it the keys of ${Object.keys(a.held).join(', ')}.` });
  }
}

/** Our lease does not reach far enough to run a group: we are no candidate (policy's `failed`). */
export function outOfArbiter(s: OwnershipState, now: number): boolean {
  return s.arbiter !== null && !A.candidate(s.arbiter, now);
}

/**
 * A stopped group under the arbiter: while we want it, campaign for its key and start it once
 * it is ours (and our lease leaves time for a stop); when we do not, give the key up. Returns
 * false without an arbiter (the caller decides as before).
 */
export function arbiterStopped(t: ArbiterTurn, g: number, want: boolean, start: () => void): boolean {
  const s = t.s;
  const a = s.arbiter;
  if (!a) return false;
  const id = s.groups[g]!.id;
  const r = want && A.candidate(a, t.now) ? A.campaign(a, id, g) : A.resign(a, id, g);
  s.arbiter = r.state;
  if (r.effect) t.effects.push(r.effect);
  if (want && A.mayRun(r.state, id, t.now)) start();
  return true;
}

/**
 * Groups a reload removed, forgotten in this step: their keys and campaigns are given up. A
 * group stopped here when it was removed never reached arbiterStopped again, so a campaign
 * begun before the reload would have gone on and kept the key from the nodes that run it.
 */
export function arbiterForget(t: ArbiterTurn, ids: readonly string[]): void {
  for (const id of ids) {
    if (!t.s.arbiter) return;
    const r = A.resign(t.s.arbiter, id, -1);
    t.s.arbiter = r.state;
    if (r.effect) t.effects.push(r.effect);
  }
}

/** Why a group we hold (starting or running) must stop under the arbiter, for the log; null when it may go on. */
export function arbiterStop(t: ArbiterTurn, g: number): string | null {
  const s = t.s;
  const a = s.arbiter;
  if (!a) return null;
  const def = s.groups[g]!;
  if (a.held[def.id] === undefined) return `arbiter: the etcd key of ${groupLabel(def)} is not ours (any more): releasing it.`;
  if (!A.candidate(a, t.now)) return `arbiter: our etcd lease was not renewed in time (sure until ${Math.round(a.validUntil)} ms, its stop takes up to ${a.stopMs} ms): releasing ${groupLabel(def)} before etcd can give it to another node.`;
  return null;
}

/** The stop begun when the lease ran short is not done when the lease may end: remove the addresses now. */
export function arbiterFence(t: ArbiterTurn, g: number): void {
  const s = t.s;
  const lg = s.local[g]!;
  if (!s.arbiter) return;
  if (lg.run.phase === 'stopped') {
    lg.fenced = false;
    return;
  }
  const d = fenceDue(s, g);
  if (!d || !expired(d, t.now)) return;
  lg.fenced = true;
  t.effects.push({ kind: 'log', level: 'warn', text: `arbiter: our etcd lease may end now and the stop of ${groupLabel(s.groups[g]!)} is not done: removing its addresses before another node may take it over.` });
  t.effects.push({ kind: 'fence', group: g });
}

function fenceDue(s: OwnershipState, g: number): Deadline | null {
  const lg = s.local[g]!;
  const a = s.arbiter;
  if (!a || lg.fenced || lg.run.phase === 'stopped') return null;
  // Without a lease (-Infinity: lost, or never had) the fence is due at once.
  return dueAt('arbiter-fence', a.validUntil, s.groups[g]!.id);
}

/** The arbiter's deadlines: the stop of each group held and idle when the lease runs short, and the fence. */
export function arbiterDeadlines(s: OwnershipState): Deadline[] {
  const a = s.arbiter;
  if (!a) return [];
  const all: Deadline[] = [];
  s.local.forEach((lg, g) => {
    const run = lg.run;
    if ((run.phase === 'starting' || run.phase === 'running') && !S.busy(run)) all.push(dueAt('arbiter-stop', A.stopAt(a), s.groups[g]!.id));
    const fence = fenceDue(s, g);
    if (fence) all.push(fence);
  });
  return all;
}
