#!/usr/bin/env node
// Stability under load: a steady pair (node1 owns the VIP) of each system at keepalive 100 ms /
// deadtime 1 s, for DURATION with both cores saturated by stress-ng. Counted: false failovers
// (a node declared dead / a VRRP backup becoming master / the VIP on the standby / the client
// answered by the standby) and the gaps between heartbeats as they arrived at the other host
// (tcpdump, kernel timestamps), plus the gaps the daemons themselves logged as late
// (warntime 200 ms: every gap over 200 ms is logged with its length by hbd and Heartbeat).
//
// The variant `hbd-selfload` loads heartbeat-ts from the inside instead: HTTP API and
// control-socket clients hammering node1's daemon, and a resource group whose agent prints
// 20 MB per start/stop (and 63 KB of "not ok" lines per status), moved between the nodes every few seconds so node1's daemon keeps
// reading agent output. Any main-thread stall would show as a late heartbeat.
//
// --no-stress: the soak without stress-ng (a check of the soak itself, or of a system at rest).
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { runMain, onCleanup } from './lib/cleanup.js';
import { Capture, heartbeatFilter } from './lib/capture.js';
import { sleep } from '../src/lib/wait.js';
import { killTree, mono, schedOf } from './lib/proc.js';
import { args, header, log, publish, table, UsageError, writeRaw } from './lib/report.js';
import { which } from '../test/helpers/tools.js';
import { STABILITY_DEFAULTS } from './lib/defaults.js';
import { ms } from './lib/stats.js';
import { corosyncTrouble } from './lib/pacemaker.js';
import { daemonPids, evidence, stop, type ClusterSpec, type Running, type System, type Timers } from './lib/system.js';
import { runnableKeys, systemByKey } from './lib/system-by-key.js';
import { createTestbed, DIST, type Testbed } from './lib/testbed.js';
import { TIMER_SETS } from './lib/timers.js';
import { request } from '../src/control/client.js';
import { run } from './lib/proc.js';
import { judgeStatusOutput } from '../src/agents/run.js';
import { performance } from 'node:perf_hooks';

/** `--help` prints this; a wrong option prints it with what is wrong (bench/lib/report.ts). */
const USAGE = `Usage: node dist/bench/stability.js [--duration 600] [--timers soak|tier|fast|...]
         [--systems hbd,hbd-nort,hbd-rt,hbd-rt-rof,heartbeat,keepalived,keepalived-dt,hbd-selfload,hbd-nort-selfload,hbd-rt-selfload]
         [--selfload-stress] [--selfload-parts http,control,agent] [--no-stress] [--subnet A.B.C] [--section SUFFIX] [--no-write]`;

const NODES = ['node1', 'node2'];
/**
 * A daemon's own report of a late heartbeat, with its length: hbd's and Heartbeat's "Late
 * heartbeat" (gap > warntime), corosync's token warning (no token for token_warning, 75 % of
 * the token by default).
 */
const LATE = /Late heartbeat: Node \S+: interval (\d+) ms|\[TOTEM ?\] Token has not been received in (\d+) ms/;
const HAMMER_JS = join(DIST, 'lib', 'hammer.js');

const NOISY = `#!/bin/sh
# A resource agent that prints a lot: 20 MB on every start and stop; on status 1 MB on stderr
# and 63 KB of TAP-style self-check lines on stdout ("not ok ...", never "running") before the verdict.
dir=$1; action=$2; f="$dir/noisy-$HA_CURHOST"
blurt() { yes 'noisy resource agent output: lorem ipsum dolor sit amet, consectetur adipiscing elit' | head -c "$1"; }
case "$action" in
  start) blurt 20000000; touch "$f"; echo; echo OK ;;
  stop) blurt 20000000; rm -f "$f"; echo; echo OK ;;
  status)
    blurt 1000000 >&2
    yes 'not ok' | head -n 9000
    if [ -e "$f" ]; then echo running; else echo stopped; fi ;;
esac
exit 0
`;

interface SoakResult {
  system: string;
  label: string;
  sched: string;
  load: string;
  durationS: number;
  rx12: ReturnType<Capture['gaps']>;
  rx21: ReturnType<Capture['gaps']>;
  drops: string;
  lateCount: number;
  lateMax: number | null;
  falseAlarms: string[];
  vipOnStandby: number;
  clientSawStandby: number;
  interval: number;
  /** The silence after which the peer acts (deadtime, or VRRP's master-down interval). */
  deadtime: number;
  extra: string;
  evidence: string;
}

function readProcComm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

async function hbdSupportsHttp(): Promise<boolean> {
  const r = await run([process.execPath, join(DIST, '..', 'src', 'cli', 'hbd.js'), '--help']);
  return r.stdout.includes('--http-listen');
}

async function soak(tb: Testbed, sys: System, key: string, durationS: number, opts: { stress: boolean; selfload: boolean; parts: string[]; timers: Timers }): Promise<SoakResult> {
  const TIMERS = opts.timers;
  const spec: ClusterSpec = { nodes: NODES, timers: TIMERS };
  if (opts.selfload && opts.parts.includes('agent')) {
    spec.extraHaresources = [`node2 noisy::${tb.dir}`];
    spec.resourceScripts = { noisy: NOISY };
  }
  await sys.prepare(tb, spec);
  for (const n of NODES) await tb.dropVip(n);
  const d: Record<string, Running> = {};
  const cleanups: (() => Promise<void>)[] = [];
  try {
    for (const n of NODES) d[n] = sys.start(tb, n);
    if (!(await tb.probe.steady('node1', 3000, 120_000))) throw new Error(`${sys.label}: node1 never answered steadily`);
    const age = mono() - d.node1!.startedAt;
    if (age < 11_000) await sleep(11_000 - age);
    const ev = `node1 ${evidence(d.node1!)} | node2 ${evidence(d.node2!)}`;
    // Pacemaker: pacemakerd's (the node's PID) and corosync's, which sets itself SCHED_RR.
    const corosync = sys.key.startsWith('pacemaker') ? daemonPids(d.node1!).find((p) => readProcComm(p) === 'corosync') : undefined;
    const sched = schedOf(d.node1!.pid) + (corosync ? `; corosync ${schedOf(corosync)}` : '');
    const cap12 = new Capture(tb, 'node2', heartbeatFilter(sys.key, tb.lan.host('node1').address));
    const cap21 = new Capture(tb, 'node1', heartbeatFilter(sys.key, tb.lan.host('node2').address));
    cleanups.push(async () => {
      cap12.stop();
      cap21.stop();
    });
    await sleep(1000);
    const loads: string[] = [];
    let extra = '';
    const hammerLines: string[] = [];
    let cycles = 0;
    let cycling = false;
    if (opts.stress) {
      const n = cpus().length;
      const st = tb.spawn('node1', ['stress-ng', '--cpu', String(n), '--timeout', `${durationS + 30}s`, '--quiet']);
      cleanups.push(async () => {
        if (st.pid) killTree(st.pid);
      });
      loads.push(`stress-ng --cpu ${n}`);
    }
    if (opts.selfload) {
      const withHttp = opts.parts.includes('http') && (await hbdSupportsHttp());
      const withControl = opts.parts.includes('control');
      if (withHttp || withControl) {
        const hammerArgs = [process.execPath, HAMMER_JS, ...(withControl ? ['--control', join(d.node1!.dir, 'ctl.sock')] : []), ...(withHttp ? ['--http', 'http://127.0.0.1:8694'] : []), '--concurrency', '4'];
        const hm = tb.spawn('node1', hammerArgs);
        hm.stdout?.setEncoding('utf8');
        hm.stdout?.on('data', (c: string) => hammerLines.push(...c.trim().split('\n')));
        cleanups.push(async () => {
          if (hm.pid) killTree(hm.pid);
        });
      }
      if (withHttp) loads.push('HTTP API (4 keep-alive clients: /status, /metrics, /dashboard.js; 2 /events streams)');
      if (withControl) loads.push('control socket (2 status loops)');
      if (opts.parts.includes('agent')) loads.push('a resource agent printing 20 MB per start/stop and 1 MB + 63 KB per status, moved between the nodes every 3 s');
      cycling = opts.parts.includes('agent');
      void (async () => {
        const s1 = join(d.node1!.dir, 'ctl.sock');
        const s2 = join(d.node2!.dir, 'ctl.sock');
        while (cycling) {
          try {
            await request(s1, { cmd: 'takeover', scope: 'foreign' }, 5000);
            await sleep(3000);
            if (!cycling) break;
            await request(s2, { cmd: 'takeover', scope: 'local' }, 5000);
            await sleep(3000);
            cycles++;
          } catch {
            await sleep(500);
          }
        }
      })();
      cleanups.push(async () => {
        cycling = false;
      });
    }
    const linesAt = { node1: d.node1!.lines.length, node2: d.node2!.lines.length };
    cap12.reset();
    cap21.reset();
    const t0 = mono();
    const probeAt = tb.probe.events.length;
    let vipOnStandby = 0;
    log(`  soaking ${durationS} s under ${loads.join(' + ') || 'no load'}`);
    let nextReport = t0 + 60_000;
    while (mono() - t0 < durationS * 1000) {
      if (await tb.hasVip('node2')) vipOnStandby++;
      await sleep(250);
      if (mono() > nextReport) {
        nextReport += 60_000;
        cap12.check();
        const g = cap12.gaps();
        log(`    ${((mono() - t0) / 1000).toFixed(0)} s: ${g.count} heartbeats node1→node2, max gap ${ms(g.max)} ms`);
      }
    }
    const durationReal = (mono() - t0) / 1000;
    for (const c of cleanups.splice(0).reverse()) await c();
    await sleep(300);
    cap12.check();
    cap21.check();
    const rx12 = cap12.gaps();
    const rx21 = cap21.gaps();
    const falseAlarms: string[] = [];
    let lateCount = 0;
    let lateMax: number | null = null;
    for (const n of NODES) {
      for (const l of d[n]!.lines.slice(linesAt[n as 'node1' | 'node2'])) {
        if (l.t < t0) continue;
        if (sys.falseAlarm(l.text, n)) falseAlarms.push(`${n}: ${l.text}`);
        const m = LATE.exec(l.text);
        if (m) {
          lateCount++;
          lateMax = Math.max(lateMax ?? 0, Number(m[1] ?? m[2]));
        }
      }
    }
    const clientSawStandby = tb.probe.events.slice(probeAt).filter((e) => e.who === 'node2').length;
    if (sys.key.startsWith('pacemaker')) extra = corosyncTrouble(NODES.flatMap((n) => d[n]!.lines.slice(linesAt[n as 'node1' | 'node2']).filter((l) => l.t >= t0)));
    if (opts.selfload) {
      const last = hammerLines[hammerLines.length - 1];
      extra = `${cycles} agent moves; requests served: ${last ?? '?'}`;
    }
    return {
      system: key,
      label: sys.label,
      sched,
      load: loads.join(' + ') || 'none',
      durationS: durationReal,
      rx12,
      rx21,
      drops: `${cap12.dropped}/${cap21.dropped}`,
      lateCount,
      lateMax,
      falseAlarms,
      vipOnStandby,
      clientSawStandby,
      interval: sys.key.startsWith('keepalived') ? sys.detectionMs(TIMERS) / 3.609 : TIMERS.keepaliveMs,
      deadtime: sys.detectionMs(TIMERS),
      extra,
      evidence: ev,
    };
  } finally {
    for (const c of cleanups.reverse()) await c();
    for (const n of NODES) if (d[n]) await stop(d[n]!);
    for (const n of NODES) await tb.dropVip(n);
  }
}

/**
 * The main-thread stall this benchmark found: how long judging one status output of the noisy
 * agent takes, with the regex hbd used before (backtracking) and with judgeStatusOutput now.
 */
function statusVerdictCost(): string {
  const out = `${'not ok\n'.repeat(9000)}stopped\n`;
  const time = (f: () => unknown) => {
    const t = performance.now();
    f();
    return performance.now() - t;
  };
  const old = /[Nn][Oo][Tt] [\s\S]*[Rr]unning/;
  const before = Math.min(time(() => old.test(out)), time(() => old.test(out)));
  const after = Math.min(time(() => judgeStatusOutput(out)), time(() => judgeStatusOutput(out)));
  return `Judging one status output of the noisy agent (${out.length} bytes of "not ok" lines) blocks hbd's event loop for ${before.toFixed(1)} ms with the backtracking regex hbd used before commit 33115c5, ${after.toFixed(2)} ms with judgeStatusOutput now (measured in this process).`;
}

async function main(): Promise<void> {
  const a = args(USAGE, { duration: 'number', timers: 'string', systems: 'list', subnet: 'string', 'no-stress': 'flag', 'selfload-stress': 'flag', 'selfload-parts': 'list' });
  const durationS = a.num('duration', 600);
  const timersKey = a.str('timers', STABILITY_DEFAULTS.timers[0]!);
  const timers = TIMER_SETS[timersKey];
  if (!timers) throw new Error(`unknown timer set ${timersKey} (${Object.keys(TIMER_SETS).join(', ')})`);
  const warntimeMs = timers.warntimeMs ?? timers.deadtimeMs / 2;
  const keys = runnableKeys(a.list('systems', STABILITY_DEFAULTS.systems), log);
  // Without them a soak would measure nothing and report it as a clean result.
  const tools = [['tcpdump', 'tcpdump'], ...(a.flag('no-stress') && !a.flag('selfload-stress') ? [] : [['stress-ng', 'stress-ng']])].filter(([cmd]) => which(cmd!) === null);
  if (tools.length > 0) throw new UsageError(`stability needs ${tools.map(([cmd, pkg]) => `${cmd} (Debian package ${pkg})`).join(' and ')}: scripts/install-deps.sh --bench installs them`);
  const tb = await createTestbed({ subnet: a.str('subnet', '10.231.42'), servers: NODES });
  onCleanup('testbed', () => tb.destroy());
  const results: SoakResult[] = [];
  const started = Date.now();
  for (const key of keys) {
    const selfload = key.endsWith('-selfload');
    const sys = systemByKey(key);
    log(`${sys.label}: ${durationS} s soak`);
    const r = await soak(tb, sys, key, durationS, { stress: (!selfload && !a.flag('no-stress')) || a.flag('selfload-stress'), selfload, parts: a.list('selfload-parts', ['http', 'control', 'agent']), timers });
    log(`  ${r.falseAlarms.length} false alarms; max gap node1→node2 ${ms(r.rx12.max)} ms, node2→node1 ${ms(r.rx21.max)} ms; late logged ${r.lateCount} (max ${r.lateMax ?? '-'} ms)`);
    results.push(r);
  }
  await tb.destroy();
  writeRaw('stability', results.map((r) => ({ ...r, rx12: { ...r.rx12, over: r.rx12.over(r.deadtime) }, rx21: { ...r.rx21, over: r.rx21.over(r.deadtime) } })));

  const rows = results.map((r) => [
    r.label,
    r.sched,
    r.load.startsWith('stress') || r.load === 'none' ? r.load : 'self-load (below)',
    `${(r.durationS / 60).toFixed(1)} min`,
    // Corosync sends no heartbeat at a fixed interval: the token circulates, knet pings every 50 ms.
    r.system.startsWith('pacemaker') ? '—' : `${ms(r.interval)}`,
    String(r.rx12.count),
    ms(r.rx12.p999),
    ms(r.rx12.max),
    String(r.rx12.over(r.deadtime) + (r.rx21.count < 2 ? 0 : r.rx21.over(r.deadtime))),
    r.rx21.count < 2 ? '— (backup sends none)' : ms(r.rx21.max),
    r.lateMax === null ? (r.system.startsWith('keepalived') ? 'n/a' : '0') : `${r.lateCount} (max ${r.lateMax})`,
    String(r.falseAlarms.length),
    `${r.vipOnStandby} / ${r.clientSawStandby}`,
  ]);
  const out = [
    await header('Stability under load', [
      `Timers: ${timers.label}, warntime ${warntimeMs} ms. ${keys.filter((k) => k.startsWith('keepalived') || k.startsWith('pacemaker')).map((k) => `\`${k}\`: ${systemByKey(k).timerNote(timers)}.`).join(' ')} Total wall time ${((Date.now() - started) / 60000).toFixed(1)} min.`,
      'Gaps: time between consecutive heartbeat packets (any UDP to port 694 from the peer; keepalived: VRRP; Pacemaker: corosync\'s knet, UDP port 5405: token, messages, knet pings) at the receiving host\'s interface, from tcpdump\'s kernel timestamps. "node1→node2" = the owner\'s heartbeats as the standby got them (what a false failover would come from).',
      `"Late logged" = the receiving daemon\'s own "Late heartbeat ... interval N ms" lines (gap > warntime ${warntimeMs} ms as the daemon saw it, i.e. including any delay in reading its socket), both nodes; corosync: its "Token has not been received in N ms" warnings (no token for 75 % of the token timeout).`,
      '"Gaps over the dead timer" = gaps (both directions) longer than deadtime (keepalived: its master-down interval): here both daemons share one loaded machine, so a stall that silences the sender often stalls the receiver too, and its stall detection forgives the silence; on two machines with only the sender loaded, each such gap is a false failover.',
      '"False failovers" = lines declaring a node dead (hbd, Heartbeat: "node X: is dead"; keepalived: "Entering MASTER STATE" after start; Pacemaker: its controller\'s "Node X state is now lost"). "VIP on standby / client saw standby" = 4-per-second checks of node2\'s addresses / answers from node2 seen by the client polling every 5 ms.',
    ]),
    table(['system', 'scheduling (node1)', 'load', 'duration', 'interval', 'heartbeats node1→node2', 'p99.9 gap', 'max gap node1→node2', 'gaps over the dead timer', 'max gap node2→node1', 'late logged', 'false failovers', 'VIP on standby / client saw standby'], rows),
    '',
  ];
  if (results.some((r) => r.system.endsWith('-selfload'))) out.push(`- ${statusVerdictCost()}`);
  for (const r of results) {
    if (r.extra) out.push(`- ${r.label}: load = ${r.load}; ${r.extra}.`);
    for (const f of r.falseAlarms.slice(0, 5)) out.push(`- ${r.label} false alarm: \`${f}\``);
  }
  out.push('', 'Processes seen running:', '', ...results.map((r) => `- ${r.label}: ${r.evidence}`));
  publish(`stability${a.str('section', '')}`, out.join('\n'));
}

void runMain(main);
