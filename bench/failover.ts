#!/usr/bin/env node
// Failover time, side by side: heartbeat-ts, Heartbeat 3.0.6 and keepalived on the same
// namespace LAN (node1 = owner, node2 = standby, client), the same VIP and equivalent timers.
// A trial: wait until the client has been answered by node1 steadily, inject the fault
// (kill -9 of node1's daemon and everything it started, or node1's link down), and time the
// first answer from node2 through the VIP, seen by the client polling every 5 ms. Both times
// are CLOCK_MONOTONIC. Then the owner comes back (its leftover VIP removed, as a reboot
// would; link up; daemon started) and, with auto_failback on, the time from its start to the
// first answer from it again is the failback time.
//
// --fresh: a cold start of the pair before every trial, so each failback is the group's first
// return (hbd's flap damping lengthens the hold-down after repeated losses within 5 minutes,
// and trials a few seconds apart are exactly that).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMain } from './lib/cleanup.js';
import { sleep } from '../src/lib/wait.js';
import { mono } from './lib/proc.js';
import { args, header, log, publish, table, writeRaw } from './lib/report.js';
import { FAILOVER_DEFAULTS } from './lib/defaults.js';
import { ms, ratio, summarize } from './lib/stats.js';
import { crash, evidence, isRunning, killMain, learnIdentity, stop, type Running, type System, type Timers } from './lib/system.js';
import { runnableKeys, systemByKey } from './lib/system-by-key.js';
import { createTestbed, type Testbed } from './lib/testbed.js';
import { TIMER_SETS } from './lib/timers.js';

/** `--help` prints this; a wrong option prints it with what is wrong (bench/lib/report.ts). */
const USAGE = `Usage: node dist/bench/failover.js [--trials 20] [--systems hbd,heartbeat,keepalived,keepalived-dt]
         [--timers fast,slow] [--faults kill,kill-main,link] [--fresh] [--settle-ms MS] [--subnet A.B.C]
         [--section SUFFIX] [--no-write] [--debug]
       (also pacemaker: Pacemaker 2.1 + Corosync 3.1; pacemaker-tNN: with a corosync token of NN ms;
        hbd-etcd: the etcd arbiter with a real etcd)`;


type Fault = 'kill' | 'kill-main' | 'link';

interface Trial {
  system: string;
  timers: string;
  fault: Fault;
  trial: number;
  ok: boolean;
  failoverMs: number | null;
  /** When the survivor said it declared the owner dead (its own log line). */
  detectMs: number | null;
  /** When the survivor logged its decision to take over (systems with a decidedPattern). */
  decideMs?: number | null;
  failbackMs: number | null;
  /**
   * Failback counted from the standby's "Link node1:IFACE up." line (hbd and Heartbeat: the
   * returning owner's first heartbeat heard), leaving out the owner's start-up, which a loaded
   * host stretches (a Node process at nice 15 starts in seconds there, Heartbeat in
   * milliseconds); null when the system prints no such line.
   */
  failbackHeardMs?: number | null;
  cableMs?: number;
  note?: string;
}

const NODES = ['node1', 'node2'];
/** A fault hits a pair whose daemons have run at least this long. */
const MIN_DAEMON_AGE_MS = 11_000;

class Pair {
  d: Record<string, Running> = {};
  constructor(
    readonly tb: Testbed,
    readonly sys: System,
    readonly timers: Timers,
  ) {}

  settleOverrideMs: number | null = null;
  coldRestarts = 0;
  /** Each cold start: from starting both daemons to node1's first answer on the VIP (ms). */
  coldStarts: number[] = [];

  get settleMs(): number {
    return this.settleOverrideMs ?? Math.max(2000, 2 * this.sys.detectionMs(this.timers));
  }

  async coldStart(): Promise<void> {
    await this.stopAll();
    await this.sys.prepare(this.tb, { nodes: NODES, timers: this.timers });
    for (const n of NODES) await this.tb.dropVip(n);
    const t0 = mono();
    for (const n of NODES) this.d[n] = this.sys.start(this.tb, n);
    // The first answer after the start, then a steady one: a steady check alone can pass at
    // once on the answers of the instance just stopped (Pacemaker's prepare takes seconds, so
    // the last change seen is older than the settle time when the new pair starts).
    const first = await this.tb.probe.firstAnswer('node1', t0, 120_000);
    const ok = first !== null && (await this.tb.probe.steady('node1', this.settleMs, 120_000));
    if (ok) this.coldStarts.push(first - t0);
    for (const n of NODES) learnIdentity(this.d[n]!);
    if (!ok) throw new Error(`${this.sys.label}: node1 never answered steadily on the VIP after a cold start\n${this.tail()}`);
  }

  tail(): string {
    return NODES.map((n) => `--- ${n}:\n${(this.d[n]?.lines ?? []).slice(-25).map((l) => l.text).join('\n')}`).join('\n');
  }

  async stopAll(): Promise<void> {
    for (const n of NODES) {
      const r = this.d[n];
      if (r) await stop(r);
      delete this.d[n];
    }
  }

  /** node1 answers steadily and both daemons run; else a cold start. */
  async ensureSteady(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      // Steady state also means no start-up leftovers: Heartbeat advertises deadtime + 2 s
      // for its first 5 s after a start (its `dt` field; the peer waits that long), and
      // announcement bursts (arping, send_arp, keepalived's second GARP batch) run for seconds.
      const age = Math.min(...NODES.map((n) => mono() - (this.d[n]?.startedAt ?? 0)));
      if (age < MIN_DAEMON_AGE_MS) await sleep(MIN_DAEMON_AGE_MS - age);
      for (const n of NODES) if (this.d[n]) learnIdentity(this.d[n]!);
      const fine = NODES.every((n) => this.d[n] && isRunning(this.d[n]!));
      if (fine && (await this.tb.probe.steady('node1', this.settleMs, 60_000 + 4 * this.settleMs))) return;
      const c = this.tb.probe.current();
      if (process.env.BENCH_KEEP_LOGS) {
        for (const n of NODES) writeFileSync(join(process.env.BENCH_KEEP_LOGS, `${this.sys.key}-${n}-${Date.now()}.log`), (this.d[n]?.lines ?? []).map((l) => `${l.t.toFixed(0)} ${l.text}`).join('\n'));
      }
      this.coldRestarts++;
      log(`  not steady (daemons ${NODES.map((n) => `${n} ${this.d[n] && isRunning(this.d[n]!) ? 'running' : 'GONE'}`).join(', ')}; client last answered by ${c?.who ?? '?'}): cold restart of ${this.sys.label}\n${this.tail()}`);
      if (attempt >= 3) throw new Error(`${this.sys.label}: no steady state after ${attempt + 1} cold starts`);
      await this.coldStart();
    }
  }

  async trial(fault: Fault, i: number, timersLabel: string): Promise<Trial> {
    const tr: Trial = { system: this.sys.key, timers: timersLabel, fault, trial: i, ok: false, failoverMs: null, detectMs: null, failbackMs: null };
    await this.ensureSteady();
    // A random phase against the heartbeat rhythm.
    await sleep(Math.random() * this.timers.keepaliveMs);
    const owner = this.d.node1!;
    const survivor = this.d.node2!;
    const linesBefore = survivor.lines.length;
    const t0 = mono();
    if (fault === 'kill') crash(owner);
    else if (fault === 'kill-main') {
      if (killMain(owner, this.sys) === null) throw new Error(`${this.sys.label}: no main process matching ${this.sys.mainProcess} on node1`);
    } else tr.cableMs = await this.tb.setCable('node1', false);
    const budget = this.sys.detectionMs(this.timers) + 30_000;
    const tAns = await this.tb.probe.firstAnswer('node2', t0, budget);
    const pat = this.sys.deadPattern('node1');
    const dead = survivor.lines.slice(linesBefore).find((l) => l.t >= t0 && pat.test(l.text));
    tr.detectMs = dead ? dead.t - t0 : null;
    const decided = this.sys.decidedPattern;
    if (decided) tr.decideMs = survivor.lines.slice(linesBefore).find((l) => l.t >= t0 && decided.test(l.text))?.t ?? null;
    if (tr.decideMs != null) tr.decideMs -= t0;
    if (process.argv.includes('--debug')) {
      const around = survivor.lines.filter((l) => l.t > t0 - 3000 && l.t < t0 + 4000);
      log(around.map((l) => `    ${(l.t - t0).toFixed(0).padStart(6)} ${l.text}`).join('\n'));
    }
    if (tAns === null) {
      tr.note = `no answer from node2 within ${budget} ms`;
      log(`  ${fault} #${i}: FAILED (${tr.note})\n${this.tail()}`);
    } else {
      tr.ok = true;
      tr.failoverMs = tAns - t0;
    }
    // Bring the owner back: its daemon gone, its leftover VIP removed (a reboot would), link up.
    await stop(owner);
    await this.tb.dropVip('node1');
    if (fault === 'link') {
      // Packets the dead daemon sent while cut off wait in node1's neighbour queue for ARP
      // to resolve; with the cable back they would reach node2 as a ghost of the old
      // instance (Heartbeat then sees a "node returning after partition" and restarts
      // itself; a VRRP backup yields to the stale advert). A reboot would lose them: so
      // flush them by cycling node1's own link before the cable comes back.
      await this.tb.flushHost('node1');
      await this.tb.setCable('node1', true);
      // A link whose carrier just came back drops what it sends until the kernel's link
      // watcher has run (up to a second): as after a reboot, the network is up first.
      await this.tb.waitReachable('node1', 'node2');
    }
    delete this.d.node1;
    if (!tr.ok) {
      await this.coldStart();
      return tr;
    }
    await sleep(200);
    const t1 = mono();
    const survivorLines = survivor.lines.length;
    this.d.node1 = this.sys.start(this.tb, 'node1');
    const tBack = await this.tb.probe.firstAnswer('node1', t1, 120_000);
    tr.failbackMs = tBack === null ? null : tBack - t1;
    const rejoined = this.sys.rejoinPattern?.('node1') ?? /Link node1:\S+ up/;
    const heard = survivor.lines.slice(survivorLines).find((l) => l.t >= t1 && rejoined.test(l.text));
    tr.failbackHeardMs = tBack !== null && heard ? tBack - heard.t : null;
    if (tBack === null) log(`  ${fault} #${i}: no failback within 120 s\n${this.tail()}`);
    if (process.argv.includes('--debug') && tBack !== null) {
      const around = NODES.flatMap((n) => this.d[n]!.lines.filter((l) => l.t > t1 && l.t < tBack + 200).map((l) => ({ ...l, n })));
      around.sort((x, y) => x.t - y.t);
      log(`  failback timeline (answer at ${(tBack - t1).toFixed(0)}):\n${around.map((l) => `    ${(l.t - t1).toFixed(0).padStart(6)} ${l.n} ${l.text}`).join('\n')}`);
    }
    log(`  ${fault} #${i}: failover ${ms(tr.failoverMs!)} ms (dead declared at ${tr.detectMs === null ? '?' : ms(tr.detectMs)}${tr.decideMs == null ? '' : `, decided at ${ms(tr.decideMs)}`}), failback ${tr.failbackMs === null ? 'none' : ms(tr.failbackMs)} ms (${tr.failbackHeardMs == null ? '?' : ms(tr.failbackHeardMs)} after the standby heard it)`);
    return tr;
  }
}

/** Median / max of the time from the loss line to the decision line, over the trials that have both. */
function decidedAfterDead(rs: Trial[]): string {
  const v = rs.filter((r) => r.detectMs != null && r.decideMs != null).map((r) => r.decideMs! - r.detectMs!);
  if (!v.length) return '—';
  const s = summarize(v);
  return `${ms(s.median)} / ${ms(s.max)}`;
}

function row(label: string, values: number[], extra: string[]): string[] {
  const s = summarize(values);
  return [label, String(s.n), ms(s.min), ms(s.median), ms(s.p95), ms(s.max), ...extra];
}

async function main(): Promise<void> {
  const a = args(USAGE, { trials: 'number', systems: 'list', timers: 'list', faults: 'list', subnet: 'string', fresh: 'flag', 'settle-ms': 'number', debug: 'flag' });
  const trials = a.num('trials', 20);
  const systems = runnableKeys(a.list('systems', FAILOVER_DEFAULTS.systems), log).map(systemByKey);
  const timerKeys = a.list('timers', FAILOVER_DEFAULTS.timers);
  const faults = a.list('faults', FAILOVER_DEFAULTS.faults) as Fault[];
  const subnet = a.str('subnet', '10.231.41');
  const fresh = a.flag('fresh');
  const results: Trial[] = [];
  const colds: { system: string; timers: string; ms: number[] }[] = [];
  const evidenceLines: string[] = [];
  const started = Date.now();

  const tb = await createTestbed({ subnet, servers: NODES });
  for (const tk of timerKeys) {
    const ts = TIMER_SETS[tk];
    if (!ts) throw new Error(`unknown timer set ${tk} (fast, slow, orient)`);
    for (const sys of systems) {
      log(`${sys.label}, ${ts.label} (${sys.timerNote(ts)})`);
      const pair = new Pair(tb, sys, ts);
      if (a.num('settle-ms', -1) >= 0) pair.settleOverrideMs = a.num('settle-ms', -1);
      try {
        await pair.coldStart();
        evidenceLines.push(`${sys.label} @ ${ts.label}: node1 ${evidence(pair.d.node1!)} | node2 ${evidence(pair.d.node2!)}`);
        if (sys.settings) evidenceLines.push(`${sys.label} @ ${ts.label}, as node2 reports it: ${await sys.settings(pair.d.node2!)}`);
        for (const f of faults) {
          for (let i = 1; i <= trials; i++) {
            if (fresh && results.some((r) => r.system === sys.key && r.timers === tk)) await pair.coldStart();
            results.push(await pair.trial(f, i, tk));
          }
        }
      } finally {
        colds.push({ system: sys.key, timers: tk, ms: pair.coldStarts });
        await pair.stopAll();
        for (const n of NODES) await tb.dropVip(n);
      }
    }
  }
  await tb.destroy();

  writeRaw('failover', { args: process.argv.slice(2), results, coldStarts: colds });

  // ---- report
  const out: string[] = [];
  out.push(
    await header('Failover', [
      `Trials: ${trials} per system × timer set × fault; total wall time ${((Date.now() - started) / 60000).toFixed(1)} min.`,
      'Topology: node1 (owner), node2 (standby), client: three network namespaces on one bridge. The client polls `http://VIP/` every 5 ms (new connection each time, 100 ms timeout); every server host runs the same tiny web server answering its name, bound to 0.0.0.0:80.',
      'Failover = from the fault (CLOCK_MONOTONIC, taken by the controller just before kill(2) / `ip link set down`) to the first HTTP answer from node2 through the VIP (client side, same clock). Faults: `kill` = SIGSTOP+SIGKILL of node1\'s daemon and every process it started (as if the daemon and all its helpers crashed at once); `kill-main` = SIGKILL of the daemon\'s main process alone (an operator\'s `kill -9 PID`, the OOM killer, a crash): hbd\'s `hbd.js` process, Heartbeat\'s master control process, keepalived\'s parent process, Pacemaker\'s corosync — what it leaves running does what it was built to do; `link` = node1\'s veth set down at the bridge.',
      '"Overhead" = median failover − the timer after which the standby acts (deadtime; for keepalived its master-down interval). It can be negative: the last heartbeat before the fault arrived up to one keepalive earlier, so the silence timer expires that much sooner.',
      '"Declared dead" = median time from the fault to the survivor\'s own log line ("node node1: is dead"; keepalived: "Entering MASTER STATE"; Pacemaker: its controller\'s "Node node1 state is now lost"), as it arrived at the controller; "after dead" = failover − that.',
      'Failback = from starting the owner\'s daemon again (auto_failback on; keepalived: higher priority, preempt) to the first answer from node1 through the VIP.',
      fresh
        ? 'Each trial on a freshly started pair (`--fresh`): every failback is the group\'s first return. (Without it, trials come a few seconds apart: for heartbeat-ts a crash-looping owner, whose hold-down doubles with each loss within 5 minutes.)'
        : 'Trials on the same pair, a few seconds apart: for heartbeat-ts the owner\'s losses within 5 minutes add up (flap damping), so failbacks after the first wait one deadtime and more; `--fresh` measures first returns.',
    ]),
  );
  const timerRows: string[][] = [];
  for (const tk of timerKeys) for (const sys of systems) timerRows.push([TIMER_SETS[tk]!.label, sys.label, sys.timerNote(TIMER_SETS[tk]!)]);
  out.push('Timer settings:\n', table(['timers', 'system', 'as configured'], timerRows, ['l', 'l', 'l']), '');

  const withDecided = systems.some((sys) => sys.decidedPattern);
  if (withDecided) out.push('"Dead → decided" = from the survivor\'s "declared dead" line to its decision to take over (Pacemaker: the scheduler\'s `Actions: Start vip`); the rest of "after dead" is starting the address (IPaddr2).\n');
  for (const tk of timerKeys) {
    const ts = TIMER_SETS[tk]!;
    for (const f of faults) {
      const ours = results.filter((r) => r.system === systems[0]!.key && r.timers === tk && r.fault === f && r.ok).map((r) => r.failoverMs!);
      const oursMedian = summarize(ours).median;
      const rows = systems.map((sys) => {
        const rs = results.filter((r) => r.system === sys.key && r.timers === tk && r.fault === f);
        const okv = rs.filter((r) => r.ok).map((r) => r.failoverMs!);
        const s = summarize(okv);
        const det = summarize(rs.filter((r) => r.detectMs !== null).map((r) => r.detectMs!));
        const after = summarize(rs.filter((r) => r.ok && r.detectMs !== null).map((r) => r.failoverMs! - r.detectMs!));
        const failed = rs.length - okv.length;
        return row(`${sys.label}${failed ? ` (${failed} failed)` : ''}`, okv, [
          ms(s.median - sys.detectionMs(ts)),
          ms(det.median),
          ms(after.median),
          ...(withDecided ? [decidedAfterDead(rs)] : []),
          sys === systems[0] ? '1.00×' : ratio(oursMedian, s.median),
        ]);
      });
      const faultLabel = { kill: 'kill -9 of the owner\'s daemon and all its processes', 'kill-main': 'kill -9 of the owner\'s main daemon process', link: 'owner\'s link down' }[f];
      out.push(`### ${ts.label}, fault: ${faultLabel} (ms)\n`);
      out.push(table(['system', 'n', 'min', 'median', 'p95', 'max', 'overhead', 'declared dead', 'after dead', ...(withDecided ? ['dead → decided: median / max'] : []), `${systems[0]!.label} ÷ this`], rows));
      out.push('');
    }
    const fbRows = systems.map((sys) => {
      const rs = results.filter((r) => r.system === sys.key && r.timers === tk && r.failbackMs !== null);
      const heard = rs.filter((r) => r.failbackHeardMs != null).map((r) => r.failbackHeardMs!);
      return row(sys.label, rs.map((r) => r.failbackMs!), heard.length ? [ms(summarize(heard).median), ms(summarize(heard).p95)] : ['—', '—']);
    });
    out.push(`### ${ts.label}: failback, owner's daemon start → first answer from it (ms, both faults pooled)\n`);
    out.push(table(['system', 'n', 'min', 'median', 'p95', 'max', 'after heard: median', 'after heard: p95'], fbRows));
    out.push('"After heard": from the standby\'s `Link node1:eth0 up.` line (the returning owner\'s first heartbeat; Pacemaker: its controller\'s `Node node1 state is now member`) to the first answer from node1: the failback without the owner\'s start-up.\n');
    const coldRows = systems.map((sys) => row(sys.label, colds.filter((c) => c.system === sys.key && c.timers === tk).flatMap((c) => c.ms), []));
    out.push(`### ${ts.label}: cold start, both daemons started → first answer from node1 (ms)\n`);
    out.push(table(['system', 'n', 'min', 'median', 'p95', 'max'], coldRows));
    out.push('');
  }
  out.push('Processes seen running (evidence that each system really ran):\n');
  for (const e of evidenceLines) out.push(`- ${e}`);
  publish(`failover${a.str('section', '')}`, out.join('\n'));
}

void runMain(main);
