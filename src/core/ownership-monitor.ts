// Resource monitoring within ownership's step: checks issued while a group runs, their answers
// turned into restarts or a keep-out (the rules are in monitor.ts), `hbctl clear`, and a
// restart cut short when the group must be let go after all. Pure, like ownership.ts.
import { groupLabel } from './group.js';
import * as L from './lease.js';
import type { MembershipView } from './membership.js';
import * as Mon from './monitor.js';
import type { OwnershipEffect } from './ownership-events.js';
import { leaseView, yieldsTo, type OwnershipState } from './ownership-state.js';
import * as S from './sequencer.js';
import { expired } from './timeout.js';

/** The part of ownership's step in progress these rules read and write. */
export interface MonitorTurn {
  s: OwnershipState;
  view: MembershipView;
  now: number;
  effects: OwnershipEffect[];
  advertise: boolean;
}

function log(t: MonitorTurn, level: 'info' | 'warn' | 'error', text: string): void {
  t.effects.push({ kind: 'log', level, text });
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** Runs the group's next check if one is due (and ends a keep-out whose time is over). */
export function checkMonitors(t: MonitorTurn, g: number): void {
  const lg = t.s.local[g]!;
  const def = t.s.groups[g]!;
  const after = Mon.expire(lg.monitor, t.now);
  if (after !== lg.monitor) {
    lg.monitor = after;
    log(t, 'info', `Resource group ${groupLabel(def)}: this node no longer keeps out of it (its keep-out time is over).`);
    t.effects.push({ kind: 'monitor', group: g, resource: null, what: 'expired' });
    t.advertise = true;
  }
  // The same condition as the check's deadline (ownership-state.ts deadlines): a due check is always issued.
  if (lg.run.phase !== 'running' || lg.run.afterStall) return;
  lg.monitor = Mon.rescheduled(lg.monitor, def, t.now);
  const r = Mon.due(lg.monitor, t.now);
  if (r === null) return;
  lg.monitor = Mon.begun(lg.monitor, r);
  t.effects.push({ kind: 'agent', group: g, resource: r, action: 'monitor' });
}

/** A check's answer: nothing, a count, a restart, or a keep-out (the stop follows in decide). */
export function onMonitorDone(t: MonitorTurn, ev: { group: number; resource: number; ok: boolean; running?: boolean }): void {
  const lg = t.s.local[ev.group];
  if (!lg) return;
  const def = t.s.groups[ev.group]!;
  const runningNow = lg.run.phase === 'running' && !lg.run.afterStall;
  const r = Mon.answer(lg.monitor, def, ev.resource, ev.ok && ev.running === true, runningNow, t.now);
  lg.monitor = r.state;
  const v = r.verdict;
  const name = def.resources[ev.resource] ?? '?';
  const label = groupLabel(def);
  const effect = (what: 'failed' | 'recovered' | 'restart' | 'keep-out', until?: number): void => {
    t.effects.push({ kind: 'monitor', group: ev.group, resource: ev.resource, what, ...(until !== undefined ? { until } : {}) });
  };
  const why = ev.ok ? 'it is not running' : 'its status call failed';
  switch (v.kind) {
    case 'stale':
      return;
    case 'healthy':
      if (v.recovered) {
        log(t, 'info', `Resource ${name} passes its monitor again.`);
        effect('recovered');
      }
      return;
    case 'failed':
      log(t, 'warn', `Resource ${name} of ${label} failed its monitor: ${why} (${v.count} of ${v.of} failures in a row before a restart).`);
      effect('failed');
      return;
    case 'restart': {
      log(t, 'warn', `Resource ${name} of ${label} failed its monitor: ${why}; restart ${v.count} of ${v.of} allowed within the window.`);
      effect('failed');
      effect('restart');
      const step = S.beginRestart(lg.run, ev.resource, { group: ev.group, def, timing: t.s.config, now: t.now });
      lg.run = step.run;
      t.effects.push(...step.effects);
      t.advertise = true;
      return;
    }
    case 'keep-out': {
      const until = Number.isFinite(v.until) ? `for ${seconds(v.until - t.now)} or until cleared` : 'until cleared';
      log(t, 'error', `Resource ${name} of ${label} failed its monitor (${why}) again after ${Mon.monitorOf(def, ev.resource)?.restarts ?? 0} restart(s) within the window: moving the group to another node; this node keeps out of it ${until} (hbctl clear).`);
      effect('failed');
      effect('keep-out', v.until);
      t.advertise = true;
      return;
    }
  }
}

/** `hbctl clear`: the named groups are no longer kept out here (nor held off after a failed start). */
export function onClear(t: MonitorTurn, ids: readonly string[]): void {
  t.s.groups.forEach((def, g) => {
    if (!ids.includes(def.id)) return;
    const lg = t.s.local[g]!;
    const was = lg.monitor.keptOutUntil !== null || lg.failedUntil !== null;
    lg.monitor = Mon.cleared(lg.monitor);
    lg.failedUntil = null;
    log(t, 'info', `Resource group ${groupLabel(def)} cleared: ${was ? 'this node may run it again' : 'it was not kept out here'}; its failure counts are reset.`);
    t.effects.push({ kind: 'monitor', group: g, resource: null, what: 'cleared' });
    t.advertise = true;
  });
}

/**
 * A restart under way whose group must be let go after all: why, or null. (Not a handoff to
 * the desired owner: while we restart, the policy sees our group stopping, not running, and
 * would pick another node; the restart ends in a start, and the policy decides from there.)
 */
export function restartCutShort(t: MonitorTurn, g: number, quorate: boolean): S.StopReason | null {
  const s = t.s;
  const lg = s.local[g]!;
  if (s.leaving) return 'shutdown';
  if (lg.removed) return 'removed';
  if (!quorate) return 'quorum';
  if (yieldsTo(s, t.view, g)) return 'conflict';
  if (s.config.quorum && expired(L.leaseDeadline(lg, leaseView(s, t.view, g)), t.now)) return 'fence';
  return null;
}
