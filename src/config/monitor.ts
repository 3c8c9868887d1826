// The `monitor` directive of ha.cf (a heartbeat-ts extension; Heartbeat v1 never checked a
// running resource). Without one, nothing is checked, as in Heartbeat.
//
//   monitor TARGET... [interval=10s] [failures=3] [restarts=3] [window=10min] [keepout=forever]
//
// TARGET: a resource as haresources writes it (`apache2`, `IPaddr::10.0.0.5/24/eth0`), every
// resource of the group holding a resource (`group:apache2`), or every resource of every
// group (`all`). A later line about the same resource replaces an earlier one. Times are
// Heartbeat's (2, 1.5, 500ms) or with a unit: s, min, h; keepout is a time or `forever`
// (until `hbctl clear GROUP`).
import { parseDuration } from './duration.js';
import type { IssueList } from './issues.js';
import type { MonitorLine, ResourceGroup } from './types.js';

export const MONITOR_DEFAULTS = { intervalMs: 10_000, failures: 3, restarts: 3, windowMs: 600_000, keepOutMs: null as number | null };

const USAGE = 'write e.g. "monitor apache2 interval=10s failures=3 restarts=3 window=10min keepout=forever"';

/** A time with Heartbeat's units, or min/h. */
function parseLongDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(min|m|h)$/.exec(text);
  if (m) return Math.round(Number(m[1]) * (m[2] === 'h' ? 3_600_000 : 60_000));
  return parseDuration(text);
}

/** Reads one `monitor` line; errors say where and what to write. */
export function parseMonitorLine(values: string[], file: string, line: number, issues: IssueList): MonitorLine | null {
  const targets = values.filter((v) => !v.includes('='));
  const opts = values.filter((v) => v.includes('='));
  if (targets.length === 0) {
    issues.error(file, line, `monitor needs a resource (as haresources writes it), group:RESOURCE or all — ${USAGE}`);
    return null;
  }
  const out: MonitorLine = { targets, ...MONITOR_DEFAULTS, line };
  for (const o of opts) {
    const [key = '', value = ''] = o.split('=', 2);
    const bad = (what: string) => issues.error(file, line, `monitor: ${key}="${value.slice(0, 40)}" must be ${what} — ${USAGE}`);
    switch (key) {
      case 'interval':
      case 'window': {
        const ms = parseLongDuration(value);
        if (ms === null || ms <= 0) {
          bad('a time greater than 0 such as 10s, 500ms or 5min');
          return null;
        }
        if (key === 'interval') out.intervalMs = ms;
        else out.windowMs = ms;
        break;
      }
      case 'keepout': {
        const ms = value === 'forever' ? null : parseLongDuration(value);
        if (value !== 'forever' && (ms === null || ms <= 0)) {
          bad('a time such as 30min, or forever (until hbctl clear)');
          return null;
        }
        out.keepOutMs = ms;
        break;
      }
      case 'failures':
      case 'restarts': {
        const n = /^\d{1,6}$/.test(value) ? Number(value) : NaN;
        if (!Number.isInteger(n) || (key === 'failures' && n < 1)) {
          bad(key === 'failures' ? 'a whole number of at least 1' : 'a whole number (0: move at the first failure)');
          return null;
        }
        if (key === 'failures') out.failures = n;
        else out.restarts = n;
        break;
      }
      default:
        issues.error(file, line, `monitor: unknown setting "${key.slice(0, 40)}" — the settings are interval, failures, restarts, window and keepout; ${USAGE}`);
        return null;
    }
  }
  return out;
}

/**
 * Checks each line's targets against haresources: a target that names no resource is an
 * error at its ha.cf line (a typo would otherwise leave a service silently unmonitored).
 */
export function checkMonitorTargets(lines: readonly MonitorLine[], groups: readonly ResourceGroup[], file: string, issues: IssueList): void {
  const known = new Set(groups.flatMap((g) => g.resources.map((r) => r.raw)));
  for (const l of lines) {
    for (const t of l.targets) {
      const name = t.startsWith('group:') ? t.slice('group:'.length) : t;
      if (t === 'all' || known.has(name)) continue;
      const hint = [...known].find((k) => k.toLowerCase() === name.toLowerCase() || k.startsWith(`${name}::`));
      issues.error(file, l.line, `monitor: "${t.slice(0, 80)}" is not a resource of haresources — name it as haresources writes it${hint ? ` (did you mean "${hint}"?)` : ''}, or write group:RESOURCE or all`);
    }
  }
}

/** The resources of `group` the lines monitor, by index, each with its last line's settings. */
export function monitorsOf(group: ResourceGroup, lines: readonly MonitorLine[]): { resource: number; intervalMs: number; failures: number; restarts: number; windowMs: number; keepOutMs: number | null }[] {
  const byIndex = new Map<number, MonitorLine>();
  const raws = group.resources.map((r) => r.raw);
  for (const l of lines) {
    for (const t of l.targets) {
      const hit = t === 'all' || (t.startsWith('group:') ? raws.includes(t.slice('group:'.length)) : false) ? raws.map((_, i) => i) : raws.flatMap((r, i) => (r === t ? [i] : []));
      for (const i of hit) byIndex.set(i, l);
    }
  }
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([resource, l]) => ({ resource, intervalMs: l.intervalMs, failures: l.failures, restarts: l.restarts, windowMs: l.windowMs, keepOutMs: l.keepOutMs }));
}

/**
 * The groups an operator's name means (`hbctl clear NAME`): `all`, a group's id (its
 * haresources line), or a resource of it as haresources writes it. Empty: no such group.
 */
export function groupsNamed(groups: readonly { id: string; resources: readonly string[] }[], name: string): string[] {
  const n = name.trim().replace(/\s+/g, ' ');
  if (n === 'all') return groups.map((g) => g.id);
  const byId = groups.filter((g) => g.id === n);
  if (byId.length > 0) return byId.map((g) => g.id);
  return groups.filter((g) => g.resources.includes(n)).map((g) => g.id);
}
