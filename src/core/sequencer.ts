// One resource group's run on this node: its resources started left to right (each asked
// its status first: one already running is not started again) and stopped right to left,
// a failed stop retried. The coordinator (ownership.ts) decides when a group starts or
// stops; this module only how. Pure: each function takes a run and returns the next run
// and the effects that go with it; a run is never written in place.
import type { GroupPhase } from './advert.js';
import { groupLabel, type GroupDef } from './group.js';
import type { LogLevel, LogTag } from './membership.js';
import { dueAt, expired, type Deadline } from './timeout.js';

/** `monitor`: a status call of a running group's resource (monitor.ts), answered apart from the run's own calls. */
export type AgentAction = 'status' | 'start' | 'stop' | 'monitor';

/**
 * Why a group is being stopped: a handoff to another node, the rollback of a failed start,
 * our shutdown, lost quorum, an expired lease (fence), a stall of this process long enough
 * for the peers to have declared us dead, a reload that removed it from haresources, or
 * another node that holds its resources under another line (see yieldsTo); or, for resource
 * monitoring, a restart (the stop goes down to the failed resource only, then the start
 * follows) or a keep-out (this node moves the group away after too many restarts).
 */
export type StopReason = 'release' | 'rollback' | 'shutdown' | 'quorum' | 'fence' | 'stall' | 'removed' | 'conflict' | 'restart' | 'kept-out';

/** The stop of a group, which may have failed for good (stop-failed) and still be retried. */
export interface StopRun {
  phase: 'stopping' | 'stop-failed';
  /** Resources 0 .. left-1 may still be running: the next stop is of resource left-1. */
  left: number;
  pending: 'stop' | null;
  reason: StopReason;
  /** Failed stops of the current resource in a row. */
  attempts: number;
  /** A failed stop is tried again at this time. */
  retryAt: number | null;
  /** A restart stops down to this resource (it included), then starts from it; otherwise 0. */
  until: number;
}

export type Run =
  | { phase: 'stopped' }
  /**
   * Resources 0 .. done-1 run; resource `done` is asked its status, then started if need be
   * (`next`). Each call is issued by advance(), never straight from the answer to the one
   * before: the coordinator may have to stop instead (a lease that ran out while we waited).
   */
  | { phase: 'starting'; done: number; pending: 'status' | 'start' | null; next: 'status' | 'start'; afterStall: boolean }
  /** `afterStall`: we stalled for a deadtime; the peers may have taken over: stop once no call is pending. */
  | { phase: 'running'; afterStall: boolean }
  | StopRun;

export const STOPPED: Run = { phase: 'stopped' };

export type TransitionKind = 'takeover' | 'failback' | 'release' | 'start-failed' | 'stop-failed' | 'standby' | 'acquired';

/** What happens to a group, as data: agent calls, log lines, phase changes, resources up or down. */
export type GroupEffect =
  | { kind: 'agent'; group: number; resource: number; action: AgentAction }
  | { kind: 'log'; level: LogLevel; text: string; tag?: LogTag }
  | { kind: 'group-phase'; group: number; from: GroupPhase; to: GroupPhase }
  | { kind: 'transition'; group: number; what: TransitionKind; from?: string | null }
  /**
   * Resource `resource` of the group is now running here (`running`), or no longer: learned
   * from a start, a status that found it running, or a stop. The shell maps resources to what
   * it guards (addresses) and counts; after a failed start or stop, nothing is said.
   */
  | { kind: 'resource'; group: number; resource: number; running: boolean };

/** The retry timing of a failed stop (OwnershipTuning's). */
export interface StopTiming {
  stopRetries: number;
  stopRetryDelayMs: number;
  stopFailedRetryMs: number;
}

/** Which group, and what is needed to drive its run. */
export interface RunContext {
  group: number;
  def: GroupDef;
  timing: StopTiming;
  now: number;
}

export interface RunStep {
  run: Run;
  effects: GroupEffect[];
}

/** An agent call is in flight: nothing else is done with the group until it returns. */
export function busy(run: Run): boolean {
  return (run.phase === 'starting' || run.phase === 'stopping' || run.phase === 'stop-failed') && run.pending !== null;
}

function phaseChange(c: RunContext, from: Run, to: Run, effects: GroupEffect[]): RunStep {
  if (from.phase !== to.phase) effects.push({ kind: 'group-phase', group: c.group, from: from.phase, to: to.phase });
  return { run: to, effects };
}

export function beginStart(run: Run, c: RunContext): RunStep {
  const effects: GroupEffect[] = [{ kind: 'log', level: 'info', text: `Acquiring resource group: ${groupLabel(c.def)}`, tag: 'ResourceManager' }];
  return phaseChange(c, run, { phase: 'starting', done: 0, pending: null, next: 'status', afterStall: false }, effects);
}

/**
 * `from`: the last resource that may be running (a rollback stops the one whose start failed
 * too). Otherwise all of them, unless a start was cut short.
 */
export function beginStop(run: Run, reason: StopReason, c: RunContext, from?: number): RunStep {
  const effects: GroupEffect[] = [];
  if (reason !== 'rollback') effects.push({ kind: 'log', level: 'info', text: `Releasing resource group: ${groupLabel(c.def)}`, tag: 'ResourceManager' });
  if (reason === 'release' || reason === 'removed' || reason === 'conflict' || reason === 'kept-out') effects.push({ kind: 'transition', group: c.group, what: 'release' });
  const n = c.def.resources.length;
  const left = from !== undefined ? from + 1 : run.phase === 'starting' ? Math.min(run.done + 1, n) : n;
  return phaseChange(c, run, { phase: 'stopping', left, pending: null, reason, attempts: 0, retryAt: null, until: 0 }, effects);
}

/**
 * Resource `from` of a running group failed its monitor: stop the resources right to left
 * down to it, then start them again left to right (advance goes on to starting). The group
 * is held all along (stopping, then starting): no other node may take it meanwhile.
 */
export function beginRestart(run: Run, from: number, c: RunContext): RunStep {
  const name = c.def.resources[from] ?? '?';
  const effects: GroupEffect[] = [{ kind: 'log', level: 'warn', text: `Restarting resource ${name} of resource group ${groupLabel(c.def)} (stopping it and the resources after it, then starting them again).`, tag: 'ResourceManager' }];
  return phaseChange(c, run, { phase: 'stopping', left: c.def.resources.length, pending: null, reason: 'restart', attempts: 0, retryAt: null, until: from }, effects);
}

/** A restart's stop becomes a full stop (it must let go of the group after all). */
export function restartToStop(run: StopRun, reason: StopReason): StopRun {
  return { ...run, reason, until: 0 };
}

/** The wait before the next try of a failed stop. */
export function retryDeadline(run: Run): Deadline | null {
  return (run.phase === 'stopping' || run.phase === 'stop-failed') && run.retryAt !== null ? dueAt('stop-retry', run.retryAt) : null;
}

/** The next call, or the next phase, of a run with no call in flight. */
export function advance(run: Run, c: RunContext): RunStep & { reached?: 'running' | 'stopped' } {
  if (busy(run)) return { run, effects: [] };
  if (run.phase === 'starting') {
    if (run.done >= c.def.resources.length) return { ...phaseChange(c, run, { phase: 'running', afterStall: run.afterStall }, []), reached: 'running' };
    return { run: { ...run, pending: run.next }, effects: [{ kind: 'agent', group: c.group, resource: run.done, action: run.next }] };
  }
  if (run.phase !== 'stopping' && run.phase !== 'stop-failed') return { run, effects: [] };
  const retry = retryDeadline(run);
  if (retry && !expired(retry, c.now)) return { run, effects: [] };
  if (run.reason === 'restart' && run.left <= run.until) {
    // Stopped down to the failed resource: now the start, from it, left to right.
    return phaseChange(c, run, { phase: 'starting', done: run.until, pending: null, next: 'status', afterStall: false }, []);
  }
  if (run.left === 0) {
    const done = phaseChange(c, run, STOPPED, []);
    const label = groupLabel(c.def);
    if (run.reason === 'rollback') done.effects.push({ kind: 'log', level: 'warn', text: `Resource group ${label} stopped after its failed start; another node may take it.` });
    else done.effects.push({ kind: 'log', level: 'info', text: `Resource group ${label} released.` });
    return { ...done, reached: 'stopped' };
  }
  return { run: { ...run, retryAt: null, pending: 'stop' }, effects: [{ kind: 'agent', group: c.group, resource: run.left - 1, action: 'stop' }] };
}

export interface AgentResult {
  resource: number;
  action: AgentAction;
  ok: boolean;
  running?: boolean;
}

/** An agent call returned; null when it is not the call this run waits for (a stale answer). */
export function agentDone(run: Run, ev: AgentResult, c: RunContext): (RunStep & { startFailed: boolean }) | null {
  if (run.phase === 'starting' && run.pending === ev.action && run.done === ev.resource) return { ...startDone(run, ev, c), startFailed: !startWent(ev) };
  if ((run.phase === 'stopping' || run.phase === 'stop-failed') && run.pending === ev.action && run.left - 1 === ev.resource) return { ...stopDone(run, ev, c), startFailed: false };
  return null;
}

function startWent(ev: AgentResult): boolean {
  return ev.action === 'status' || ev.ok;
}

function startDone(run: Extract<Run, { phase: 'starting' }>, ev: AgentResult, c: RunContext): RunStep {
  const name = c.def.resources[ev.resource] ?? '?';
  const up = (): GroupEffect => ({ kind: 'resource', group: c.group, resource: ev.resource, running: true });
  if (ev.action === 'status' && ev.running) {
    return { run: { ...run, done: run.done + 1, pending: null, next: 'status' }, effects: [{ kind: 'log', level: 'info', text: `Resource ${name} is already running.` }, up()] };
  }
  if (ev.action === 'status') return { run: { ...run, pending: null, next: 'start' }, effects: [] };
  if (ev.ok) return { run: { ...run, done: run.done + 1, pending: null, next: 'status' }, effects: [up()] };
  // Undo what this group started, right to left, the failed one included: never half-started.
  const rollback = beginStop({ ...run, pending: null }, 'rollback', c, ev.resource);
  return {
    run: rollback.run,
    effects: [
      { kind: 'log', level: 'error', text: `Resource ${name} failed to start: stopping resource group ${groupLabel(c.def)} again so it never runs half-started.` },
      { kind: 'transition', group: c.group, what: 'start-failed' },
      ...rollback.effects,
    ],
  };
}

function stopDone(run: StopRun, ev: AgentResult, c: RunContext): RunStep {
  const name = c.def.resources[ev.resource] ?? '?';
  if (ev.ok) {
    const effects: GroupEffect[] = [{ kind: 'resource', group: c.group, resource: ev.resource, running: false }];
    return phaseChange(c, run, { ...run, phase: 'stopping', left: run.left - 1, pending: null, attempts: 0 }, effects);
  }
  const attempts = run.attempts + 1;
  const t = c.timing;
  if (attempts <= t.stopRetries) {
    return { run: { ...run, pending: null, attempts, retryAt: c.now + t.stopRetryDelayMs }, effects: [{ kind: 'log', level: 'info', text: `Retrying failed stop operation [${name}]` }] };
  }
  const effects: GroupEffect[] = [];
  if (run.phase !== 'stop-failed') {
    effects.push({ kind: 'log', level: 'crit', text: `Resource ${name} failed to stop: resource group ${groupLabel(c.def)} may still be running here; no other node will start it until it stops. Fix the cause; hbd keeps retrying every ${Math.round(t.stopFailedRetryMs / 1000)} s.` });
    effects.push({ kind: 'transition', group: c.group, what: 'stop-failed' });
  }
  return phaseChange(c, run, { ...run, phase: 'stop-failed', pending: null, attempts, retryAt: c.now + t.stopFailedRetryMs }, effects);
}

/** After a stall of a deadtime: a held group is to be let go as soon as no call is pending. */
export function afterStall(run: Run): Run {
  return run.phase === 'starting' || run.phase === 'running' ? { ...run, afterStall: true } : run;
}
