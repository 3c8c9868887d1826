// Deliberately broken cores, for showing that the invariants can fail. Production code is
// untouched: a variant wraps the real step function and undoes one of its decisions.
import * as Node from '../core/node.js';
import { advertOf } from '../core/ownership.js';
import { realCore, type Core } from './world.js';

/**
 * "Skips the release step": a node never lets go of a group it runs or is starting, except
 * for its own shutdown or the rollback of a failed start. Whenever the real core begins such
 * a stop (handoff, lost quorum, expired lease, stall), the variant keeps the group as it was
 * and drops that step's effects for it (its heartbeat then advertises the group as held).
 */
export function skipRelease(core: Core = realCore): Core {
  return {
    ...core,
    step(prev: Node.NodeState, event: Node.NodeEvent, now: number): Node.NodeStepResult {
      const r = core.step(prev, event, now);
      // A reload renumbers the groups: before and after are not comparable by number.
      if (event.kind === 'reconfigure') return r;
      const before = prev.ownership.local;
      const after = r.state.ownership.local;
      const kept = new Set<number>();
      after.forEach((lg, g) => {
        const b = before[g];
        if (!b || (b.run.phase !== 'running' && b.run.phase !== 'starting') || lg.run.phase !== 'stopping') return;
        if (lg.run.reason === 'shutdown' || lg.run.reason === 'rollback') return;
        kept.add(g);
      });
      if (kept.size === 0) return r;
      const local = after.map((lg, g) => (kept.has(g) ? { ...before[g]!, claim: lg.claim, grant: lg.grant } : lg));
      const state: Node.NodeState = { ...r.state, ownership: { ...r.state.ownership, local } };
      const effects = r.effects
        .filter((e) => !('group' in e && kept.has(e.group)))
        .map((e) => (e.kind === 'send-status' ? { ...e, payload: { ...e.payload, advert: advertOf(state.ownership, now) } } : e));
      return { state, effects };
    },
    // The real core asks to be woken at once for a lease it sees expired; the kept group makes
    // that true forever. Wake a keepalive later instead, so the variant fails by its double
    // owners rather than by spinning.
    nextWake(state: Node.NodeState, now: number): number {
      const wake = core.nextWake(state, now);
      return wake <= now ? now + state.membership.timers.keepaliveMs : wake;
    },
  };
}

/**
 * "No flap damping": a node forgets every loss of its peers it saw, so a group goes back to a
 * crash-looping node each time after the first, short hold-down (core/policy.ts failbackHoldMs).
 */
export function forgetLosses(core: Core = realCore): Core {
  return {
    ...core,
    step(prev: Node.NodeState, event: Node.NodeEvent, now: number): Node.NodeStepResult {
      const r = core.step(prev, event, now);
      return { ...r, state: { ...r.state, ownership: { ...r.state.ownership, lostAt: {} } } };
    },
  };
}
