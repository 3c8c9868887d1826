// Heartbeat's `realtime on` (its default): the daemon switches itself to the SCHED_RR
// realtime class at start, so that no amount of ordinary load (a busy host, a runaway
// process at nice 0) delays a heartbeat. Without it, on a host whose two cores are saturated
// by stress-ng, hbd went 1.1 s without sending at deadtime 1 s (bench/stability.ts); with
// it, never more than a keepalive + 1 ms.
//
// Node.js cannot call sched_setscheduler(2), so this runs util-linux `chrt` on our own PID:
//   chrt --all-tasks --reset-on-fork --rr --pid PRIO PID
// --all-tasks: every thread that exists now (the event loop, V8's GC helpers: the event loop
// waits for those during a collection, so they must not be starved either).
// --reset-on-fork: whatever starts later (resource agents, arping, the address guard, new
// threads) runs in the normal class again; a resource agent must never run realtime.
// A service manager that already set a realtime class (the systemd unit's
// CPUSchedulingPolicy) is left alone.
import { execFile } from 'node:child_process';
import { readProcStat } from '../lib/proc-stat.js';
import type { Logger } from './log.js';

/** Heartbeat 3.0.6 as packaged by Debian runs SCHED_RR priority 1; so do we unless `rtprio` says. */
export const DEFAULT_RTPRIO = 1;

const POLICY_NAMES: Record<number, string> = { 0: 'SCHED_OTHER', 1: 'SCHED_FIFO', 2: 'SCHED_RR', 3: 'SCHED_BATCH', 5: 'SCHED_IDLE', 6: 'SCHED_DEADLINE' };

/** Our main thread's scheduling policy and realtime priority, from /proc/self/stat. */
export function currentScheduling(pid: number | 'self' = 'self'): { policy: number; name: string; rtprio: number } | null {
  const st = readProcStat(pid);
  if (!st || !Number.isFinite(st.policy)) return null;
  return { policy: st.policy, name: POLICY_NAMES[st.policy] ?? `policy ${st.policy}`, rtprio: st.rtPriority };
}

export interface RealtimeOptions {
  realtime: boolean;
  rtprio: number | null;
}

/** Applies `realtime`/`rtprio`; logs what it did. Never throws: a failure costs only priority. */
export async function applyRealtime(opts: RealtimeOptions, log: Logger, chrt = 'chrt'): Promise<'set' | 'kept' | 'off' | 'failed'> {
  if (!opts.realtime) {
    log.info('realtime off: hbd runs in the normal scheduling class; under heavy load its heartbeats can be late.');
    return 'off';
  }
  const now = currentScheduling();
  if (now && (now.policy === 1 || now.policy === 2)) {
    log.info(`Running ${now.name} priority ${now.rtprio} as started (realtime already set by the service manager).`);
    return 'kept';
  }
  const prio = opts.rtprio ?? DEFAULT_RTPRIO;
  const argv = ['--all-tasks', '--reset-on-fork', '--rr', '--pid', String(prio), String(process.pid)];
  const err = await new Promise<Error | null>((resolve) => {
    execFile(chrt, argv, { timeout: 5000 }, (e, _out, stderr) => resolve(e ? new Error(String(stderr).trim() || e.message) : null));
  });
  if (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' || /ENOENT/.test(err.message) ? 'chrt (util-linux) is not installed' : err.message;
    log.warn(`realtime on: could not switch to SCHED_RR priority ${prio} (${why}); running in the normal scheduling class, so heavy load on this host can delay heartbeats. Run hbd as root (or with CAP_SYS_NICE), or set "realtime off" in ha.cf to silence this.`);
    return 'failed';
  }
  log.info(`Running SCHED_RR priority ${prio} (realtime on${opts.rtprio === null ? ', as Heartbeat' : ''}); agents and other child processes start in the normal class.`);
  return 'set';
}
