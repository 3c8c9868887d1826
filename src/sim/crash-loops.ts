// A crash-looping node in the simulator: the preferred node of a group crashes again and again,
// up for a drawn while each time (around the failback hold-downs: a keepalive, the deadtime and
// its doublings), so flap damping (core/policy.ts failbackHoldMs) is exercised: the no-flap
// invariant checks that each failback to it waited the hold-down its losses call for.
import { chance, derive, int, mulberry32, pick, uniform } from './prng.js';
import type { Fault, SimConfig } from './schedule.js';

/** 3..7 crashes of one group's preferred node, with probability `probability`: a stream of their own. */
export function drawCrashLoop(seed: number, config: SimConfig, windowMs: number, probability: number): Fault[] {
  const rng = mulberry32(derive(seed, 15));
  if (!chance(rng, probability)) return [];
  const dead = config.timers.deadtimeMs;
  const node = pick(rng, config.groups).preferredNode;
  const faults: Fault[] = [];
  let at = Math.floor(uniform(rng, 0, windowMs / 3));
  for (let k = int(rng, 3, 7); k > 0 && at < windowMs; k--) {
    const downMs = Math.floor(uniform(rng, dead / 5, 2 * dead));
    faults.push({ kind: 'crash', at, node, downMs });
    // Up for 0.1 to 5 deadtimes: below, between and above the hold-downs.
    at += downMs + Math.floor(dead * uniform(rng, 0.1, 5));
  }
  return faults;
}
