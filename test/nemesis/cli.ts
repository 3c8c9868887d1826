#!/usr/bin/env node
// npm run nemesis -- [--schedules N] [--seed S] [--nodes 2,3,5] [--kinds K,...] [--window MS]
//                    [--max-faults N] [--keep-dir DIR] [--parallel P] [--journal FILE]
// Runs N seeded fault schedules against real hbd clusters in network namespaces (seeds S,
// S+1, ...; cluster sizes in turn from --nodes), prints a progress line per schedule on
// stderr and the summary on stdout; exits 1 when any invariant was violated.
// --parallel P runs P schedules at once, each on its own namespace LAN: they share the CPU,
// so one schedule's CPU saturation loads the others too (harsher, and less reproducible).
// Ctrl-C stops after the schedules in progress (they clean up first) and prints the summary.
// --journal FILE appends each finished schedule to FILE (JSON lines); the same command run
// again skips the schedules in it and counts them in the summary, so a run of hours survives
// a stopped session or a reboot.
// Rerun one schedule: npm run nemesis -- --seed S --nodes K --schedules 1 (with the same
// --kinds/--window/--max-faults it ran with).
import { RunJournal } from '../../src/lib/run-journal.js';
import { parseArgs } from 'node:util';
import { netnsUnavailableReason } from '../../src/lib/netns.js';
import { FAULT_KINDS, describe, scheduleOf, type FaultKind } from './schedule.js';
import { runSchedule, type RunOutcome } from './run.js';
import { Summary } from './summary.js';

const USAGE = 'usage: npm run nemesis -- [--schedules N] [--seed S] [--nodes 2,3,5] [--kinds K,...] [--window MS] [--max-faults N] [--keep-dir DIR] [--parallel P] [--journal FILE]\n';

function numbers(flag: string, text: string): number[] {
  const out = text.split(',').map((x) => Number(x.trim()));
  if (out.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`--${flag}: "${text}" is not a list of whole numbers`);
  return out;
}

async function main(argv: string[]): Promise<number> {
  let v;
  try {
    ({ values: v } = parseArgs({
      args: argv,
      options: {
        schedules: { type: 'string', default: '3' },
        seed: { type: 'string' },
        nodes: { type: 'string', default: '2,3,5' },
        kinds: { type: 'string' },
        window: { type: 'string', default: '20000' },
        'max-faults': { type: 'string', default: '4' },
        'keep-dir': { type: 'string', default: 'nemesis-runs' },
        parallel: { type: 'string', default: '1' },
        journal: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`nemesis: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const why = await netnsUnavailableReason();
  if (why) {
    process.stderr.write(`nemesis: cannot run here: ${why}\n`);
    return 2;
  }
  let schedules: number, seed: number, sizes: number[], windowMs: number, maxFaults: number, parallel: number, kinds: FaultKind[] | undefined;
  try {
    [schedules] = numbers('schedules', v.schedules!) as [number];
    [seed] = v.seed ? (numbers('seed', v.seed) as [number]) : [Date.now() % 1_000_000_000];
    sizes = numbers('nodes', v.nodes!);
    if (sizes.some((n) => n < 2 || n > 7)) throw new Error(`--nodes: cluster sizes are 2..7, not ${v.nodes}`);
    [windowMs] = numbers('window', v.window!) as [number];
    [maxFaults] = numbers('max-faults', v['max-faults']!) as [number];
    [parallel] = numbers('parallel', v.parallel!) as [number];
    if (v.kinds) {
      kinds = v.kinds.split(',') as FaultKind[];
      const bad = kinds.filter((k) => !FAULT_KINDS.includes(k));
      if (bad.length) throw new Error(`--kinds: unknown ${bad.join(', ')}; known: ${FAULT_KINDS.join(', ')}`);
    }
  } catch (err) {
    process.stderr.write(`nemesis: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const summary = new Summary();
  const started = Date.now();
  const options = JSON.stringify({ seed, schedules, sizes, windowMs, maxFaults, kinds: kinds ?? null });
  const journal = v.journal ? new RunJournal<RunOutcome>(v.journal, options) : null;
  let done: Set<number>;
  try {
    done = journal ? resume(journal, summary) : new Set();
  } catch (err) {
    process.stderr.write(`nemesis: ${(err as Error).message}\n`);
    return 2;
  }
  const record = (o: RunOutcome): void => journal?.record(o);
  // Ctrl-C (or SIGTERM) ends a long run after the schedule in progress, with its summary.
  let stopping = false;
  // A second signal does not exit at once: the runs in progress must still remove their
  // namespaces and processes (an exit here once left 16 namespaces behind).
  const stop = (): void => {
    process.stderr.write(stopping ? 'nemesis: still cleaning up the schedules in progress\n' : 'nemesis: stopping after the schedules in progress\n');
    stopping = true;
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < schedules && !stopping) {
      const i = next++;
      if (done.has(seed + i)) continue;
      const nodes = sizes[i % sizes.length]!;
      const s = scheduleOf(seed + i, { nodes, windowMs, maxFaults, ...(kinds ? { kinds } : {}) });
      const rerun = `npm run nemesis -- --seed ${s.seed} --nodes ${nodes} --schedules 1 --window ${windowMs} --max-faults ${maxFaults}${v.kinds ? ` --kinds ${v.kinds}` : ''}`;
      const elapsed = ((Date.now() - started) / 60_000).toFixed(1);
      process.stderr.write(`[${i + 1}/${schedules}, ${elapsed} min] seed ${s.seed}, ${nodes} nodes${s.redundantMedia ? ', two media' : ''}: ${s.faults.map(describe).join('; ')}\n`);
      const out = await runSchedule(s, { keepDir: v['keep-dir']!, rerun });
      summary.add(out);
      record(out);
      const r = out.result;
      const lines = [`    seed ${s.seed}: ${r.violations.length ? `VIOLATION ${r.violations.map((x) => x.invariant).join(', ')} (kept in ${out.keptIn}; rerun: ${rerun})` : 'ok'}; ${r.requests} requests, ${r.failedRequests} failed`];
      for (const x of r.violations) lines.push(`      ${x.invariant}: ${x.message}`);
      process.stderr.write(`${lines.join('\n')}\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, schedules)) }, worker));
  process.stdout.write(summary.text(Date.now() - started));
  return summary.violations > 0 ? 1 : 0;
}

/**
 * Reads a journal of an earlier part of this same run (lib/run-journal.ts): each finished
 * schedule is counted in the summary and not run again.
 */
function resume(journal: RunJournal<RunOutcome>, summary: Summary): Set<number> {
  const done = new Set<number>();
  const entries = journal.resume((line) => process.stderr.write(`nemesis: --journal line ${line}: not a whole JSON line; its schedule runs again\n`));
  for (const o of entries) {
    summary.add(o);
    done.add(o.schedule.seed);
  }
  if (done.size) process.stderr.write(`nemesis: resuming; ${done.size} schedules already in the journal\n`);
  return done;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`nemesis: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
