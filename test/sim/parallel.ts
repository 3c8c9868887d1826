// Runs seed ranges of the simulator on worker threads (this machine has 2 cores; node --test
// runs the suite's files one at a time), and merges the totals.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Totals, type SimOptions } from '../../src/sim/run.js';

export interface Range {
  from: number;
  count: number;
  opts: Omit<SimOptions, 'core'>;
}

/** Runs `ranges` in chunks of `chunk` seeds on `workers` threads that live for this call. */
export async function runParallel(ranges: Range[], workers = Math.max(1, Math.min(availableParallelism(), 4)), chunk = 20): Promise<Totals> {
  const chunks: Range[] = [];
  for (const r of ranges) for (let s = 0; s < r.count; s += chunk) chunks.push({ from: r.from + s, count: Math.min(chunk, r.count - s), opts: r.opts });
  const totals = new Totals();
  let next = 0;
  const url = new URL('./worker.js', import.meta.url);
  const lane = async (): Promise<void> => {
    const w = new Worker(url);
    try {
      while (next < chunks.length) {
        const id = next++;
        const c = chunks[id]!;
        const t = await new Promise<Totals>((resolve, reject) => {
          const onMessage = (m: { id: number; totals: Totals }) => {
            if (m.id !== id) return;
            w.off('message', onMessage);
            w.off('error', reject);
            resolve(Object.assign(new Totals(), m.totals));
          };
          w.on('message', onMessage);
          w.once('error', reject);
          w.postMessage({ id, from: c.from, count: c.count, opts: c.opts });
        });
        totals.merge(t);
      }
    } finally {
      await w.terminate();
    }
  };
  await Promise.all(Array.from({ length: workers }, lane));
  return totals;
}

/** One line per violation: seed, invariant, message, and the command that replays it. */
export function describeViolations(t: Totals, opts: Omit<SimOptions, 'core'>): string {
  return t.violations
    .map((v) => `seed ${v.seed}: ${v.invariant}: ${v.message}\n  replay: npm run sim -- --seed ${v.seed}${opts.nodes !== undefined ? ` --nodes ${opts.nodes}` : ''}${opts.faultWindowMs ? ` --window ${opts.faultWindowMs.join(',')}` : ''}${opts.reloads !== undefined ? ` --reloads ${Math.round(opts.reloads * 100)}` : ''}`)
    .join('\n');
}
