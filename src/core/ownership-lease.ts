// Quorum clusters: our grant and our fence on each group, kept in step with the lease rules
// (lease.ts, where the safety argument is) at every step of ownership.ts.
import type { OwnershipEffect } from './ownership-events.js';
import { groupLabel } from './group.js';
import * as L from './lease.js';
import type { MembershipView } from './membership.js';
import { fenceDeadline, leaseView, policyView, startsByConsent, type OwnershipState } from './ownership-state.js';
import * as P from './policy.js';
import { expired } from './timeout.js';

/** The part of ownership's step in progress these rules read and write. */
export interface LeaseTurn {
  s: OwnershipState;
  view: MembershipView;
  now: number;
  effects: OwnershipEffect[];
  advertise: boolean;
}

/** Remember how long our lease on g reaches, and fence g when it is over. */
export function keepFence(t: LeaseTurn, g: number): void {
  const s = t.s;
  const lg = s.local[g]!;
  if (!s.config.quorum) return;
  if (lg.run.phase === 'stopped') {
    lg.leaseUntil = -Infinity;
    lg.fenced = false;
    return;
  }
  const end = L.leaseEnd(lg, leaseView(s, t.view, g));
  if (Number.isFinite(end) && end > lg.leaseUntil) lg.leaseUntil = end;
  const fence = fenceDeadline(s, g);
  if (!fence || !expired(fence, t.now)) return;
  lg.fenced = true;
  t.effects.push({ kind: 'log', level: 'warn', text: `The lease on ${groupLabel(s.groups[g]!)} is over and its stop is not done: removing its addresses now, before another node may take it over.` });
  t.effects.push({ kind: 'fence', group: g });
}

/** Why our lease on g is over, for the log: the peers' silence, or their files (a reload removed the group there). */
export function leaseOverWhy(t: LeaseTurn, g: number): string {
  const s = t.s;
  const label = groupLabel(s.groups[g]!);
  const having = 1 + t.view.live.filter((n) => s.peers[n] !== undefined && Object.hasOwn(s.peers[n]!.groups, s.groups[g]!.id)).length;
  const majority = L.majority(s.nodes.length);
  if (having < majority && 1 + t.view.live.length >= majority) {
    return `Only ${having} of ${s.nodes.length} nodes have ${label} in haresources (a reload removed or changed it on the others), fewer than a majority: releasing it.`;
  }
  return `No majority of nodes has confirmed hearing us for too long: releasing ${label} before another node may take it over.`;
}

/**
 * Withdraw our grant on g when its claim is over, and grant g to our desired owner's claim
 * when we grant nothing (not during our first deadtime, nor a group's first deadtime after a
 * reload added it, nor a group a reload removed).
 */
export function updateGrant(t: LeaseTurn, g: number): void {
  const s = t.s;
  if (!s.config.quorum && !startsByConsent(s)) return;
  const lg = s.local[g]!;
  const v = leaseView(s, t.view, g);
  if (L.grantOver(lg, v)) {
    lg.grant = null;
    t.advertise = true;
  }
  // Without a lease no old grant of ours can count after our restart: no first deadtime to wait.
  if (lg.grant || !t.view.settled || (s.config.quorum && !s.lease.grantsOpen) || lg.noGrantUntil !== null || lg.removed) return;
  lg.grant = L.grantFor(P.desiredOwner(policyView(s, t.view, g, t.now)), lg, v);
  if (lg.grant) t.advertise = true;
}
