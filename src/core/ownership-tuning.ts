// Ownership's tuning: retries, holds, the fence of quorum leases and failback's hold-downs, with
// the defaults that follow the timers.
import * as L from './lease.js';
import * as P from './policy.js';

export interface OwnershipTuning {
  /** Retry a failed stop this many times (1 s apart) before declaring stop-failed. */
  stopRetries: number;
  stopRetryDelayMs: number;
  /** After stop-failed, keep retrying at this interval. */
  stopFailedRetryMs: number;
  /** How long a failed start keeps this node out of the running for that group. */
  failedStartHoldMs: number;
  /** Require a strict majority of nodes to start anything (3+ node clusters). */
  quorum: boolean;
  /**
   * Quorum clusters: the time reserved between the end of a lease and the earliest moment
   * another node can start the group: the stop (pending agent call included) must fit in
   * it. The lease itself lasts deadtime - fenceMs after the echo it rests on, and an echo
   * comes back within about 2 keepalives: the lease needs 3. Default: half the deadtime, but
   * at most deadtime - 3 keepalives. Must be below the deadtime.
   */
  fenceMs: number;
  /**
   * A group goes back to its preferred node (auto_failback on), or to a node a standby
   * holder yields to, only once the holder has heard that node continuously for its
   * hold-down (policy.ts failbackHoldMs): quickFailbackMs after the one loss that sent the
   * group away; failbackDelayMs after a second loss within flapWindowMs, doubled with each
   * further one up to 8 times, so a node that keeps crashing does not drag the group along.
   * Defaults: half a keepalive (at most the deadtime; see QUICK_FAILBACK_KEEPALIVES), the
   * deadtime, and 5 minutes (at least twice the longest hold-down).
   */
  quickFailbackMs: number;
  failbackDelayMs: number;
  flapWindowMs: number;
}

/**
 * Failback's first return: the holder lets go on the returning node's next heartbeat after the
 * one that said it was active (it has then been heard 3 times: init, active and that one). The
 * hold-down is that many keepalives less half of one, so the jitter of two arrivals never costs
 * a keepalive more. One, not more: Heartbeat gives a group back at once (609 ms at keepalive
 * 100 ms, 2.6 s at 1 s, in bench/RESULTS.md), and each keepalive waited adds a keepalive.
 */
export const QUICK_FAILBACK_KEEPALIVES = 1;

export const DEFAULT_TUNING: Omit<OwnershipTuning, 'fenceMs' | 'failbackDelayMs' | 'quickFailbackMs' | 'flapWindowMs'> = {
  stopRetries: 3,
  stopRetryDelayMs: 1000,
  stopFailedRetryMs: 30_000,
  failedStartHoldMs: 60_000,
  quorum: true,
};

/**
 * The tuning in effect for these nodes and timers: what `tuning` sets, the defaults for the
 * rest (the fence and the failback delay follow the timers). Throws on a fence that is not
 * below the deadtime.
 */
export function tuningFor(nodes: readonly string[], tuning: Partial<OwnershipTuning>, deadtimeMs: number, keepaliveMs: number): OwnershipTuning {
  const fenceMs = tuning.fenceMs ?? L.defaultFenceMs(deadtimeMs, keepaliveMs);
  if (!(fenceMs >= 0 && fenceMs < deadtimeMs)) throw new RangeError(`fenceMs (${fenceMs}) must be at least 0 and below the deadtime (${deadtimeMs} ms)`);
  const failbackDelayMs = tuning.failbackDelayMs ?? deadtimeMs;
  const hold = {
    failbackDelayMs,
    quickFailbackMs: Math.min((QUICK_FAILBACK_KEEPALIVES - 0.5) * keepaliveMs, failbackDelayMs),
    flapWindowMs: Math.max(300_000, 2 * P.HOLD_CAP_FACTOR * failbackDelayMs),
  };
  return { ...DEFAULT_TUNING, fenceMs, ...hold, ...tuning, quorum: (tuning.quorum ?? DEFAULT_TUNING.quorum) && nodes.length >= 3 };
}

