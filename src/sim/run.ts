// Running schedules: one seed, many seeds, shrinking a failing one, and the report that
// names the seed (and the faults kept) so the failure replays exactly.
import { describeFault, generateSchedule, restrict, type FaultKind, type GenerateOptions, type Schedule } from './schedule.js';
import { runSchedule, type Core, type RunResult } from './world.js';

export interface SimOptions extends GenerateOptions {
  core?: Core;
}

/** The faults a shrunk schedule keeps, and where it ends. */
export interface Reduction {
  keep: number[];
  untilMs?: number;
}

export function scheduleOf(seed: number, opts: SimOptions = {}, reduction?: Reduction): Schedule {
  const full = generateSchedule(seed, opts);
  return reduction ? restrict(full, reduction.keep, reduction.untilMs) : full;
}

export function runSeed(seed: number, opts: SimOptions = {}, reduction?: Reduction, trace = false): RunResult {
  return runSchedule(scheduleOf(seed, opts, reduction), { ...(opts.core ? { core: opts.core } : {}), trace });
}

/**
 * Delta debugging (ddmin) over the fault list of a failing seed: the smallest subset found
 * that still fails (with any violation of the same invariant), then the end cut to just
 * after the violation. At most `budget` runs.
 */
export function shrink(seed: number, opts: SimOptions = {}, budget = 300): { reduction: Reduction; result: RunResult } {
  const full = generateSchedule(seed, opts);
  const first = runSeed(seed, opts);
  if (!first.violation) throw new Error(`seed ${seed} does not fail`);
  const invariant = first.violation.invariant;
  let runs = 0;
  let best: { keep: number[]; result: RunResult } = { keep: full.faults.map((_, i) => i), result: first };
  const fails = (keep: number[]): RunResult | null => {
    runs += 1;
    const r = runSeed(seed, opts, { keep });
    return r.violation?.invariant === invariant ? r : null;
  };
  let keep = best.keep;
  let n = 2;
  while (keep.length >= 2 && runs < budget) {
    const size = Math.ceil(keep.length / n);
    let reduced = false;
    for (let i = 0; i < n && runs < budget; i++) {
      const chunk = keep.slice(i * size, (i + 1) * size);
      const rest = keep.filter((x) => !chunk.includes(x));
      // Try the complement first (removes the most), then the chunk alone.
      for (const cand of [rest, chunk]) {
        if (cand.length === 0 || cand.length === keep.length) continue;
        const r = fails(cand);
        if (r) {
          keep = cand;
          best = { keep, result: r };
          n = Math.max(n - 1, 2);
          reduced = true;
          break;
        }
      }
      if (reduced) break;
    }
    if (!reduced) {
      if (n >= keep.length) break;
      n = Math.min(keep.length, n * 2);
    }
  }
  if (keep.length === 1 && runs < budget) {
    const r = fails([]);
    if (r) best = { keep: [], result: r };
  }
  // Cut the tail: nothing after the violation matters.
  const untilMs = Math.ceil(best.result.violation!.at) + 1;
  const cut = runSeed(seed, opts, { keep: best.keep, untilMs });
  if (cut.violation?.invariant === invariant) return { reduction: { keep: best.keep, untilMs }, result: cut };
  return { reduction: { keep: best.keep }, result: best.result };
}

/** The command line that replays a run exactly. */
export function replayCommand(seed: number, opts: SimOptions, reduction?: Reduction): string {
  const parts = ['npm run sim --', `--seed ${seed}`];
  if (opts.nodes !== undefined) parts.push(`--nodes ${opts.nodes}`);
  if (opts.faultWindowMs) parts.push(`--window ${opts.faultWindowMs[0]},${opts.faultWindowMs[1]}`);
  if (opts.maxFaults !== undefined) parts.push(`--max-faults ${opts.maxFaults}`);
  if (opts.reloads !== undefined) parts.push(`--reloads ${Math.round(opts.reloads * 100)}`);
  if (opts.monitors !== undefined) parts.push(`--monitors ${Math.round(opts.monitors * 100)}`);
  if (opts.witness !== undefined) parts.push(`--witness ${Math.round(opts.witness * 100)}`);
  if (opts.fencing !== undefined) parts.push(`--fencing ${Math.round(opts.fencing * 100)}`);
  if (opts.ping !== undefined) parts.push(`--ping ${Math.round(opts.ping * 100)}`);
  if (opts.arbiter !== undefined) parts.push(`--arbiter ${Math.round(opts.arbiter * 100)}`);
  if (opts.crashLoops !== undefined) parts.push(`--crash-loops ${Math.round(opts.crashLoops * 100)}`);
  if (reduction) {
    parts.push(`--keep ${reduction.keep.length ? reduction.keep.join(',') : 'none'}`);
    if (reduction.untilMs !== undefined) parts.push(`--until ${reduction.untilMs}`);
  }
  return parts.join(' ');
}

/** What a person needs to see of a failure: the invariant, the seed, the schedule, the trace. */
export function failureReport(seed: number, opts: SimOptions = {}, shrinkBudget = 300, traceLines = 400): string {
  const full = generateSchedule(seed, opts);
  const { reduction } = shrink(seed, opts, shrinkBudget);
  const schedule = scheduleOf(seed, opts, reduction);
  const traced = runSeed(seed, opts, reduction, true);
  const v = traced.violation;
  const c = schedule.config;
  const lines = [
    `VIOLATION of ${v?.invariant ?? '?'} at ${v?.at.toFixed(1) ?? '?'} ms: ${v?.message ?? '(did not reproduce)'}`,
    `seed ${seed}: ${full.faults.length} faults, shrunk to ${schedule.faults.length}`,
    `replay the original: ${replayCommand(seed, opts)}`,
    `replay the shrunk:   ${replayCommand(seed, opts, reduction)}`,
    `cluster: ${c.nodes.length} nodes [${c.nodes.join(', ')}]${c.witness ? ` (witness ${c.witness})` : ''}, links [${c.links.join(', ')}], keepalive ${c.timers.keepaliveMs} ms, deadtime ${c.timers.deadtimeMs} ms, auto_failback ${c.autoFailback}, boots at [${c.bootAt.join(', ')}] ms, ${c.durationMs} ms`,
    `groups: ${c.groups.map((g) => `"${g.id}"`).join('; ')}`,
    `agent calls ${c.agent.minMs}..${c.agent.maxMs} ms, timeouts ${c.agent.timeoutMs.start} ms; network delay ${c.net.minMs.toFixed(2)}..${c.net.maxMs.toFixed(2)} ms`,
    ...(c.arbiter ? [`etcd arbiter: TTL ${c.arbiter.ttlMs} ms, stop time ${c.arbiter.stopMs} ms, etcd latency ${c.arbiter.minMs.toFixed(2)}..${c.arbiter.maxMs.toFixed(2)} ms each way`] : []),
    'faults kept:',
    ...schedule.faults.map((f) => `  at ${f.at} ms: ${describeFault(f)}`),
    `trace (last ${traceLines} lines):`,
    ...traced.trace.slice(-traceLines).map((l) => `  ${l}`),
  ];
  return lines.join('\n');
}

/** Running totals over many runs, for the summary. */
export class Totals {
  schedules = 0;
  simulatedMs = 0;
  steps = 0;
  readonly faults: Record<string, number> = {};
  readonly excused: Record<string, number> = {};
  readonly checked: Record<string, number> = {};
  readonly nodes: Record<number, number> = {};
  readonly violations: { seed: number; invariant: string; message: string }[] = [];

  add(r: RunResult, nodeCount: number): void {
    this.schedules += 1;
    this.simulatedMs += r.simulatedMs;
    this.steps += r.steps;
    this.nodes[nodeCount] = (this.nodes[nodeCount] ?? 0) + 1;
    for (const [k, v] of Object.entries(r.faults)) this.faults[k] = (this.faults[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.excused)) this.excused[k] = (this.excused[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.checked)) this.checked[k] = (this.checked[k] ?? 0) + v;
    if (r.violation) this.violations.push({ seed: r.seed, invariant: r.violation.invariant, message: r.violation.message });
  }

  merge(o: Totals): void {
    this.schedules += o.schedules;
    this.simulatedMs += o.simulatedMs;
    this.steps += o.steps;
    for (const [k, v] of Object.entries(o.nodes)) this.nodes[Number(k)] = (this.nodes[Number(k)] ?? 0) + v;
    for (const [k, v] of Object.entries(o.faults)) this.faults[k] = (this.faults[k] ?? 0) + v;
    for (const [k, v] of Object.entries(o.excused)) this.excused[k] = (this.excused[k] ?? 0) + v;
    for (const [k, v] of Object.entries(o.checked)) this.checked[k] = (this.checked[k] ?? 0) + v;
    this.violations.push(...o.violations);
  }
}

export const FAULT_KINDS: (FaultKind | 'agent-fail' | 'agent-hang')[] = ['loss', 'delay', 'dup', 'partition', 'crash', 'shutdown', 'pause', 'standby', 'takeover', 'agent', 'agent-fail', 'agent-hang', 'config', 'reload'];

/** Runs seeds [from, from + count) and returns their totals. */
export function runRange(from: number, count: number, opts: SimOptions = {}, onEach?: (seed: number, r: RunResult) => void): Totals {
  const totals = new Totals();
  for (let seed = from; seed < from + count; seed++) {
    const schedule = scheduleOf(seed, opts);
    const r = runSchedule(schedule, opts.core ? { core: opts.core } : {});
    totals.add(r, schedule.config.nodes.length);
    onEach?.(seed, r);
  }
  return totals;
}
