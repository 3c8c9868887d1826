// What every system under test is to the benchmarks (bench/lib/*-system.ts, pacemaker.ts), and
// the handling of a running daemon they share: starting to collect its output, crashing it
// (its whole instance, or its main process alone), stopping it, and the evidence it ran.
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { isLive } from '../../src/lib/proc-stat.js';
import { pollUntil } from '../../src/lib/wait.js';
import { commandLine, describePid, killTree, mono, parentOf, processTree } from './proc.js';
import { collectLines, type Line, type Testbed } from './testbed.js';

export interface Timers {
  keepaliveMs: number;
  deadtimeMs: number;
  /** Late-heartbeat warning threshold (default deadtime / 2). */
  warntimeMs?: number;
  initdeadMs?: number;
}

export interface ClusterSpec {
  /** Server hosts in preference order: nodes[0] owns the VIP. */
  nodes: string[];
  timers: Timers;
  /** Extra haresources lines (hbd and heartbeat only). */
  extraHaresources?: string[];
  /** Extra ha.cf lines (hbd only). */
  extraHaCf?: string[];
  /** Extra files for each node's resource.d: name -> script text. */
  resourceScripts?: Record<string, string>;
  /** Command prefix for the daemon (e.g. chrt/nice), hbd only. */
  prefix?: string[];
  /** Heartbeat media: one ucast line per node (default) or bcast on eth0. */
  media?: 'ucast' | 'bcast';
}

export interface Running {
  node: string;
  child: ChildProcess;
  pid: number;
  startedAt: number;
  /** Output lines (and, for Heartbeat, its log file's lines) with their arrival time. */
  lines: Line[];
  dir: string;
  stopLog?: () => void;
  /**
   * The daemon's mount namespace (`ip netns exec` makes one per call; Heartbeat's `unshare`
   * another): every process of this daemon instance shares it, even one that left the
   * process tree (Heartbeat re-executing itself). Learnt once the daemon runs.
   */
  mntNs?: string;
}

export interface System {
  key: string;
  label: string;
  /** What this machine lacks to run it, and what installs it; null when it can run here. */
  missing(): string | null;
  /**
   * Skipped, with that reason, when it cannot run here, where any other system is refused before
   * anything starts (Pacemaker: packages only `install-deps.sh --bench` installs, and hours of runs).
   */
  optional?: boolean;
  /** The silence after which the standby acts: deadtime, or VRRP's master-down interval. */
  detectionMs(t: Timers): number;
  /** One line on how its timers were set, for the report. */
  timerNote(t: Timers): string;
  prepare(tb: Testbed, spec: ClusterSpec): Promise<void>;
  start(tb: Testbed, node: string): Running;
  /** A line the survivor prints when it has declared the owner dead / becomes master. */
  deadPattern(owner: string): RegExp;
  /** The survivor's line when the returning owner is heard again (default: `Link OWNER:IF up`). */
  rejoinPattern?(owner: string): RegExp;
  /** The survivor's line when it has decided to take the group over (Pacemaker: its scheduler's plan). */
  decidedPattern?: RegExp;
  /** Lines that mean a node was wrongly declared dead / a VRRP instance wrongly took over. */
  falseAlarm(line: string, node: string): boolean;
  /** What the running daemon says its effective settings are, for the report (optional). */
  settings?(r: Running): Promise<string>;
  /** The command line of the daemon's main process: what `kill -9 $(pidof ...)` would hit. */
  mainProcess: RegExp;
}

/** A started daemon, its output collected from now on. */
export function finishStart(tb: Testbed, node: string, child: ChildProcess, dir: string): Running {
  if (!child.pid) throw new Error(`could not start the daemon on ${node}`);
  const r: Running = { node, child, pid: child.pid, startedAt: mono(), lines: [], dir };
  collectLines(child, r.lines);
  void tb;
  return r;
}

let ownMntNs: string | null = null;
function mntNsOf(pid: number | 'self'): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return null;
  }
}

/** Records the daemon's mount namespace (call once it has started). */
export function learnIdentity(r: Running): void {
  ownMntNs ??= mntNsOf('self');
  if (!isLive(r.pid)) return;
  const ns = mntNsOf(r.pid);
  if (ns && ns !== ownMntNs) r.mntNs = ns;
}

/** Processes of this daemon instance: its tree and everything in its mount namespace. */
export function instancePids(r: Running): number[] {
  const pids = new Set(processTree(r.pid));
  if (r.mntNs && r.mntNs !== ownMntNs) {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      if (mntNsOf(Number(name)) === r.mntNs) pids.add(Number(name));
    }
  }
  return [...pids];
}

/** kill -9 of the daemon and all it started; returns the PIDs. */
export function crash(r: Running): number[] {
  r.stopLog?.();
  learnIdentity(r);
  const killed = new Set(killTree(r.pid));
  for (let pass = 0; pass < 3; pass++) {
    const rest = instancePids(r).filter((p) => !killed.has(p) && isLive(p));
    if (rest.length === 0) break;
    for (const p of rest) {
      try {
        process.kill(p, 'SIGSTOP');
      } catch {
        /* gone */
      }
    }
    for (const p of rest) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
      killed.add(p);
    }
  }
  return [...killed];
}

/**
 * kill -9 of the daemon's main process alone, as an operator's `kill -9 PID` or the OOM killer
 * would: the topmost process of the instance whose command line matches. What it leaves
 * running (Heartbeat's children, keepalived's VRRP child, hbd's address guard) does what it
 * was built to do. Returns the PID, or null when none matched.
 */
export function killMain(r: Running, sys: System): number | null {
  learnIdentity(r);
  const ours = instancePids(r).filter((pid) => isLive(pid) && sys.mainProcess.test(commandLine(pid)));
  const set = new Set(ours);
  const top = ours.filter((pid) => !set.has(parentOf(pid))).sort((x, y) => x - y)[0];
  if (top === undefined) return null;
  process.kill(top, 'SIGKILL');
  return top;
}

/** Ends a daemon for good (between runs). */
export async function stop(r: Running): Promise<void> {
  crash(r);
  await pollUntil(() => !isLive(r.pid), { timeoutMs: 1000, pollMs: 20 });
}

/** SIGTERM, and up to 5 s for the daemon to exit by itself (a profile is written on a clean exit). */
export async function stopGently(r: Running): Promise<void> {
  if (isLive(r.pid)) process.kill(r.pid, 'SIGTERM');
  await pollUntil(() => !isLive(r.pid), { timeoutMs: 5000, pollMs: 50 });
}

export function isRunning(r: Running): boolean {
  return isLive(r.pid);
}

/** Its processes now, for footprint and evidence. */
export function daemonPids(r: Running): number[] {
  learnIdentity(r);
  return instancePids(r).filter(isLive);
}

/**
 * daemonPids of a daemon that must be running: none is an error naming `label` and the node, with
 * its last output (a footprint row of a daemon that exited would read as one that costs nothing).
 */
export function runningPids(r: Running, label: string): number[] {
  const pids = daemonPids(r);
  if (pids.length > 0) return pids;
  const last = r.lines.slice(-3).map((l) => l.text).join(' | ');
  throw new Error(`${label} on ${r.node}: none of its processes runs${last ? ` (its last output: ${last})` : ' (it printed nothing)'}`);
}

export function evidence(r: Running): string {
  return daemonPids(r).map(describePid).join('; ');
}
