#!/usr/bin/env node
// Footprint at idle: resident memory and CPU share of each system's daemon (all its processes)
// on a steady two-node pair, at keepalive 1 s / deadtime 5 s and keepalive 100 ms / deadtime
// 500 ms. CPU share = CPU time (user + system, from /proc/PID/stat) used over the window,
// divided by the window: percent of one core. RSS and PSS are summed over all the daemon's
// processes on a node (hbd and its address guard; Heartbeat's master, FIFO reader, read and
// write processes; keepalived's parent and VRRP child), and shown per process.
//
// A change side by side (issue 19): `--rounds N` runs the systems one after the other, N
// times over (hbd, baseline, Heartbeat, hbd, baseline, ...), so that each sees the same load
// on a shared machine; the summary gives each system's median over rounds and nodes and its
// ratio to the first system of --systems.
//
// `--together` runs all systems at once instead, each pair on its own testbed (subnets
// --subnet, +1, +2...), measured over the same window; `--settle S` waits S s after the starts
// (default 12: the start-up announcements; hbd's JIT needs 2-3 minutes to reach its steady cost).
// `--windows N`: N windows in a row after the settle, each system's CPU in each (the JIT's
// warm-up, which at keepalive 1 s lasts far longer than at 100 ms); the table gives the last.
//
// (Pacemaker: every process of the node's stack, corosync and pacemakerd's six daemons.)
import { basename } from 'node:path';
import { runMain } from './lib/cleanup.js';
import { sleep } from '../src/lib/wait.js';
import { argvOf, mono, pss, schedOf, usage } from './lib/proc.js';
import { args, header, log, publish, table, writeRaw } from './lib/report.js';
import { FOOTPRINT_DEFAULTS } from './lib/defaults.js';
import { daemonPids, evidence, runningPids, stop, stopGently, type Running, type System, type Timers } from './lib/system.js';
import { runnableKeys, systemByKey } from './lib/system-by-key.js';
import { createTestbed, type Testbed } from './lib/testbed.js';
import { TIMER_SETS } from './lib/timers.js';
import { median } from './lib/stats.js';

/** `--help` prints this; a wrong option prints it with what is wrong (bench/lib/report.ts). */
const USAGE = `Usage: node dist/bench/footprint.js [--window 60] [--windows 1] [--settle 12] [--together] [--rounds 1]
         [--systems hbd,heartbeat,keepalived,pacemaker] [--timers slow,fast] [--subnet A.B.C]
         [--section SUFFIX] [--no-write]`;

const NODES = ['node1', 'node2'];

/** A short name for a process: its script for node, else its command name. */
function procName(pid: number): string {
  const argv = argvOf(pid);
  const script = argv.find((a) => a.endsWith('.js'));
  if (script) return basename(script, '.js');
  return (argv[0] ?? '?').split('/').pop()!.replace(/:$/, '');
}

interface Row {
  round: number;
  key: string;
  system: string;
  timers: string;
  node: string;
  processes: number;
  cpuPct: number;
  /** CPU of children that exited during the window (a resource agent's monitor runs). */
  childCpuPct: number;
  rssMiB: number;
  pssMiB: number;
  sched: string;
  /** The node's lines declaring its peer dead during the window (a steady pair should have none). */
  falseAlarms: number;
  /** Each process: its name, RSS and PSS (MiB), largest first. */
  perProcess: string;
}

/** One system's CPU (median of its nodes) in one of several windows in a row. */
interface WindowCpu {
  system: string;
  timers: string;
  /** Minutes since node1's daemon started, at the window's start and end. */
  fromMin: number;
  toMin: number;
  cpuPct: number;
}

/** One system on its own testbed, with its daemons once started. */
interface Run {
  key: string;
  sys: System;
  tb: Testbed;
  d: Record<string, Running>;
}

/**
 * Measures these systems at the same time (each on its own testbed): all started, each steady,
 * then `settleS` after the last start (JIT warm-up, start-up announcements), one window for all.
 */
async function measure(runs: Run[], timers: Timers & { label: string }, windowS: number, settleS: number, round: number, rows: Row[], ev: string[], windows = 1, byAge: WindowCpu[] = []): Promise<void> {
  try {
    for (const r of runs) {
      await r.sys.prepare(r.tb, { nodes: NODES, timers });
      for (const n of NODES) await r.tb.dropVip(n);
      for (const n of NODES) r.d[n] = r.sys.start(r.tb, n);
    }
    await Promise.all(runs.map(async (r) => {
      if (!(await r.tb.probe.steady('node1', 3000, 120_000))) throw new Error(`${r.sys.label}: never steady`);
    }));
    const age = Math.min(...runs.map((r) => mono() - r.d.node1!.startedAt));
    if (age < settleS * 1000) await sleep(settleS * 1000 - age);
    // Every window but the last is only its CPU by age; the last is measured whole below.
    for (let w = 1; w < windows; w++) {
      const before = runs.map((r) => NODES.map((n) => usage(daemonPids(r.d[n]!)).cpuMs));
      const start = mono();
      await sleep(windowS * 1000);
      windowCpu(runs, before, start, timers.label, byAge);
    }
    const u0 = runs.map((r) => NODES.map((n) => usage(runningPids(r.d[n]!, r.sys.label))));
    const linesAt = runs.map((r) => NODES.map((n) => r.d[n]!.lines.length));
    const t0 = mono();
    await sleep(windowS * 1000);
    if (windows > 1) windowCpu(runs, u0.map((us) => us.map((u) => u.cpuMs)), t0, timers.label, byAge);
    const dt = mono() - t0;
    for (const [k, r] of runs.entries()) {
      for (const [i, n] of NODES.entries()) {
        const pids = runningPids(r.d[n]!, r.sys.label);
        const u1 = usage(pids);
        const each = pids
          .map((p) => ({ name: procName(p), rss: usage([p]).rssKiB / 1024, pss: pss([p]) / 1024 }))
          .filter((x) => x.rss > 0)
          .sort((x, y) => y.rss - x.rss)
          .map((x) => `${x.name} ${x.rss.toFixed(1)} / ${x.pss.toFixed(1)}`)
          .join(', ');
        rows.push({ round, key: r.key, system: r.sys.label, timers: timers.label, node: n === 'node1' ? 'node1 (owner)' : 'node2 (standby)', processes: u1.count, cpuPct: ((u1.cpuMs - u0[k]![i]!.cpuMs) / dt) * 100, childCpuPct: ((u1.childCpuMs - u0[k]![i]!.childCpuMs) / dt) * 100, rssMiB: u1.rssKiB / 1024, pssMiB: pss(pids) / 1024, sched: schedOf(r.d[n]!.pid), falseAlarms: r.d[n]!.lines.slice(linesAt[k]![i]).filter((l) => r.sys.falseAlarm(l.text, n)).length, perProcess: each });
      }
      ev.push(`${r.sys.label} @ ${timers.label}: ${evidence(r.d.node1!)}`);
      const two = rows.slice(-2);
      log(`  ${r.sys.label}: CPU ${two.map((x) => x.cpuPct.toFixed(3)).join(' / ')} %, RSS ${two.map((x) => x.rssMiB.toFixed(1)).join(' / ')} MiB`);
    }
  } finally {
    for (const r of runs) {
      // Profiling (HBD_NODE_ARGS="--cpu-prof ..."): hbd writes its profile only on a clean exit.
      if (process.env.HBD_NODE_ARGS) for (const n of NODES) if (r.d[n]) await stopGently(r.d[n]!);
      for (const n of NODES) if (r.d[n]) await stop(r.d[n]!);
      for (const n of NODES) await r.tb.dropVip(n);
    }
  }
}

/** Each system's CPU since `before` (per node, at `start`): one row of the by-age table, logged too. */
function windowCpu(runs: Run[], before: number[][], start: number, timers: string, byAge: WindowCpu[]): void {
  const end = mono();
  for (const [k, r] of runs.entries()) {
    const pct = NODES.map((n, i) => ((usage(daemonPids(r.d[n]!)).cpuMs - before[k]![i]!) / (end - start)) * 100);
    const born = r.d.node1!.startedAt;
    const row = { system: r.sys.label, timers, fromMin: (start - born) / 60_000, toMin: (end - born) / 60_000, cpuPct: median(pct) };
    byAge.push(row);
    log(`  ${row.system}, minutes ${row.fromMin.toFixed(1)}–${row.toMin.toFixed(1)}: CPU ${pct.map((x) => x.toFixed(3)).join(' / ')} %`);
  }
}

/** The CPU of every window, a column per system, with each system's ratio to the first. */
function byAgeTable(byAge: WindowCpu[], timerLabels: string[]): string {
  const systems = [...new Set(byAge.map((x) => x.system))];
  const out: string[][] = [];
  for (const timers of timerLabels) {
    const rows = byAge.filter((x) => x.timers === timers);
    for (let i = 0; i < rows.length; i += systems.length) {
      const w = rows.slice(i, i + systems.length);
      const first = w[0]!.cpuPct;
      out.push([timers, `${w[0]!.fromMin.toFixed(1)}–${w[0]!.toMin.toFixed(1)}`, ...w.map((x, j) => (j === 0 ? x.cpuPct.toFixed(3) : `${x.cpuPct.toFixed(3)} (${(x.cpuPct / first).toFixed(2)}×)`))]);
    }
  }
  return [`CPU by age: % of a core in each window, median of the 2 nodes (ratio to ${systems[0]}); minutes since the daemons started.`, '', table(['timers', 'minutes', ...systems], out)].join('\n');
}

/** "10.231.43" and 2 -> "10.231.45": a testbed's own subnet. */
const nthSubnet = (base: string, i: number): string => base.replace(/\.(\d+)$/, (_, x: string) => `.${Number(x) + i}`);

async function main(): Promise<void> {
  const a = args(USAGE, { window: 'number', windows: 'number', settle: 'number', systems: 'list', timers: 'list', rounds: 'number', together: 'flag', subnet: 'string' });
  const windowS = a.num('window', 60);
  const windows = a.num('windows', 1);
  const settleS = a.num('settle', 12);
  const keys = runnableKeys(a.list('systems', FOOTPRINT_DEFAULTS.systems), log);
  const timerKeys = a.list('timers', FOOTPRINT_DEFAULTS.timers);
  const rounds = a.num('rounds', 1);
  // --together: every system at once, each on its own testbed, so all see the same load.
  const together = a.flag('together');
  const subnet = a.str('subnet', '10.231.43');
  const beds = await Promise.all((together ? keys : [keys[0]!]).map((_, i) => createTestbed({ subnet: nthSubnet(subnet, i), servers: NODES })));
  const rows: Row[] = [];
  const ev: string[] = [];
  const byAge: WindowCpu[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const tk of timerKeys) {
      const timers = TIMER_SETS[tk]!;
      const runs = keys.map((key, i): Run => ({ key, sys: systemByKey(key), tb: beds[together ? i : 0]!, d: {} }));
      for (const group of together ? [runs] : runs.map((r) => [r])) {
        log(`${rounds > 1 ? `round ${round}/${rounds}: ` : ''}${group.map((r) => r.sys.label).join(' + ')} @ ${timers.label}: ${windows > 1 ? `${windows} windows of ` : ''}${windowS} s idle after ${settleS} s`);
        await measure(group, timers, windowS, settleS, round, rows, ev, windows, byAge);
      }
    }
  }
  for (const tb of beds) await tb.destroy();
  writeRaw('footprint', rows);
  const out = [
    await header('Footprint at idle', [
      `Window: ${windows > 1 ? `the last of ${windows} windows in a row of ` : ''}${windowS} s of a steady pair (node1 holds the VIP, the client polls it), ${windows > 1 ? 'the first of them ' : ''}${settleS} s after the daemons started${together ? ', every system at the same time, each pair on its own testbed (namespaces, bridge, client), so all see the same load' : ''}. CPU = user+system time of all the daemon's processes (/proc/PID/stat) over the window, in percent of one core ("+ exited children": the CPU time of their children that exited meanwhile, such as a resource agent's monitor runs, which /proc counts apart); RSS = sum of VmRSS of those processes; PSS = proportional set size (shared pages split), the fairer sum for multi-process daemons. "Peer declared dead" = the node's own lines declaring its peer dead during the window (none on a pair that holds).`,
      'Target (DESIGN.md): heartbeat-ts under 0.5% of one core at keepalive 1 s.',
    ]),
    table(
      [...(rounds > 1 ? ['round'] : []), 'system', 'timers', 'node', 'processes', 'CPU % of a core', '+ exited children %', 'RSS MiB', 'PSS MiB', 'scheduling', 'peer declared dead', 'RSS / PSS MiB per process'],
      rows.map((r) => [...(rounds > 1 ? [String(r.round)] : []), r.system, r.timers, r.node, String(r.processes), r.cpuPct.toFixed(3), r.childCpuPct.toFixed(3), r.rssMiB.toFixed(1), r.pssMiB.toFixed(1), r.sched, String(r.falseAlarms), r.perProcess]),
    ),
    ...(keys.length > 1 || rounds > 1 ? ['', sideBySide(rows, keys, timerKeys.map((k) => TIMER_SETS[k]!.label))] : []),
    ...(byAge.length > 0 ? ['', byAgeTable(byAge, timerKeys.map((k) => TIMER_SETS[k]!.label))] : []),
    '',
    'Processes seen running:',
    '',
    ...ev.map((e) => `- ${e}`),
  ];
  publish(`footprint${a.str('section', '')}`, out.join('\n'));
}

/** Per timers and system: medians over rounds and both nodes, and the ratio to the first system. */
function sideBySide(rows: Row[], keys: string[], timerLabels: string[]): string {
  const med = (rs: Row[], f: (r: Row) => number): number => median(rs.map(f));
  const out: (string | number)[][] = [];
  for (const timers of timerLabels) {
    const of = (key: string) => rows.filter((r) => r.key === key && r.timers === timers);
    const first = of(keys[0]!);
    for (const key of keys) {
      const rs = of(key);
      if (rs.length === 0) continue;
      const cpu = med(rs, (r) => r.cpuPct);
      const rss = med(rs, (r) => r.rssMiB);
      const p = med(rs, (r) => r.pssMiB);
      const ratio = (x: number, f: (r: Row) => number) => (first.length ? `${(x / med(first, f)).toFixed(2)}×` : '');
      out.push([rs[0]!.system, timers, rs.length, cpu.toFixed(3), ratio(cpu, (r) => r.cpuPct), `${Math.min(...rs.map((r) => r.cpuPct)).toFixed(3)}–${Math.max(...rs.map((r) => r.cpuPct)).toFixed(3)}`, rss.toFixed(1), ratio(rss, (r) => r.rssMiB), p.toFixed(1), ratio(p, (r) => r.pssMiB)]);
    }
  }
  return [`Side by side: median per node over ${new Set(rows.map((r) => r.round)).size} round(s) × 2 nodes (ratios to ${rows.find((r) => r.key === keys[0])?.system ?? keys[0]}).`, '', table(['system', 'timers', 'samples', 'CPU %', 'CPU ratio', 'CPU % range', 'RSS MiB', 'RSS ratio', 'PSS MiB', 'PSS ratio'], out)].join('\n');
}

void runMain(main);
