// The etcd arbiter's numbers for hbd's groups and agent timeouts, apart from its etcd client
// (arbiter-etcd.ts), which only a node with `arbiter etcd` loads.
import type { ArbiterCf } from '../config/arbiter-types.js';
import type { ResourceGroup, ResourceSpec } from '../config/types.js';
import { arbiterTuning, type ArbiterTuning } from '../core/arbiter.js';

/** What `arbiterTuning` needs of the agents: each resource's timeout for an action. */
export type TimeoutOf = (spec: ResourceSpec, action: 'start' | 'stop' | 'status') => number;

/**
 * The arbiter's numbers for these groups, and what the stop time is made of (for the start-up
 * line): the longest stop of a group from the moment it is due, a start or status call that may
 * be running then, and every resource's stop after it, each bounded by its timeout.
 */
export function arbiterNumbers(cf: ArbiterCf, groups: readonly ResourceGroup[], timeoutOf: TimeoutOf): { tuning: ArbiterTuning; stopWhat: string } {
  let stopMs = 0;
  let stopWhat = 'no resource group';
  for (const g of groups) {
    const inFlight = Math.max(0, ...g.resources.map((r) => Math.max(timeoutOf(r, 'start'), timeoutOf(r, 'status'))));
    const stops = g.resources.reduce((sum, r) => sum + timeoutOf(r, 'stop'), 0);
    if (inFlight + stops <= stopMs) continue;
    stopMs = inFlight + stops;
    stopWhat = `group ${g.id}: a start or status call of up to ${inFlight / 1000} s, then ${g.resources.length} stop${g.resources.length === 1 ? '' : 's'} of ${stops / 1000} s in all`;
  }
  return { tuning: arbiterTuning(cf.ttlMs, stopMs), stopWhat };
}
