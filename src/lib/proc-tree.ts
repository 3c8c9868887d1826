// Process trees from /proc: a daemon and everything it started, ended together by PID (the
// way a crash of a whole service ends them), and what each process runs.
import { readdirSync, readFileSync } from 'node:fs';
import { readProcStat } from './proc-stat.js';
import { signalPid } from './signal.js';

export interface ProcInfo {
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

