#!/usr/bin/env node
// npm run sim -- --schedules N [--seed S] [--nodes K] [--workers W] [--journal FILE]
//   Runs N seeded schedules (seeds S, S+1, ...) of the deterministic simulator against the
//   real core, on W worker threads; a progress line on stderr, a summary on stdout. A failing
//   seed is shrunk and printed with its trace and the command that replays it. --journal
//   records each finished chunk of 1000 seeds; the same command resumes a stopped run.
// npm run sim -- --seed S [--keep i,j,...|none] [--until MS] [--trace]
//   Replays one schedule exactly (the shrunk one with --keep/--until).
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { INVARIANTS } from './invariants.js';
import { CHUNK, Journal } from './journal.js';
import { failureReport, replayCommand, runSeed, scheduleOf, Totals, type Reduction, type SimOptions } from './run.js';
import { describeFault } from './schedule.js';
import { runSchedule } from './world.js';

interface Args {
  schedules: number | null;
  seed: number | null;
  nodes?: number;
  workers: number;
  keep: number[] | null;
  /** Where finished chunks of seeds are recorded, so a stopped run resumes (--journal). */
  journal?: string;
  until?: number;
  trace: boolean;
  window?: [number, number];
  maxFaults?: number;
  /** Probability (percent) of reload faults in a schedule. */
  reloads?: number;
  /** Probability (percent) of monitored groups and monitor faults in a schedule. */
  monitors?: number;
  /** Probability (percent) of a witness in a 2-node schedule. */
  witness?: number;
  /** Probability (percent) of fence devices in a schedule. */
  fencing?: number;
  /** Probability (percent) of ping nodes (ipfail on) and ping-node losses in a schedule. */
  ping?: number;
  /** Probability (percent) of the etcd arbiter and its faults in a schedule. */
  arbiter?: number;
  /** Probability (percent) of a crash-looping preferred node in a schedule. */
  crashLoops?: number;
  shrinkBudget: number;
}

/** The options that give the percentage of schedules with a kind of fault or part, by flag. */
const PERCENT_FLAGS: Record<string, 'reloads' | 'monitors' | 'witness' | 'fencing' | 'ping' | 'arbiter' | 'crashLoops'> = {
  '--reloads': 'reloads',
  '--monitors': 'monitors',
  '--witness': 'witness',
  '--fencing': 'fencing',
  '--ping': 'ping',
  '--arbiter': 'arbiter',
  '--crash-loops': 'crashLoops',
};

const USAGE = `usage: npm run sim -- [--schedules N] [--seed S] [--nodes 2..7] [--workers W] [--journal FILE]
                      [--window MIN_MS,MAX_MS] [--max-faults N] [--reloads PERCENT] [--monitors PERCENT]
                      [--witness PERCENT] [--fencing PERCENT] [--ping PERCENT] [--arbiter PERCENT] [--crash-loops PERCENT]
                      [--shrink-budget RUNS]
       npm run sim -- --seed S [--keep i,j,...|none] [--until MS] [--trace]
exit status: 0 no violation; 1 a violation (the first shrunk); 2 bad arguments; 3 a --journal
             run whose recorded violations all no longer fail on this build`;

function parse(argv: string[]): Args {
  const a: Args = { schedules: null, seed: null, workers: Math.max(1, availableParallelism()), keep: null, trace: false, shrinkBudget: 300 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${k} needs a value\n${USAGE}`);
      return x;
    };
    const num = (x: string): number => {
      const n = Number(x);
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${k}: "${x}" is not a whole number\n${USAGE}`);
      return n;
    };
    const percent = PERCENT_FLAGS[k];
    if (percent) {
      const n = num(v());
      if (n > 100) throw new Error(`${k}: a percentage, 0..100, not ${n}`);
      a[percent] = n;
      continue;
    }
    switch (k) {
      case '--schedules':
        a.schedules = num(v());
        break;
      case '--seed':
        a.seed = num(v());
        break;
      case '--nodes':
        a.nodes = num(v());
        if (a.nodes < 2 || a.nodes > 7) throw new Error(`--nodes: 2..7, not ${a.nodes}`);
        break;
      case '--workers':
        a.workers = Math.max(1, num(v()));
        break;
      case '--keep': {
        const x = v();
        a.keep = x === 'none' ? [] : x.split(',').map(num);
        break;
      }
      case '--until':
        a.until = num(v());
        break;
      case '--journal':
        a.journal = v();
        break;
      case '--trace':
        a.trace = true;
        break;
      case '--window': {
        const [lo, hi] = v().split(',').map(num);
        if (lo === undefined || hi === undefined || hi < lo) throw new Error(`--window: MIN_MS,MAX_MS\n${USAGE}`);
        a.window = [lo, hi];
        break;
      }
      case '--max-faults':
        a.maxFaults = num(v());
        break;
      case '--shrink-budget':
        a.shrinkBudget = num(v());
        break;
      case '-h':
      case '--help':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${k}\n${USAGE}`);
    }
  }
  return a;
}

function optionsOf(a: Pick<Args, 'nodes' | 'window' | 'maxFaults' | 'reloads' | 'monitors' | 'witness' | 'fencing' | 'ping' | 'arbiter' | 'crashLoops'>): SimOptions {
  return {
    ...(a.nodes !== undefined ? { nodes: a.nodes } : {}),
    ...(a.window ? { faultWindowMs: a.window } : {}),
    ...(a.maxFaults !== undefined ? { maxFaults: a.maxFaults } : {}),
    ...(a.reloads !== undefined ? { reloads: a.reloads / 100 } : {}),
    ...(a.monitors !== undefined ? { monitors: a.monitors / 100 } : {}),
    ...(a.witness !== undefined ? { witness: a.witness / 100 } : {}),
    ...(a.fencing !== undefined ? { fencing: a.fencing / 100 } : {}),
    ...(a.ping !== undefined ? { ping: a.ping / 100 } : {}),
    ...(a.arbiter !== undefined ? { arbiter: a.arbiter / 100 } : {}),
    ...(a.crashLoops !== undefined ? { crashLoops: a.crashLoops / 100 } : {}),
  };
}

// ---- worker ----------------------------------------------------------------------------

interface Job {
  from: number;
  count: number;
  stride: number;
  opts: Pick<Args, 'nodes' | 'window' | 'maxFaults' | 'reloads' | 'monitors' | 'witness' | 'fencing' | 'ping' | 'arbiter' | 'crashLoops'>;
}

if (!isMainThread) {
  const job = workerData as Job;
  const opts = optionsOf(job.opts);
  let batch = new Totals();
  let last = Date.now();
  for (let k = 0; k < job.count; k++) {
    const seed = job.from + k * job.stride;
    const schedule = scheduleOf(seed, opts);
    batch.add(runSchedule(schedule), schedule.config.nodes.length);
    if (Date.now() - last > 500 || k === job.count - 1) {
      parentPort!.postMessage(batch);
      batch = new Totals();
      last = Date.now();
    }
  }
} else {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  });
}

// ---- main ------------------------------------------------------------------------------

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  const opts = optionsOf(a);
  if (a.seed !== null && (a.schedules === null || a.keep !== null || a.until !== undefined || a.trace)) return replay(a, a.seed, opts);
  const schedules = a.schedules ?? 1000;
  const base = a.seed ?? Date.now() % 1_000_000_000;
  process.stderr.write(`sim: ${schedules} schedules, seeds ${base}..${base + schedules - 1}${a.nodes ? `, ${a.nodes} nodes` : ', 2..7 nodes'}, ${Math.min(a.workers, schedules)} worker(s)\n`);
  const totals = new Totals();
  const t0 = Date.now();
  let ranHere = 0;
  let lastLine = 0;
  const progress = (force = false) => {
    const now = Date.now();
    if (!force && now - lastLine < 1000) return;
    lastLine = now;
    const rate = ranHere / Math.max(0.001, (now - t0) / 1000);
    const eta = rate > 0 ? (schedules - totals.schedules) / rate : 0;
    const line = `schedules ${totals.schedules}/${schedules}  simulated ${(totals.simulatedMs / 3.6e6).toFixed(1)} h  violations ${totals.violations.length}  ${rate.toFixed(0)}/s  eta ${fmt(eta)}`;
    process.stderr.write(process.stderr.isTTY ? `\r${line}   ` : `${line}\n`);
  };
  const jobOpts: Job['opts'] = { ...(a.nodes !== undefined ? { nodes: a.nodes } : {}), ...(a.window ? { window: a.window } : {}), ...(a.maxFaults !== undefined ? { maxFaults: a.maxFaults } : {}), ...(a.reloads !== undefined ? { reloads: a.reloads } : {}), ...(a.monitors !== undefined ? { monitors: a.monitors } : {}), ...(a.witness !== undefined ? { witness: a.witness } : {}), ...(a.fencing !== undefined ? { fencing: a.fencing } : {}), ...(a.ping !== undefined ? { ping: a.ping } : {}), ...(a.arbiter !== undefined ? { arbiter: a.arbiter } : {}), ...(a.crashLoops !== undefined ? { crashLoops: a.crashLoops } : {}) };
  /** Seeds [from, from + count) on the worker threads; their totals as they come in. */
  const runChunk = (from: number, count: number): Promise<Totals> => {
    const chunk = new Totals();
    const workers = Math.min(a.workers, count);
    return Promise.all(
      Array.from({ length: workers }, (_, w) => {
        const job: Job = { from: from + w, count: Math.floor(count / workers) + (w < count % workers ? 1 : 0), stride: workers, opts: jobOpts };
        return new Promise<void>((resolve, reject) => {
          const worker = new Worker(new URL(import.meta.url), { workerData: job });
          worker.on('message', (m: Totals) => {
            const t = Object.assign(new Totals(), m);
            chunk.merge(t);
            totals.merge(t);
            ranHere += t.schedules;
            for (const v of t.violations) process.stderr.write(`violation: seed ${v.seed}: ${v.invariant}: ${v.message}\n`);
            progress();
          });
          worker.on('error', reject);
          worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker ${w} exited with ${code}`))));
        });
      }),
    ).then(() => chunk);
  };
  // In chunks of seeds: with --journal each finished chunk is written down, and the same
  // command run again skips it, so a run of hours survives a stopped session.
  const journal = a.journal ? new Journal(a.journal, JSON.stringify({ base, schedules, ...jobOpts })) : null;
  const done = journal?.resume(totals) ?? new Set<number>();
  if (done.size) process.stderr.write(`sim: resuming; ${totals.schedules} schedules already in ${a.journal}\n`);
  for (let from = base; from < base + schedules; from += CHUNK) {
    if (done.has(from)) continue;
    const chunk = await runChunk(from, Math.min(CHUNK, base + schedules - from));
    journal?.record(from, chunk);
  }
  progress(true);
  if (process.stderr.isTTY) process.stderr.write('\n');
  const wallS = (Date.now() - t0) / 1000;
  process.stdout.write(summary(totals, base, schedules, wallS, a));
  if (totals.violations.length > 0) {
    // A resumed journal holds violations an earlier build found: replay each on this one, and
    // shrink the first that still fails here (one that no longer does cannot be shrunk).
    const recorded = [...totals.violations].sort((x, y) => x.seed - y.seed);
    const gone = recorded.filter((v) => runSeed(v.seed, opts).violation === null);
    for (const v of gone) process.stdout.write(`\nseed ${v.seed} (${v.invariant}): recorded in the run, does not fail on this build\n`);
    const first = recorded.find((v) => !gone.includes(v));
    if (first) {
      process.stdout.write(`\nFirst failing seed ${first.seed}: shrinking...\n`);
      process.stdout.write(`${failureReport(first.seed, opts, a.shrinkBudget)}\n`);
      process.exitCode = 1;
    } else process.exitCode = 3;
  }
}

function replay(a: Args, seed: number, opts: SimOptions): void {
  const reduction: Reduction | undefined = a.keep !== null ? { keep: a.keep, ...(a.until !== undefined ? { untilMs: a.until } : {}) } : a.until !== undefined ? { keep: scheduleOf(seed, opts).faults.map((_, i) => i), untilMs: a.until } : undefined;
  const schedule = scheduleOf(seed, opts, reduction);
  const r = runSeed(seed, opts, reduction, true);
  const c = schedule.config;
  const out = [
    `seed ${seed}${reduction ? ` (${schedule.faults.length} faults kept)` : ''}: ${replayCommand(seed, opts, reduction)}`,
    `cluster: ${c.nodes.length} nodes, links [${c.links.join(', ')}], keepalive ${c.timers.keepaliveMs} ms, deadtime ${c.timers.deadtimeMs} ms, auto_failback ${c.autoFailback}, ${c.durationMs} ms simulated`,
    `groups: ${c.groups.map((g) => `"${g.id}"`).join('; ')}`,
    'faults:',
    ...schedule.faults.map((f, i) => `  [${i}] at ${f.at} ms: ${describeFault(f)}`),
  ];
  if (a.trace || r.violation) out.push('trace:', ...r.trace.map((l) => `  ${l}`));
  out.push(r.violation ? `VIOLATION of ${r.violation.invariant} at ${r.violation.at.toFixed(1)} ms: ${r.violation.message}\n  (${INVARIANTS[r.violation.invariant]})` : 'no violation');
  if (r.violation && !reduction) out.push(`\nshrinking...\n${failureReport(seed, opts, a.shrinkBudget)}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (r.violation) process.exitCode = 1;
}

function fmt(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

function summary(t: Totals, base: number, schedules: number, wallS: number, a: Args): string {
  const row = (k: string, v: string | number) => `  ${k.padEnd(44)} ${String(v).padStart(14)}\n`;
  let s = `\nsimulation summary (npm run sim -- --schedules ${schedules} --seed ${base}${a.nodes ? ` --nodes ${a.nodes}` : ''})\n`;
  s += row('schedules', t.schedules);
  s += row('nodes per schedule', Object.entries(t.nodes).map(([k, v]) => `${k}:${v}`).join(' '));
  s += row('simulated time (hours)', (t.simulatedMs / 3.6e6).toFixed(1));
  s += row('core steps', t.steps);
  s += row('wall time (s)', wallS.toFixed(1));
  s += ' faults injected\n';
  for (const [k, v] of Object.entries(t.faults).sort()) s += row(`  ${k}`, v);
  s += ' double ownerships excused (pause: frozen VM; stop-failed: needs fencing)\n';
  if (Object.keys(t.excused).length === 0) s += row('  (none)', 0);
  for (const [k, v] of Object.entries(t.excused).sort()) s += row(`  ${k}`, v);
  s += ' checks applied\n';
  for (const [k, v] of Object.entries(t.checked).sort()) s += row(`  ${k}`, v);
  s += row('violations', t.violations.length);
  const by: Record<string, number> = {};
  for (const v of t.violations) by[v.invariant] = (by[v.invariant] ?? 0) + 1;
  for (const [k, v] of Object.entries(by)) s += row(`  ${k}`, v);
  for (const v of t.violations.slice(0, 10)) s += `  seed ${v.seed}: ${v.invariant}: ${v.message}\n`;
  return s;
}
