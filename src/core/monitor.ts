// Resource monitoring (ours; Heartbeat v1 never checked a running resource, keepalived's
// track_script and Pacemaker's monitor do). While a group runs here, each monitored resource
// is asked its status every interval. A resource that fails `failures` checks in a row is
// restarted (the sequencer stops the group right to left down to it, then starts it left to
// right); the `restarts`+1-th such failure within `windowMs` moves the group instead: this
// node keeps out of it (it advertises the group as failed, so the policy picks another node)
// until it is cleared by hand or `keepOutMs` has passed.
//
// Pure: every function takes a monitor state and returns the next one; nothing is written in
// place (ownership copies its local groups shallowly at each step).
import type { GroupDef, MonitorDef } from './group.js';
import { dueAt, expired, type Deadline } from './timeout.js';

export interface MonitorState {
  /** Bumped each time the group reaches running here: a check begun in an earlier run is stale. */
  runs: number;
  /** When each monitored resource (by index) is checked next, in the current run. */
  checkAt: Record<number, number>;
  /** Failed checks in a row of each resource, in the current run. */
  failed: Record<number, number>;
  /** The check in flight (one at a time per group), and the run it belongs to. */
  pending: { resource: number; run: number } | null;
  /** When the group was restarted here for failed checks (those still inside a window are kept). */
  restarts: number[];
  /** This node keeps out of the group until then (Infinity: until cleared); null: it does not. */
  keptOutUntil: number | null;
}

export const NO_MONITOR: MonitorState = { runs: 0, checkAt: {}, failed: {}, pending: null, restarts: [], keptOutUntil: null };

/** What a check's answer decides. */
export type Verdict =
  | { kind: 'stale' }
  | { kind: 'healthy'; recovered: boolean }
  | { kind: 'failed'; count: number; of: number }
  | { kind: 'restart'; resource: number; count: number; of: number }
  | { kind: 'keep-out'; resource: number; until: number };

export function monitorOf(def: GroupDef, resource: number): MonitorDef | undefined {
  return def.monitors?.find((m) => m.resource === resource);
}

export function keptOut(m: MonitorState, now: number): boolean {
  return m.keptOutUntil !== null && now < m.keptOutUntil;
}

/** The group reached running here: a new run, each monitored resource first checked one interval on. */
export function started(m: MonitorState, def: GroupDef, now: number): MonitorState {
  const checkAt: Record<number, number> = {};
  for (const d of def.monitors ?? []) checkAt[d.resource] = now + d.intervalMs;
  return { ...m, runs: m.runs + 1, checkAt, failed: {} };
}

/** A monitor a reload added to a running group is scheduled from now; one it removed is dropped. */
export function rescheduled(m: MonitorState, def: GroupDef, now: number): MonitorState {
  const mons = def.monitors ?? [];
  const known = Object.keys(m.checkAt).map(Number);
  if (mons.length === known.length && mons.every((d) => m.checkAt[d.resource] !== undefined)) return m;
  const checkAt: Record<number, number> = {};
  for (const d of mons) checkAt[d.resource] = m.checkAt[d.resource] ?? now + d.intervalMs;
  return { ...m, checkAt };
}

/** The resource to check now in a running group, or null (one in flight, or none due). */
export function due(m: MonitorState, now: number): number | null {
  if (m.pending !== null) return null;
  let best: number | null = null;
  for (const [r, at] of Object.entries(m.checkAt)) if (now >= at && (best === null || at < m.checkAt[best]!)) best = Number(r);
  return best;
}

export function begun(m: MonitorState, resource: number): MonitorState {
  return { ...m, pending: { resource, run: m.runs } };
}

/** The next check of a running group (none while one is in flight), for the shell's timer. */
export function checkDeadline(m: MonitorState, def: GroupDef): Deadline | null {
  if (m.pending !== null) return null;
  const ats = Object.values(m.checkAt);
  return ats.length === 0 ? null : dueAt('monitor', Math.min(...ats), def.id);
}

/** The end of a keep-out with a timeout. */
export function keepOutDeadline(m: MonitorState, def: GroupDef): Deadline | null {
  return m.keptOutUntil !== null && Number.isFinite(m.keptOutUntil) ? dueAt('keep-out', m.keptOutUntil, def.id) : null;
}

/**
 * A check's answer: `healthy` when the status call ended and said running. `running`: the
 * group still runs here in the run the check was begun in (otherwise its answer is stale).
 */
export function answer(m: MonitorState, def: GroupDef, resource: number, healthy: boolean, runningNow: boolean, now: number): { state: MonitorState; verdict: Verdict } {
  if (m.pending === null || m.pending.resource !== resource) return { state: m, verdict: { kind: 'stale' } };
  const live = m.pending.run === m.runs && runningNow;
  const d = monitorOf(def, resource);
  const m1: MonitorState = { ...m, pending: null };
  if (!live || !d) return { state: m1, verdict: { kind: 'stale' } };
  const checkAt = { ...m1.checkAt, [resource]: now + d.intervalMs };
  const before = m1.failed[resource] ?? 0;
  if (healthy) return { state: { ...m1, checkAt, failed: { ...m1.failed, [resource]: 0 } }, verdict: { kind: 'healthy', recovered: before > 0 } };
  const count = before + 1;
  if (count < d.failures) return { state: { ...m1, checkAt, failed: { ...m1.failed, [resource]: count } }, verdict: { kind: 'failed', count, of: d.failures } };
  const recent = m1.restarts.filter((at) => now - at < d.windowMs);
  const failed = { ...m1.failed, [resource]: 0 };
  if (recent.length >= d.restarts) {
    const until = d.keepOutMs === null ? Infinity : now + d.keepOutMs;
    return { state: { ...m1, checkAt, failed, restarts: recent, keptOutUntil: until }, verdict: { kind: 'keep-out', resource, until } };
  }
  return { state: { ...m1, checkAt, failed, restarts: [...recent, now] }, verdict: { kind: 'restart', resource, count: recent.length + 1, of: d.restarts } };
}

/** A keep-out whose timeout has passed is over. */
export function expire(m: MonitorState, now: number): MonitorState {
  return m.keptOutUntil !== null && !keptOut(m, now) ? { ...m, keptOutUntil: null, restarts: [] } : m;
}

/** `hbctl clear`: the keep-out, the restart history and the failure counts are forgotten. */
export function cleared(m: MonitorState): MonitorState {
  return { ...m, keptOutUntil: null, restarts: [], failed: {} };
}
