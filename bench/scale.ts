#!/usr/bin/env node
// Scale: N heartbeat-ts nodes (N = 8, 16, 32), one network namespace each on one bridge,
// started together from cold. Measured: the time until every node sees every other node
// active (membership converged), then over a stable window (5 min): bytes per second per
// node on its interface (kernel counters), CPU per node, memory, and that nothing changes
// (no node declared dead, every status poll shows all nodes active).
//
import { join } from 'node:path';
import { runMain } from './lib/cleanup.js';
import { pollUntil, sleep } from '../src/lib/wait.js';
import { mono, must, usage } from './lib/proc.js';
import { args, header, log, publish, table, writeRaw } from './lib/report.js';
import { SCALE_DEFAULTS } from './lib/defaults.js';
import { ms, summarize } from './lib/stats.js';
import { daemonPids, stop, type Running } from './lib/system.js';
import { hbd } from './lib/hbd-system.js';
import { createTestbed, type Testbed } from './lib/testbed.js';
import { TIMER_SETS } from './lib/timers.js';
import { request } from '../src/control/client.js';
import type { StatusSnapshot } from '../src/status/snapshot.js';

/** `--help` prints this; a wrong option prints it with what is wrong (bench/lib/report.ts). */
const USAGE = `Usage: node dist/bench/scale.js [--sizes 8,16,32] [--stable 300] [--timers slow] [--media bcast|ucast] [--subnet A.B.C]
         [--section SUFFIX] [--no-write]`;

interface ScaleRow {
  n: number;
  convergeMs: number | null;
  vipMs: number | null;
  txBps: number[];
  rxBps: number[];
  cpuPct: number[];
  rssMiB: number[];
  deadLines: number;
  badPolls: number;
  polls: number;
  stableS: number;
}

async function counters(tb: Testbed, host: string): Promise<{ rx: number; tx: number }> {
  const h = tb.lan.host(host);
  const j = JSON.parse(await must(['ip', '-n', h.ns, '-s', '-j', 'link', 'show', 'dev', h.iface])) as { stats64: { rx: { bytes: number }; tx: { bytes: number } } }[];
  return { rx: j[0]!.stats64.rx.bytes, tx: j[0]!.stats64.tx.bytes };
}

async function allActive(sock: string, n: number): Promise<boolean> {
  try {
    const r = await request<StatusSnapshot>(sock, { cmd: 'status' }, 3000);
    if (!r.ok) return false;
    return r.result.nodes.length === n && r.result.nodes.every((x) => x.status === 'active');
  } catch {
    return false;
  }
}

async function runSize(n: number, o: { stableS: number; timerKey: string; media: 'ucast' | 'bcast'; subnet: string }): Promise<ScaleRow> {
  const names = Array.from({ length: n }, (_, i) => `n${i + 1}`);
  const tb = await createTestbed({ subnet: o.subnet, servers: names, probe: false, web: false });
  const sys = hbd();
  const d: Running[] = [];
  try {
    const timers = TIMER_SETS[o.timerKey]!;
    await sys.prepare(tb, { nodes: names, timers, media: o.media });
    const t0 = mono();
    for (const name of names) d.push(sys.start(tb, name));
    const socks = d.map((r) => join(r.dir, 'ctl.sock'));
    // Converged: every node's own view shows all n nodes active.
    const done = new Set<number>();
    let convergeMs: number | null = null;
    let vipMs: number | null = null;
    while (mono() - t0 < 180_000) {
      await Promise.all(socks.map(async (s, i) => {
        if (!done.has(i) && (await allActive(s, n))) done.add(i);
      }));
      if (vipMs === null && (await tb.hasVip('n1'))) vipMs = mono() - t0;
      if (done.size === n) {
        convergeMs = mono() - t0;
        break;
      }
      await sleep(100);
    }
    if (vipMs === null && mono() - t0 < 180_000) {
      vipMs = await pollUntil(async () => (await tb.hasVip('n1')) && mono() - t0, { timeoutMs: 180_000 - (mono() - t0), pollMs: 100 });
    }
    log(`  N=${n}: converged in ${convergeMs === null ? 'NEVER' : `${(convergeMs / 1000).toFixed(2)} s`}, VIP up at ${vipMs === null ? 'never' : `${(vipMs / 1000).toFixed(2)} s`}`);
    await sleep(5000);
    const lineMarks = d.map((r) => r.lines.length);
    const c0 = await Promise.all(names.map((h) => counters(tb, h)));
    const u0 = d.map((r) => usage(daemonPids(r)).cpuMs);
    const s0 = mono();
    let polls = 0;
    let badPolls = 0;
    while (mono() - s0 < o.stableS * 1000) {
      await sleep(Math.min(15_000, Math.max(0, o.stableS * 1000 - (mono() - s0))));
      const ok = await Promise.all(socks.map((s) => allActive(s, n)));
      polls += ok.length;
      badPolls += ok.filter((x) => !x).length;
    }
    const dt = (mono() - s0) / 1000;
    const c1 = await Promise.all(names.map((h) => counters(tb, h)));
    const us = d.map((r) => usage(daemonPids(r)));
    const deadLines = d.reduce((acc, r, i) => acc + r.lines.slice(lineMarks[i]).filter((l) => /is dead/.test(l.text)).length, 0);
    return {
      n,
      convergeMs,
      vipMs,
      txBps: c1.map((c, i) => (c.tx - c0[i]!.tx) / dt),
      rxBps: c1.map((c, i) => (c.rx - c0[i]!.rx) / dt),
      cpuPct: us.map((u, i) => ((u.cpuMs - u0[i]!) / (dt * 1000)) * 100),
      rssMiB: us.map((u) => u.rssKiB / 1024),
      deadLines,
      badPolls,
      polls,
      stableS: dt,
    };
  } finally {
    for (const r of d) await stop(r);
    await tb.destroy();
  }
}

async function main(): Promise<void> {
  const a = args(USAGE, { sizes: 'list', stable: 'number', timers: 'string', media: 'string', subnet: 'string' });
  const sizes = a.list('sizes', ['8', '16', '32']).map(Number);
  const stableS = a.num('stable', 300);
  const timerKey = a.str('timers', SCALE_DEFAULTS.timers[0]!);
  const media = a.str('media', 'bcast') as 'ucast' | 'bcast';
  const rows: ScaleRow[] = [];
  const started = Date.now();
  for (const n of sizes) {
    log(`scale: ${n} nodes, ${TIMER_SETS[timerKey]!.label}, ${media}, ${stableS} s stable window`);
    rows.push(await runSize(n, { stableS, timerKey, media, subnet: a.str('subnet', '10.231.44') }));
  }
  writeRaw('scale', rows);
  const mean = (v: number[]) => summarize(v).mean;
  const out = [
    await header('Scale (heartbeat-ts only)', [
      `Nodes: ${sizes.join(', ')}, each in its own namespace on one bridge; ${TIMER_SETS[timerKey]!.label}; media \`${media} eth0\`; haresources: one group (IPaddr VIP) preferred by n1. Total wall time ${((Date.now() - started) / 60000).toFixed(1)} min.`,
      'Converged = from starting all N daemons at once to every node\'s own status (control socket, polled every ~100 ms) showing all N nodes active. VIP up = n1 holds the VIP (quorum and all adverts known).',
      `Stable window: ${stableS} s after convergence (+5 s). Bytes/s from each node's interface counters (\`ip -s link\`), CPU from /proc/PID/stat, RSS = VmRSS. "Status polls not all active" = every 15 s, each node asked whether it sees all N nodes active.`,
    ]),
    table(
      ['nodes', 'converged (s)', 'VIP up (s)', 'tx B/s per node', 'rx B/s per node', 'CPU % per node (mean / max)', 'RSS MiB per node', 'nodes declared dead', 'status polls not all active'],
      rows.map((r) => [
        String(r.n),
        r.convergeMs === null ? 'never' : (r.convergeMs / 1000).toFixed(2),
        r.vipMs === null ? 'never' : (r.vipMs / 1000).toFixed(2),
        mean(r.txBps).toFixed(0),
        mean(r.rxBps).toFixed(0),
        `${mean(r.cpuPct).toFixed(2)} / ${Math.max(...r.cpuPct).toFixed(2)}`,
        mean(r.rssMiB).toFixed(1),
        String(r.deadLines),
        `${r.badPolls} of ${r.polls}`,
      ]),
    ),
    '',
    `Growth: rx bytes/s per node ÷ (N − 1): ${rows.map((r) => `N=${r.n}: ${ms(mean(r.rxBps) / (r.n - 1))}`).join(', ')} (constant = linear in N).`,
  ];
  publish(`scale${a.str('section', '')}`, out.join('\n'));
}

void runMain(main);
