// Quorum clusters: our grant and our fence on each group, kept in step with the lease rules
// (lease.ts, where the safety argument is) at every step of ownership.ts.
import type { OwnershipEffect } from './ownership-events.js';
import { groupLabel } from './group.js';
import * as L from './lease.js';
import type { MembershipView } from './membership.js';
import { fenceDeadline, leaseView, policyView, type OwnershipState } from './ownership-state.js';
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

/**
 * Withdraw our grant on g when its claim is over, and grant g to our desired owner's claim
 * when we grant nothing (not during our first deadtime, nor a group's first deadtime after a
 * reload added it, nor a group a reload removed).
 */
export function updateGrant(t: LeaseTurn, g: number): void {
  const s = t.s;
  if (!s.config.quorum) return;
  const lg = s.local[g]!;
  const v = leaseView(s, t.view, g);
  if (L.grantOver(lg, v)) {
    lg.grant = null;
    t.advertise = true;
  }
  if (lg.grant || !t.view.settled || !s.lease.grantsOpen || lg.noGrantUntil !== null || lg.removed) return;
  lg.grant = L.grantFor(P.desiredOwner(policyView(s, t.view, g, t.now)), lg, v);
  if (lg.grant) t.advertise = true;
}
