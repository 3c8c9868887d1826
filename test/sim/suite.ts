// The suite's seeded schedules: shared by the schedule tests and the broken-core test, so
// the broken core is shown to be caught "within the suite's schedules".
import type { SimOptions } from '../../src/sim/run.js';
import type { Range } from './parallel.js';

/** Shorter fault windows than the CLI's default keep the suite under a minute on 2 cores. */
const WINDOW: [number, number] = [8_000, 25_000];

export const TWO_NODES: Range = { from: 1_000_000, count: 900, opts: { nodes: 2, faultWindowMs: WINDOW } };
export const THREE_NODES: Range = { from: 2_000_000, count: 700, opts: { nodes: 3, faultWindowMs: WINDOW } };
export const LARGER: Range[] = [4, 5, 6, 7].map((nodes) => ({ from: nodes * 1_000_000, count: 100, opts: { nodes, faultWindowMs: WINDOW } satisfies SimOptions }));
