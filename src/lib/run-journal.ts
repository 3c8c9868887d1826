// The record of a long run that can be stopped and resumed (the simulator's and the nemesis's
// --journal FILE): the run's options on the first line, then one finished entry per line. The
// same command run again reads the entries back and does only the rest; a journal of another
// run is refused, and a line cut short by a kill mid-write is skipped (its work runs again).
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

export class RunJournal<T> {
  constructor(
    private readonly file: string,
    private readonly options: string,
  ) {}

  /** The entries written so far (none for a new journal, which gets its options line now). */
  resume(onCutLine: (line: number) => void = () => undefined): T[] {
    if (!existsSync(this.file)) {
      appendFileSync(this.file, `${this.options}\n`);
      return [];
    }
    const text = readFileSync(this.file, 'utf8');
    const [head, ...lines] = text.split('\n').filter((l) => l.trim() !== '');
    if (head !== this.options) throw new Error(`--journal ${this.file}: it belongs to a run with other options (${head}); this run is ${this.options}`);
    const entries: T[] = [];
    lines.forEach((line, k) => {
      try {
        entries.push(JSON.parse(line) as T);
      } catch {
        onCutLine(k + 2);
      }
    });
    if (!text.endsWith('\n')) appendFileSync(this.file, '\n');
    return entries;
  }

  record(entry: T): void {
    appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
  }
}
