// The long simulator run of issues 16 and 19 (100,000 schedules with every fault family), kept
// in the checkout so that it can go on across sessions and machines: its journal is
// bench/sim-long-run/journal.jsonl (one line per 1,000 seeds done) and the build it vouches
// for is bench/sim-long-run/build.json. A session ends when it ends; this command run again
// (after `npm run build`) resumes where the committed journal stops.
//
// A journal only vouches for the simulator and core that wrote it, so this refuses to add to
// it from a build whose simulator differs: the fingerprint is a hash of every compiled module
// the simulator loads (core, wire, runtime, config and sim), not of the whole checkout, so work
// on the daemon's shell (media, auth, CLI) leaves a run going.
//
//   node scripts/sim-long-run.mjs [--workers N]        (from the checkout, after npm run build)
//   node scripts/sim-long-run.mjs --fingerprint        (prints this build's fingerprint)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const dir = resolve(root, 'bench/sim-long-run');
const journal = resolve(dir, 'journal.jsonl');
const buildFile = resolve(dir, 'build.json');
const entry = resolve(root, 'dist/src/sim/cli.js');
// The run's definition: changing any of these starts another run (the journal refuses others).
const RUN = ['--schedules', '100000', '--seed', '1700000', '--witness', '30', '--fencing', '30', '--ping', '30', '--monitors', '30', '--arbiter', '20'];

function fail(why) {
  process.stderr.write(`sim-long-run: ${why}\n`);
  process.exit(2);
}

/** Every compiled module the simulator's entry loads, by static import, relative to the checkout. */
function closure(start) {
  const seen = new Set();
  const queue = [start];
  while (queue.length) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:import|export)[^'";]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) {
      queue.push(resolve(dirname(file), m[1] ?? m[2]));
    }
  }
  return [...seen].map((f) => relative(root, f)).sort();
}

function fingerprint() {
  if (!existsSync(entry)) fail(`${relative(root, entry)} is missing: run npm run build first`);
  const hash = createHash('sha256');
  const files = closure(entry);
  for (const f of files) hash.update(`${f}\0`).update(readFileSync(resolve(root, f))).update('\0');
  return { fingerprint: hash.digest('hex').slice(0, 16), modules: files.length };
}

const args = process.argv.slice(2);
let workers = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--fingerprint') {
    const f = fingerprint();
    process.stdout.write(`${f.fingerprint} (${f.modules} modules)\n`);
    process.exit(0);
  } else if (args[i] === '--workers') {
    workers = args[++i];
    if (!/^[1-9][0-9]?$/.test(workers ?? '')) fail(`--workers wants a whole number from 1 to 99, not ${JSON.stringify(workers)}`);
  } else fail(`unknown argument ${JSON.stringify(args[i])}; usage: node scripts/sim-long-run.mjs [--workers N] | --fingerprint`);
}

const mine = fingerprint();
/** build.json's carry-overs, oldest first (none for a run still on the simulator that began it). */
let carryOvers = [];
if (existsSync(buildFile)) {
  const theirs = JSON.parse(readFileSync(buildFile, 'utf8'));
  // A run is carried over to a later simulator only by a recorded decision with its evidence
  // (build.json's carriedTo, newest last): that schedules the change could alter were found and
  // run again on it, and the others run the same on both. Only the newest simulator adds to it.
  carryOvers = theirs.carriedTo ?? [];
  const carried = carryOvers.at(-1) ?? null;
  const current = carried?.fingerprint ?? theirs.fingerprint;
  if (current !== mine.fingerprint) {
    fail(
      `this build's simulator (fingerprint ${mine.fingerprint}) is not the one that wrote ${relative(root, journal)} ` +
        `(${current}, commit ${carried?.commit ?? theirs.commit}); build that commit's src/ to resume it, or move ` +
        `bench/sim-long-run/ aside to start a run that vouches for this build`,
    );
  }
} else {
  if (existsSync(journal)) fail(`${relative(root, journal)} exists without ${relative(root, buildFile)}: cannot tell which build wrote it`);
  const commit = execFileSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  writeFileSync(buildFile, `${JSON.stringify({ commit, ...mine, started: new Date().toISOString() }, null, 2)}\n`);
}

/** Every violation the journal records, from whichever build wrote it. */
function recordedViolations() {
  if (!existsSync(journal)) return [];
  const lines = readFileSync(journal, 'utf8').split('\n').filter((l) => l.startsWith('{"from"'));
  return lines.flatMap((l) => JSON.parse(l).totals.violations ?? []);
}

/**
 * Violations in the journal that a carry-over's evidence ran again, whole, on a later simulator
 * without one, each with that evidence. Every carry-over counts: a violation one carry-over
 * explained stays explained after the next. Evidence names the seeds it ran again whole
 * (`rerunWhole`; `bootedTwice` in the first one) and what that run found (`rerunHere`).
 */
function superseded() {
  const evidence = carryOvers.map((c) => {
    const e = JSON.parse(readFileSync(resolve(root, c.evidence), 'utf8'));
    return { file: c.evidence, rerun: new Set(e.rerunWhole ?? e.bootedTwice), stillBad: new Set(e.rerunHere.violations.map((w) => w.seed)) };
  });
  return recordedViolations().flatMap((v) => {
    const e = evidence.find((x) => x.rerun.has(v.seed) && !x.stillBad.has(v.seed));
    return e ? [{ ...v, evidence: e.file }] : [];
  });
}

// The simulator runs from a private copy of the modules just fingerprinted. It starts new
// worker threads for every 1,000 seeds, and they load their modules then: run from dist/, a
// build in the checkout during the run (a test, another change) became the simulator of every
// chunk after it, under the old fingerprint (it happened on 2026-12-06; no chunk was written).
const copy = mkdtempSync(join(tmpdir(), 'sim-long-run-'));
for (const f of closure(entry)) {
  mkdirSync(dirname(join(copy, f)), { recursive: true });
  copyFileSync(resolve(root, f), join(copy, f));
}
const argv = [join(copy, relative(root, entry)), ...RUN, '--journal', journal, ...(workers ? ['--workers', workers] : [])];
process.stderr.write(`sim-long-run: node ${argv.map((a) => relative(root, a) || a).join(' ')} (a copy of ${mine.modules} modules, fingerprint ${mine.fingerprint})\n`);
const child = spawn(process.execPath, argv, { cwd: root, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  rmSync(copy, { recursive: true, force: true });
  const explained = superseded();
  for (const v of explained) process.stderr.write(`sim-long-run: seed ${v.seed} (${v.invariant}) is superseded: run again whole on a simulator the run was carried over to, without a violation (${v.evidence})\n`);
  // 3: every violation in the journal no longer fails on this build. That is a pass only when
  // a carry-over's evidence explains each; one that went away unexplained is a finding.
  if (code === 3) {
    const unexplained = recordedViolations().filter((v) => !explained.some((e) => e.seed === v.seed));
    for (const v of unexplained) process.stderr.write(`sim-long-run: seed ${v.seed} (${v.invariant}) no longer fails on this build, and no carry-over's evidence says why\n`);
    process.exit(unexplained.length > 0 ? 1 : 0);
  }
  process.exit(code ?? (signal ? 1 : 0));
});
