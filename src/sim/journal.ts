// A long simulation's record of finished chunks of seeds (npm run sim -- --journal FILE): the
// same command run again skips them and counts their totals, so a run of hours survives a
// stopped session or a reboot.
import { RunJournal } from '../lib/run-journal.js';
import { Totals } from './run.js';

/** Seeds per journal entry: a stopped run loses at most this much work per worker pool. */
export const CHUNK = 1000;

/** One finished chunk: its first seed and its totals. */
interface Chunk {
  from: number;
  totals: Totals;
}

export class Journal {
  private readonly journal: RunJournal<Chunk>;

  constructor(file: string, options: string) {
    this.journal = new RunJournal(file, options);
  }

  /** Chunks already done (by first seed), their totals merged into `totals`. */
  resume(totals: Totals): Set<number> {
    const done = new Set<number>();
    for (const c of this.journal.resume()) {
      totals.merge(Object.assign(new Totals(), c.totals));
      done.add(c.from);
    }
    return done;
  }

  record(from: number, totals: Totals): void {
    this.journal.record({ from, totals });
  }
}
