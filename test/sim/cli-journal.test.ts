// The simulator's command line resuming a finished journal: the violations it records came
// from the build that wrote them. Each is replayed on this build; one that no longer fails here
// is said so and not shrunk (shrinking needs a failure), and the exit status, 3, tells the
// long run's script to look for the carry-over that explains it (scripts/sim-long-run.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const cli = resolve('dist/src/sim/cli.js');
const sim = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

test('a journal violation that no longer fails on this build is named, not shrunk, and exits 3', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-journal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const journal = join(dir, 'journal.jsonl');
  const args = ['--schedules', '2', '--seed', '500000', '--workers', '1', '--journal', journal];
  const clean = sim(...args);
  assert.equal(clean.status, 0, clean.stderr);
  // As if an earlier build had found a violation in the first seed.
  const [head, chunk] = readFileSync(journal, 'utf8').trim().split('\n');
  const entry = JSON.parse(chunk!) as { totals: { violations: unknown[] } };
  entry.totals.violations = [{ seed: 500000, invariant: 'safety', at: 1, message: 'found by an earlier build' }];
  writeFileSync(journal, `${head}\n${JSON.stringify(entry)}\n`);
  const again = sim(...args);
  assert.equal(again.status, 3, again.stdout + again.stderr);
  assert.match(again.stdout, /seed 500000 \(safety\): recorded in the run, does not fail on this build/);
  assert.doesNotMatch(again.stdout, /shrinking/);
});
