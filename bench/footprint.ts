#!/usr/bin/env node
// Footprint at idle: resident memory and CPU share of each system's daemon (all its processes)
// on a steady two-node pair, at keepalive 1 s / deadtime 5 s and keepalive 100 ms / deadtime
// 500 ms. CPU share = CPU time (user + system, from /proc/PID/stat) used over the window,
// divided by the window: percent of one core.
//
// Usage: node dist/bench/footprint.js [--window 60] [--systems hbd,heartbeat,keepalived,pacemaker] [--timers slow,fast] [--no-write]
// (Pacemaker: every process of the node's stack, corosync and pacemakerd's six daemons.)
import { basename, join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { runMain } from './lib/cleanup.js';
import { sleep } from '../src/lib/wait.js';
import { argvOf, mono, pss, schedOf, usage } from './lib/proc.js';
import { args, header, log, publish, table } from './lib/report.js';
import { daemonPids, evidence, stop, stopGently, systemByKey, type Running } from './lib/systems.js';
import { createTestbed, DIST } from './lib/testbed.js';
import { TIMER_SETS } from './lib/timers.js';
import { runnableKeys } from './lib/pacemaker.js';

const NODES = ['node1', 'node2'];

/** A short name for a process: its script for node, else its command name. */
function procName(pid: number): string {
  const argv = argvOf(pid);
  const script = argv.find((a) => a.endsWith('.js'));
  if (script) return basename(script, '.js');
  return (argv[0] ?? '?').split('/').pop()!.replace(/:$/, '');
}

interface Row {
  system: string;
  timers: string;
  node: string;
  processes: number;
  cpuPct: number;
  /** CPU of the processes' children that exited during the window (agents run by the daemon). */
  childCpuPct: number;
  rssMiB: number;
  pssMiB: number;
  sched: string;
  /** The node's lines declaring its peer dead during the window (a steady pair should have none). */
  falseAlarms: number;
  /** Each process: its name and RSS (MiB), largest first. */
  perProcess: string;
}

async function main(): Promise<void> {
  const a = args();
  const windowS = a.num('window', 60);
  const keys = runnableKeys(a.list('systems', ['hbd', 'heartbeat', 'keepalived', 'pacemaker']), log);
  const timerKeys = a.list('timers', ['slow', 'fast']);
  const tb = await createTestbed({ subnet: a.str('subnet', '10.231.43'), servers: NODES });
  const rows: Row[] = [];
  const ev: string[] = [];
  for (const tk of timerKeys) {
    const timers = TIMER_SETS[tk]!;
    for (const key of keys) {
      const sys = systemByKey(key);
      log(`${sys.label} @ ${timers.label}: ${windowS} s idle`);
      await sys.prepare(tb, { nodes: NODES, timers });
      for (const n of NODES) await tb.dropVip(n);
      const d: Record<string, Running> = {};
      try {
        for (const n of NODES) d[n] = sys.start(tb, n);
        if (!(await tb.probe.steady('node1', 3000, 120_000))) throw new Error(`${sys.label}: never steady`);
        const age = mono() - d.node1!.startedAt;
        if (age < 12_000) await sleep(12_000 - age);
        const u0 = NODES.map((n) => usage(daemonPids(d[n]!)));
        const linesAt = NODES.map((n) => d[n]!.lines.length);
        const t0 = mono();
        await sleep(windowS * 1000);
        const dt = mono() - t0;
        for (const [i, n] of NODES.entries()) {
          const pids = daemonPids(d[n]!);
          const u1 = usage(pids);
          const each = pids
            .map((p) => ({ name: procName(p), rss: usage([p]).rssKiB / 1024 }))
            .filter((x) => x.rss > 0)
            .sort((x, y) => y.rss - x.rss)
            .map((x) => `${x.name} ${x.rss.toFixed(1)}`)
            .join(', ');
          rows.push({ system: sys.label, timers: timers.label, node: n === 'node1' ? 'node1 (owner)' : 'node2 (standby)', processes: u1.count, cpuPct: ((u1.cpuMs - u0[i]!.cpuMs) / dt) * 100, childCpuPct: ((u1.childCpuMs - u0[i]!.childCpuMs) / dt) * 100, rssMiB: u1.rssKiB / 1024, pssMiB: pss(pids) / 1024, sched: schedOf(d[n]!.pid), falseAlarms: d[n]!.lines.slice(linesAt[i]).filter((l) => sys.falseAlarm(l.text, n)).length, perProcess: each });
        }
        ev.push(`${sys.label} @ ${timers.label}: ${evidence(d.node1!)}`);
        const r = rows.slice(-2);
        log(`  CPU ${r.map((x) => x.cpuPct.toFixed(3)).join(' / ')} %, RSS ${r.map((x) => x.rssMiB.toFixed(1)).join(' / ')} MiB`);
      } finally {
        // Profiling (HBD_NODE_ARGS="--cpu-prof ..."): hbd writes its profile only on a clean exit.
        if (process.env.HBD_NODE_ARGS) for (const n of NODES) if (d[n]) await stopGently(d[n]!);
        for (const n of NODES) if (d[n]) await stop(d[n]!);
        for (const n of NODES) await tb.dropVip(n);
      }
    }
  }
  await tb.destroy();
  mkdirSync(join(DIST, '..', '..', 'bench', 'raw'), { recursive: true });
  writeFileSync(join(DIST, '..', '..', 'bench', 'raw', 'footprint.json'), JSON.stringify(rows, null, 1));
  const out = [
    await header('Footprint at idle', [
      `Window: ${windowS} s of a steady pair (node1 holds the VIP, the client polls it), after the start-up announcements ended. CPU = user+system time of all the daemon's processes (/proc/PID/stat) over the window, in percent of one core ("+ exited children": the CPU time of their children that exited meanwhile, such as a resource agent's monitor runs, which /proc counts apart); RSS = sum of VmRSS of those processes; PSS = proportional set size (shared pages split), the fairer sum for multi-process daemons. "Peer declared dead" = the node's own lines declaring its peer dead during the window (none on a pair that holds).`,
      'Target (DESIGN.md): heartbeat-ts under 0.5% of one core at keepalive 1 s.',
    ]),
    table(
      ['system', 'timers', 'node', 'processes', 'CPU % of a core', '+ exited children %', 'RSS MiB', 'PSS MiB', 'scheduling', 'peer declared dead', 'RSS MiB per process'],
      rows.map((r) => [r.system, r.timers, r.node, String(r.processes), r.cpuPct.toFixed(3), r.childCpuPct.toFixed(3), r.rssMiB.toFixed(1), r.pssMiB.toFixed(1), r.sched, String(r.falseAlarms), r.perProcess]),
    ),
    '',
    'Processes seen running:',
    '',
    ...ev.map((e) => `- ${e}`),
  ];
  publish(`footprint${a.str('section', '')}`, out.join('\n'));
}

void runMain(main);
