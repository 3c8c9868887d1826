// The ha.cf, authkeys and haresources that heartbeat-ts and Heartbeat 3.0.6 both get in the
// benchmarks: the same timers, media, key and resource line, so they are compared on the same files.
import type { Testbed } from './testbed.js';
import type { ClusterSpec } from './system.js';

const AUTH_SECRET = 'bench-shared-secret';

/** authkeys: sha1 with one shared secret. */
export const AUTHKEYS = `auth 1\n1 sha1 ${AUTH_SECRET}\n`;

function fmtTime(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}` : `${ms}ms`;
}

export function haCf(tb: Testbed, spec: ClusterSpec, logfile: string, extra: string[] = []): string {
  const t = spec.timers;
  const warn = t.warntimeMs ?? Math.floor(t.deadtimeMs / 2);
  const initdead = t.initdeadMs ?? 2 * t.deadtimeMs;
  return [
    '# written by bench/lib/ha-config.ts',
    `logfile ${logfile}`,
    'logfacility none',
    `keepalive ${fmtTime(t.keepaliveMs)}`,
    `warntime ${fmtTime(warn)}`,
    `deadtime ${fmtTime(t.deadtimeMs)}`,
    `initdead ${fmtTime(initdead)}`,
    'udpport 694',
    ...(spec.media === 'bcast' ? ['bcast eth0'] : spec.nodes.map((n) => `ucast eth0 ${tb.lan.host(n).address}`)),
    'auto_failback on',
    ...spec.nodes.map((n) => `node ${n}`),
    'crm no',
    ...extra,
    '',
  ].join('\n');
}

export function haresources(tb: Testbed, spec: ClusterSpec): string {
  return [`${spec.nodes[0]} IPaddr::${tb.vip}/${tb.prefix}/eth0`, ...(spec.extraHaresources ?? []), ''].join('\n');
}
