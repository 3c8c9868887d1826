// /proc/PID/stat (proc(5)). The command name, field 2, is in parentheses and may itself hold
// spaces and ')', so the fields are counted from the last ')' of the line.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pollUntil } from './wait.js';

export interface ProcStat {
  pid: number;
  comm: string;
  /** R, S, D, ... Z (zombie: dead, waiting to be reaped), X (dead). */
  state: string;
  ppid: number;
  pgrp: number;
  /** CPU time in clock ticks. */
  utime: number;
  stime: number;
  /** CPU time of its children that have exited and been waited for, in clock ticks. */
  cutime: number;
  cstime: number;
  nice: number;
  rtPriority: number;
  policy: number;
}

export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  // after[0] is field 3 of proc(5), so field N is after[N - 3].
  const after = text.slice(close + 2).split(' ');
  const n = (field: number): number => Number(after[field - 3]);
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: after[0] ?? '',
    ppid: n(4),
    pgrp: n(5),
    utime: n(14),
    stime: n(15),
    cutime: n(16),
    cstime: n(17),
    nice: n(19),
    rtPriority: n(40),
    policy: n(41),
  };
}

/** The stat of a process, or null when it is gone. */
export function readProcStat(pid: number | 'self'): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

export async function readProcStatAsync(pid: number | 'self'): Promise<ProcStat | null> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** Resident memory in KiB (VmRSS of /proc/PID/status), or null when the process is gone. */
export function readRssKiB(pid: number | 'self'): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** A zombie has died already: only its parent's wait() is missing. */
export function isDeadState(state: string): boolean {
  return state === 'Z' || state === 'X';
}

/** Whether a PID runs: it exists and is not a zombie. */
export function isLive(pid: number): boolean {
  const st = readProcStat(pid);
  return st !== null && !isDeadState(st.state);
}

/** The live processes among `pids`. */
export function liveOf(pids: number[]): number[] {
  return pids.filter(isLive);
}

/** Waits up to `timeoutMs` for `pids` to end (SIGKILL is asynchronous); returns those left. */
export async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
  let left = liveOf(pids);
  await pollUntil(() => (left = liveOf(left)).length === 0, { timeoutMs });
  return left;
}

/**
 * /proc/loadavg as it reads ("0.23 0.31 0.24 2/116 13468"): Heartbeat's `ld` field carries it
 * in every sequenced message; undefined where there is none.
 */
export function loadAverage(): string | undefined {
  try {
    const text = readFileSync('/proc/loadavg', 'utf8').trim();
    return /^[0-9. /]{1,64}$/.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `read` (by default /proc/loadavg), at most once per `maxAgeMs` of `clock`: hbd's heartbeats
 * ask for the load average up to ten times a second, and each read is four system calls
 * (open, read, read, close) while the kernel recomputes the averages only every 5 s.
 */
export function loadAverageEvery(maxAgeMs: number, read: () => string | undefined = loadAverage, clock: () => number = () => performance.now()): () => string | undefined {
  let at = -Infinity;
  let last: string | undefined;
  return () => {
    const now = clock();
    if (now - at >= maxAgeMs) {
      last = read();
      at = now;
    }
    return last;
  };
}
