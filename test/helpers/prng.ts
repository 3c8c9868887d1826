// The seeded PRNG of the simulator (mulberry32), shared so a failing fuzz case replays from its seed.
import { int, type Rng } from '../../src/sim/prng.js';

export { mulberry32, pick, type Rng } from '../../src/sim/prng.js';

/** An integer in [lo, hi) (the simulator's `int` includes hi). */
export function intIn(rng: Rng, lo: number, hi: number): number {
  return int(rng, lo, hi - 1);
}

export function randomBytes(rng: Rng, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = int(rng, 0, 255);
  return out;
}
