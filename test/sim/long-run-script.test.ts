// scripts/sim-long-run.mjs keeps the long simulator run in the checkout across sessions: it
// must refuse to add to a journal from a build whose simulator differs, record the build when
// a run starts, and pass the run's fixed options on. Run against a small fake checkout (a
// simulator entry that records its arguments), so this takes milliseconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const script = resolve('scripts/sim-long-run.mjs');

function fakeCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sim-long-run-'));
  mkdirSync(join(dir, 'scripts'));
  copyFileSync(script, join(dir, 'scripts/sim-long-run.mjs'));
  mkdirSync(join(dir, 'dist/src/sim'), { recursive: true });
  mkdirSync(join(dir, 'dist/src/core'), { recursive: true });
  mkdirSync(join(dir, 'dist/src/media'), { recursive: true });
  // The fake simulator records where it runs from, its arguments and the rule it loaded, in the checkout (its cwd).
  writeFileSync(join(dir, 'dist/src/sim/cli.js'), "import { rule } from '../core/rule.js';\nimport { writeFileSync } from 'node:fs';\nwriteFileSync('args.json', JSON.stringify({ argv: process.argv.slice(1), rule }));\n");
  writeFileSync(join(dir, 'dist/src/core/rule.js'), 'export const rule = 1;\n');
  writeFileSync(join(dir, 'dist/src/media/udp.js'), 'export const udp = 1;\n');
  mkdirSync(join(dir, 'bench/sim-long-run'), { recursive: true });
  execFileSync('git', ['init', '-q', dir]);
  execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'fake']);
  return dir;
}

type Violation = { seed: number; invariant: string; message: string };

/** A journal of the first simulator: its chunks, each with the violations it recorded. */
function writeJournal(dir: string, chunks: { from: number; violations: Violation[] }[]): void {
  const lines = chunks.map(({ from, violations }) => JSON.stringify({ from, totals: { schedules: 1000, violations } }));
  writeFileSync(join(dir, 'bench/sim-long-run/journal.jsonl'), `{"base":1700000}\n${lines.map((l) => `${l}\n`).join('')}`);
}

/** Records carry-overs in build.json (after the first build's record), each with its evidence file. */
function carryOver(dir: string, first: Record<string, unknown>, carries: { fingerprint: string; file: string; evidence: Record<string, unknown> }[]): void {
  const carriedTo = carries.map(({ fingerprint, file, evidence }, i) => {
    writeFileSync(join(dir, 'bench/sim-long-run', file), JSON.stringify(evidence));
    return { fingerprint, commit: String(i).repeat(40), evidence: `bench/sim-long-run/${file}` };
  });
  writeFileSync(join(dir, 'bench/sim-long-run/build.json'), JSON.stringify({ ...first, carriedTo }));
}

const run = (dir: string, ...args: string[]) => spawnSync(process.execPath, [join(dir, 'scripts/sim-long-run.mjs'), ...args], { encoding: 'utf8' });

test('a new run records its build and passes the fixed options and the journal on', (t) => {
  const dir = fakeCheckout();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = run(dir, '--workers', '2');
  assert.equal(r.status, 0, r.stderr);
  const build = JSON.parse(readFileSync(join(dir, 'bench/sim-long-run/build.json'), 'utf8')) as { fingerprint: string; modules: number; commit: string };
  assert.equal(build.modules, 2, 'the entry and the core module it imports, not the unrelated media module');
  assert.match(build.commit, /^[0-9a-f]{40}$/);
  const ran = JSON.parse(readFileSync(join(dir, 'args.json'), 'utf8')) as { argv: string[]; rule: number };
  const args = ran.argv.slice(1);
  assert.ok(!ran.argv[0]!.startsWith(dir), `the simulator ran from a private copy, not ${ran.argv[0]}`);
  assert.equal(existsSync(ran.argv[0]!), false, 'and the copy is removed when it ends');
  assert.deepEqual(args.slice(args.indexOf('--schedules'), args.indexOf('--schedules') + 4), ['--schedules', '100000', '--seed', '1700000']);
  assert.equal(args[args.indexOf('--journal') + 1], join(dir, 'bench/sim-long-run/journal.jsonl'));
  assert.equal(args[args.indexOf('--workers') + 1], '2');
});

test('a change outside the simulator leaves the run going; a change inside refuses to add to it', (t) => {
  const dir = fakeCheckout();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(run(dir).status, 0);
  const before = run(dir, '--fingerprint').stdout;
  writeFileSync(join(dir, 'dist/src/media/udp.js'), 'export const udp = 2;\n');
  assert.equal(run(dir, '--fingerprint').stdout, before);
  assert.equal(run(dir).status, 0);
  writeFileSync(join(dir, 'dist/src/core/rule.js'), 'export const rule = 2;\n');
  rmSync(join(dir, 'args.json'));
  const r = run(dir);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /is not the one that wrote bench\/sim-long-run\/journal\.jsonl/);
  assert.equal(existsSync(join(dir, 'args.json')), false, 'the simulator was not started');
});

test('bad arguments and a journal of unknown build are refused with the reason', (t) => {
  const dir = fakeCheckout();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bad = run(dir, '--workers', 'lots');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--workers wants a whole number/);
  writeFileSync(join(dir, 'bench/sim-long-run/journal.jsonl'), '{}\n');
  const orphan = run(dir);
  assert.equal(orphan.status, 2);
  assert.match(orphan.stderr, /exists without bench\/sim-long-run\/build\.json/);
});

test('the simulator runs from a copy made at the start: a build in the checkout meanwhile changes nothing', (t) => {
  const dir = fakeCheckout();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Once running, the fake simulator rebuilds the checkout's core (its cwd is the checkout) and
  // only then loads its own, as a later chunk's worker loads its modules.
  writeFileSync(join(dir, 'dist/src/sim/cli.js'), "import { writeFileSync } from 'node:fs';\nwriteFileSync('dist/src/core/rule.js', 'export const rule = 2;\\n');\nconst { rule } = await import('../core/rule.js');\nwriteFileSync('args.json', JSON.stringify({ argv: process.argv.slice(1), rule }));\n");
  const r = run(dir);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(dir, 'dist/src/core/rule.js'), 'utf8'), 'export const rule = 2;\n', 'the checkout was rebuilt meanwhile');
  const ran = JSON.parse(readFileSync(join(dir, 'args.json'), 'utf8')) as { rule: number };
  assert.equal(ran.rule, 1, 'the rule of the build the run vouches for, not the one built during it');
});

test('a run carried over to a later simulator by a recorded decision resumes on that one alone, and names the violations it superseded', (t) => {
  const dir = fakeCheckout();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(run(dir).status, 0);
  const first = JSON.parse(readFileSync(join(dir, 'bench/sim-long-run/build.json'), 'utf8')) as Record<string, unknown>;
  // A chunk of the first simulator with a violation in a seed its fix touched.
  writeJournal(dir, [{ from: 1700000, violations: [{ seed: 1700042, invariant: 'no-flap', message: 'a world bug' }] }]);
  writeFileSync(join(dir, 'dist/src/core/rule.js'), 'export const rule = 2;\n');
  assert.equal(run(dir).status, 2, 'a changed simulator without a decision is refused');
  const later = run(dir, '--fingerprint').stdout.split(' ')[0]!;
  carryOver(dir, first, [{ fingerprint: later, file: 'evidence.json', evidence: { bootedTwice: [1700042, 1700077], rerunHere: { schedules: 2, violations: [] } } }]);
  const r = run(dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /seed 1700042 \(no-flap\) is superseded: run again whole on a simulator the run was carried over to, without a violation \(bench\/sim-long-run\/evidence\.json\)/);
  writeFileSync(join(dir, 'dist/src/core/rule.js'), 'export const rule = 1;\n');
  const back = run(dir);
  assert.equal(back.status, 2, 'the first simulator adds nothing once the run is carried over');
  assert.match(back.stderr, new RegExp(`is not the one that wrote bench/sim-long-run/journal\\.jsonl \\(${later}`));
});

test('a second carry-over resumes on the newest simulator alone; each violation is named with the evidence that superseded it', (t) => {
  const dir = fakeCheckout();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(run(dir).status, 0);
  const first = JSON.parse(readFileSync(join(dir, 'bench/sim-long-run/build.json'), 'utf8')) as Record<string, unknown>;
  const worldBug = { seed: 1700042, invariant: 'no-flap', message: 'a world bug' };
  const checkerBug = { seed: 1701005, invariant: 'safety', message: 'a checker bug' };
  const real = { seed: 1701009, invariant: 'safety', message: 'not explained' };
  writeJournal(dir, [
    { from: 1700000, violations: [worldBug] },
    { from: 1701000, violations: [checkerBug, real] },
  ]);
  const prints: string[] = [];
  for (const rule of [2, 3]) {
    writeFileSync(join(dir, 'dist/src/core/rule.js'), `export const rule = ${rule};\n`);
    prints.push(run(dir, '--fingerprint').stdout.split(' ')[0]!);
  }
  carryOver(dir, first, [
    { fingerprint: prints[0]!, file: 'boot.json', evidence: { bootedTwice: [1700042], rerunHere: { schedules: 1, violations: [] } } },
    // The second evidence ran the checker bug's seed and the other one again: one still fails.
    { fingerprint: prints[1]!, file: 'swap.json', evidence: { rerunWhole: [1701005, 1701009], rerunHere: { schedules: 2, violations: [real] } } },
  ]);
  const r = run(dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /seed 1700042 \(no-flap\) is superseded: .*\(bench\/sim-long-run\/boot\.json\)/);
  assert.match(r.stderr, /seed 1701005 \(safety\) is superseded: .*\(bench\/sim-long-run\/swap\.json\)/);
  assert.doesNotMatch(r.stderr, /seed 1701009/, 'a violation the rerun still found is not superseded');
  writeFileSync(join(dir, 'dist/src/core/rule.js'), 'export const rule = 2;\n');
  const back = run(dir);
  assert.equal(back.status, 2, 'the simulator of the first carry-over adds nothing after the second');
  assert.match(back.stderr, new RegExp(`is not the one that wrote bench/sim-long-run/journal\\.jsonl \\(${prints[1]}`));
});

test('a finished run whose recorded violations no longer fail here passes only if carry-over evidence explains each', (t) => {
  const dir = fakeCheckout();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The simulator's exit status 3: every violation the journal records no longer fails on this build.
  writeFileSync(join(dir, 'dist/src/sim/cli.js'), "import { rule } from '../core/rule.js';\nprocess.exitCode = rule === 2 ? 3 : 0;\n");
  assert.equal(run(dir).status, 0);
  const first = JSON.parse(readFileSync(join(dir, 'bench/sim-long-run/build.json'), 'utf8')) as Record<string, unknown>;
  const explained = { seed: 1700042, invariant: 'no-flap', message: 'a world bug' };
  const unexplained = { seed: 1700077, invariant: 'safety', message: 'went away' };
  writeJournal(dir, [{ from: 1700000, violations: [explained, unexplained] }]);
  writeFileSync(join(dir, 'dist/src/core/rule.js'), 'export const rule = 2;\n');
  const later = run(dir, '--fingerprint').stdout.split(' ')[0]!;
  const carry = (rerunWhole: number[]) =>
    carryOver(dir, first, [{ fingerprint: later, file: 'evidence.json', evidence: { rerunWhole, rerunHere: { schedules: rerunWhole.length, violations: [] } } }]);
  carry([1700042]);
  const half = run(dir);
  assert.equal(half.status, 1, half.stderr);
  assert.match(half.stderr, /seed 1700077 \(safety\) no longer fails on this build, and no carry-over's evidence says why/);
  assert.doesNotMatch(half.stderr, /seed 1700042 \(no-flap\) no longer fails/);
  carry([1700042, 1700077]);
  const whole = run(dir);
  assert.equal(whole.status, 0, whole.stderr);
});
