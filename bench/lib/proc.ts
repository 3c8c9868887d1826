// Processes: run a command, find and end a process tree by PID, read CPU and memory from /proc.
import { execFile } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readProcStat, readRssKiB } from '../../src/lib/proc-stat.js';
import { commandLine } from '../../src/lib/proc-tree.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Runs argv (never through a shell); resolves with the exit code instead of throwing. */
export function run(argv: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('run: empty argv');
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 << 20, env: opts.env ?? { ...process.env, PATH: `${SYSTEM_PATH}:${process.env.PATH ?? ''}` } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 127) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Like run, but throws with the command's output when it fails. */
export async function must(argv: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** Monotonic clock (CLOCK_MONOTONIC) in ms: the same clock in every process on this machine. */
export const mono = (): number => Number(process.hrtime.bigint()) / 1e6;

export { allProcesses, argvOf, commandLine, killTree, processTree } from '../../src/lib/proc-tree.js';

export const CLK_TCK = 100;

/**
 * CPU time (ms, user+system) and resident memory (KiB) of a set of processes; childCpuMs is
 * the CPU time of their children that have exited (a resource agent run by the daemon, e.g.
 * Pacemaker's IPaddr2 monitor every second), which the processes' own time leaves out.
 */
export function usage(pids: number[]): { cpuMs: number; childCpuMs: number; rssKiB: number; count: number } {
  let cpuMs = 0;
  let childCpuMs = 0;
  let rssKiB = 0;
  let count = 0;
  for (const pid of pids) {
    const st = readProcStat(pid);
    if (!st) continue;
    count++;
    cpuMs += ((st.utime + st.stime) * 1000) / CLK_TCK;
    childCpuMs += ((st.cutime + st.cstime) * 1000) / CLK_TCK;
    rssKiB += readRssKiB(pid) ?? 0;
  }
  return { cpuMs, childCpuMs, rssKiB, count };
}

/** Its parent's PID (0 when gone). */
export function parentOf(pid: number): number {
  return readProcStat(pid)?.ppid ?? 0;
}

/** What a PID runs: its executable and command line (evidence that a peer really ran). */
/** This checkout's root: evidence names its files relative to it, as any checkout would. */
const CHECKOUT = new URL('../../..', import.meta.url).pathname.replace(/\/$/, '');

/** A command line as evidence: files of the checkout by relative path, scratch files under $TMPDIR. */
export function portablePaths(text: string): string {
  return text.split(`${CHECKOUT}/`).join('').split(`${tmpdir()}/`).join('$TMPDIR/');
}

export function describePid(pid: number): string {
  try {
    const exe = readlinkSync(`/proc/${pid}/exe`);
    return `pid ${pid} exe ${exe}: ${portablePaths(commandLine(pid))}`;
  } catch {
    return `pid ${pid} (gone)`;
  }
}

const POLICIES = ['SCHED_OTHER', 'SCHED_FIFO', 'SCHED_RR', 'SCHED_BATCH', 'SCHED_ISO', 'SCHED_IDLE', 'SCHED_DEADLINE'];

/** Scheduling of a process, e.g. "SCHED_RR 10" or "SCHED_OTHER nice -10". */
export function schedOf(pid: number): string {
  const st = readProcStat(pid);
  if (!st) return '?';
  const policy = POLICIES[st.policy] ?? `policy ${st.policy}`;
  return st.rtPriority > 0 ? `${policy} ${st.rtPriority}` : `${policy} nice ${st.nice}`;
}

/** Proportional set size (KiB) of a set of processes: shared pages counted once overall. */
export function pss(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const m = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      total += Number(m?.[1] ?? 0);
    } catch {
      /* gone */
    }
  }
  return total;
}
