// Processes: run a command, find and end a process tree by PID, read CPU and memory from /proc.
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { readProcStat, readRssKiB } from '../../src/lib/proc-stat.js';
import { signalPid } from '../../src/lib/signal.js';

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

interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
}

export function allProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readProcStat(Number(name));
    if (st) out.push({ pid: Number(name), ppid: st.ppid, comm: st.comm });
  }
  return out;
}

/** `pid` and all its descendants. */
export function processTree(pid: number): number[] {
  const procs = allProcesses();
  const children = new Map<number, number[]>();
  for (const p of procs) {
    const list = children.get(p.ppid) ?? [];
    list.push(p.pid);
    children.set(p.ppid, list);
  }
  const tree: number[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop()!;
    if (!procs.some((x) => x.pid === p)) continue;
    tree.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return tree;
}

/**
 * kill -9 of a daemon and everything it started, as a crash of the whole service would:
 * stop the tree first (so nothing forks away while we look), then SIGKILL each PID.
 * Returns the PIDs killed.
 */
export function killTree(pid: number): number[] {
  const seen = new Set<number>();
  for (let pass = 0; pass < 3; pass++) {
    const tree = processTree(pid).filter((p) => !seen.has(p));
    if (tree.length === 0 && pass > 0) break;
    for (const p of tree) {
      signalPid(p, 'SIGSTOP');
      seen.add(p);
    }
  }
  for (const p of seen) signalPid(p, 'SIGKILL');
  return [...seen];
}

export const CLK_TCK = 100;

/** CPU time (ms, user+system) and resident memory (KiB) of a set of processes. */
export function usage(pids: number[]): { cpuMs: number; rssKiB: number; count: number } {
  let cpuMs = 0;
  let rssKiB = 0;
  let count = 0;
  for (const pid of pids) {
    const st = readProcStat(pid);
    if (!st) continue;
    count++;
    cpuMs += ((st.utime + st.stime) * 1000) / CLK_TCK;
    rssKiB += readRssKiB(pid) ?? 0;
  }
  return { cpuMs, rssKiB, count };
}

/** Its arguments, argv[0] first ([] when gone). */
export function argvOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** Its command line, arguments joined by spaces ('' when gone). */
export function commandLine(pid: number): string {
  return argvOf(pid).join(' ');
}

/** Its parent's PID (0 when gone). */
export function parentOf(pid: number): number {
  return readProcStat(pid)?.ppid ?? 0;
}

/** What a PID runs: its executable and command line (evidence that a peer really ran). */
export function describePid(pid: number): string {
  try {
    const exe = readlinkSync(`/proc/${pid}/exe`);
    return `pid ${pid} exe ${exe}: ${commandLine(pid)}`;
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
