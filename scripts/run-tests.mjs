// The whole test suite (npm test, after the build): every dist/test file in a child process of
// its own, three at a time. One lane starts with the simulator's files (pure CPU, no sockets,
// about 12 minutes in CI) and then helps the other two, which take everything else (real
// namespaces, daemons and packages: mostly waiting on timers, so two of them fit beside the
// simulator on 2 cores). Namespaces carry a random tag per LAN (src/lib/netns.ts), so files never
// collide. Each file's TAP report is printed whole when it ends, so lanes never interleave.
//
//   node scripts/run-tests.mjs [--lanes N] [path-fragment ...]   (fragments pick files by path)
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
let lanes = 3;
const picks = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--lanes') {
    lanes = Number(args[++i]);
    if (!Number.isInteger(lanes) || lanes < 1 || lanes > 16) usage(`--lanes wants a whole number from 1 to 16, not ${JSON.stringify(args[i])}`);
  } else if (args[i].startsWith('-')) usage(`unknown option ${args[i]}`);
  else picks.push(args[i]);
}

function usage(why) {
  console.error(`run-tests: ${why}\nusage: node scripts/run-tests.mjs [--lanes N] [path-fragment ...]`);
  process.exit(2);
}

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return testFiles(p);
    return e.name.endsWith('.test.js') ? [p] : [];
  });
}

// The long namespace files first (the suite's wall time is at least its longest file), in
// directories whose files are known to be long; then the rest, alphabetically.
const SLOW_FIRST = ['dist/test/nemesis/', 'dist/test/package/', 'dist/test/interop/', 'dist/test/cli/', 'dist/test/failover/'];
const rank = (f) => {
  const i = SLOW_FIRST.findIndex((d) => f.startsWith(d));
  return i === -1 ? SLOW_FIRST.length : i;
};
const all = testFiles('dist/test').filter((f) => picks.length === 0 || picks.some((p) => f.includes(p)));
if (all.length === 0) usage(`no test file under dist/test matches ${picks.join(' ')} (run npm run build first?)`);
const sim = all.filter((f) => f.startsWith('dist/test/sim/')).sort();
const rest = all.filter((f) => !f.startsWith('dist/test/sim/')).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));

const results = [];
const running = new Set();
const started = Date.now();

function runFile(file) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--test', '--test-reporter=tap', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    const out = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => out.push(b));
    child.on('close', (code, signal) => {
      running.delete(child);
      const text = Buffer.concat(out).toString();
      const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      const r = { file, ms: Date.now() - t0, ok: code === 0, exit: signal ?? code, pass: count('pass'), fail: count('fail'), skipped: count('skipped'), todo: count('todo'), cancelled: count('cancelled') };
      results.push(r);
      process.stdout.write(`# ==== ${file}: ${r.ok ? 'ok' : `FAILED (exit ${r.exit})`} in ${(r.ms / 1000).toFixed(1)} s\n${text}`);
      resolve();
    });
  });
}

async function lane(queues) {
  for (const q of queues) {
    for (let file = q.shift(); file !== undefined; file = q.shift()) await runFile(file);
  }
}

// Ctrl-C or a CI timeout: no file starts any more, and the running ones get the signal too.
// (node:test then exits without the tests' finally blocks: the LANs and loopback clusters a file
// made are removed by their exit hooks, src/lib/netns.ts and test/helpers/local-cluster.ts.)
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    sim.length = 0;
    rest.length = 0;
    for (const c of running) c.kill(sig);
    process.exitCode = 130;
  });
}

const laneRuns = [lane([sim, rest])];
for (let i = 1; i < lanes; i++) laneRuns.push(lane([rest, sim]));
await Promise.all(laneRuns);

const sum = (k) => results.reduce((n, r) => n + r[k], 0);
const failed = results.filter((r) => !r.ok);
const slowest = [...results].sort((a, b) => b.ms - a.ms).slice(0, 8);
console.log(`# ==== suite: ${results.length} files in ${lanes} lanes, ${((Date.now() - started) / 1000).toFixed(0)} s wall`);
console.log(`# slowest: ${slowest.map((r) => `${r.file.replace('dist/test/', '')} ${(r.ms / 1000).toFixed(0)} s`).join(', ')}`);
console.log(`# tests ${sum('pass') + sum('fail') + sum('skipped') + sum('todo') + sum('cancelled')}`);
for (const k of ['pass', 'fail', 'skipped', 'todo', 'cancelled']) console.log(`# ${k} ${sum(k)}`);
for (const r of failed) console.log(`# FAILED ${r.file} (exit ${r.exit})`);
if (failed.length > 0 || process.exitCode) process.exitCode ||= 1;
