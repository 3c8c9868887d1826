// A long simulation's record of finished chunks of seeds (npm run sim -- --journal FILE): the
// same command run again skips them and counts their totals, so a run of hours survives a
// stopped session or a reboot.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { Totals } from './run.js';

/** Seeds per journal entry: a stopped run loses at most this much work per worker pool. */
export const CHUNK = 1000;

/** A run's record of finished chunks: its options on the first line, then one chunk per line. */
export class Journal {
  constructor(
    private readonly file: string,
    private readonly options: string,
  ) {}

  /** Chunks already done (by first seed), their totals merged into `totals`. */
  resume(totals: Totals): Set<number> {
    const done = new Set<number>();
    if (!existsSync(this.file)) {
      appendFileSync(this.file, `${this.options}\n`);
      return done;
    }
    const text = readFileSync(this.file, 'utf8');
    const [head, ...lines] = text.split('\n').filter((l) => l.trim() !== '');
    if (head !== this.options) throw new Error(`--journal ${this.file}: it belongs to a run with other options (${head}); this run is ${this.options}`);
    for (const line of lines) {
      try {
        const c = JSON.parse(line) as { from: number; totals: Totals };
        totals.merge(Object.assign(new Totals(), c.totals));
        done.add(c.from);
      } catch {
        // A line cut short by a kill mid-write: its chunk runs again.
      }
    }
    if (!text.endsWith('\n')) appendFileSync(this.file, '\n');
    return done;
  }

  record(from: number, totals: Totals): void {
    appendFileSync(this.file, `${JSON.stringify({ from, totals })}\n`);
  }
}
