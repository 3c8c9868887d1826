// Quorum sources for two-node schedules: a witness (`hbd --witness` on a third host) and its
// faults: the heartbeat path between the nodes cut while both still reach the witness (the
// partition a witness exists for), the witness cut off from one node or from both, the
// witness crashing. Drawn from a stream of the seed of their own, after every other fault, so
// that a schedule without a witness is exactly the schedule of before.
import { chance, derive, int, mulberry32, pick, uniform } from './prng.js';
import type { Fault, SimConfig } from './schedule.js';

/** The witness's node name in the simulator: it boots with the others and has every group's line. */
export const WITNESS = 'w';

export interface WitnessDraw {
  witness: string;
  bootAt: number;
  faults: Fault[];
}

/**
 * With probability `probability`, a witness for the two nodes of `config` and 0..3 faults of
 * its own within the fault window. Not with reloads: a witness whose haresources an operator
 * forgot to change would keep an added group from starting (every node waits for every live
 * node to have it), which is what hbd does and not what these faults test.
 */
export function drawWitness(seed: number, config: SimConfig, windowMs: number, probability: number, withReloads: boolean): WitnessDraw | null {
  const rng = mulberry32(derive(seed, 11));
  if (config.nodes.length !== 2 || withReloads || !chance(rng, probability)) return null;
  const [a, b] = config.nodes as [string, string];
  const dead = config.timers.deadtimeMs;
  const faults: Fault[] = [];
  for (let k = int(rng, 0, 3); k > 0; k--) {
    const at = Math.floor(uniform(rng, 0, windowMs));
    const durMs = Math.max(1, Math.min(windowMs - at, Math.floor(uniform(rng, dead / 2, 6 * dead))));
    const kind = pick(rng, ['split', 'split', 'isolate', 'crash'] as const);
    if (kind === 'split') faults.push({ kind: 'partition', at, durMs, side: [a], others: [b], oneWay: chance(rng, 0.25), link: null });
    else if (kind === 'isolate') faults.push({ kind: 'partition', at, durMs, side: [WITNESS], ...(chance(rng, 0.5) ? { others: [pick(rng, [a, b])] } : {}), oneWay: chance(rng, 0.25), link: null });
    else faults.push({ kind: 'crash', at, node: WITNESS, downMs: durMs });
  }
  return { witness: WITNESS, bootAt: Math.floor(uniform(rng, 0, 50)), faults };
}
