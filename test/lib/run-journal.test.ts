// The journal the simulator and the nemesis resume long runs from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunJournal } from '../../src/lib/run-journal.js';

test('a journal gives back what was recorded, refuses another run, and skips a cut line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'run-journal-'));
  try {
    const file = join(dir, 'j.jsonl');
    const first = new RunJournal<{ n: number }>(file, '{"seed":1}');
    assert.deepEqual(first.resume(), []);
    first.record({ n: 1 });
    first.record({ n: 2 });
    appendFileSync(file, '{"n":'); // killed mid-write
    const cut: number[] = [];
    const again = new RunJournal<{ n: number }>(file, '{"seed":1}');
    assert.deepEqual(again.resume((line) => cut.push(line)), [{ n: 1 }, { n: 2 }]);
    assert.deepEqual(cut, [4]);
    again.record({ n: 3 });
    assert.deepEqual(new RunJournal<{ n: number }>(file, '{"seed":1}').resume(), [{ n: 1 }, { n: 2 }, { n: 3 }]);
    assert.match(readFileSync(file, 'utf8'), /\{"n":\n\{"n":3\}\n$/);
    assert.throws(() => new RunJournal(file, '{"seed":2}').resume(), /belongs to a run with other options/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
