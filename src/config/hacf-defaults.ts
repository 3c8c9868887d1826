// ha.cf's timers and what Heartbeat derives from them when they are left out (warntime,
// initdead, deadping), then the cross-checks Heartbeat makes once the whole file is read.
import type { IssueList } from './issues.js';
import type { HaCf, Medium } from './types.js';
import { defaultQuorumCf } from './quorum-types.js';

/** Values as given, before defaults are filled in; null = not set. */
export interface GivenTimers {
  keepalive: number | null;
  deadtime: number | null;
  warntime: number | null;
  initdead: number | null;
  deadping: number | null;
}

export function defaultHaCf(): HaCf {
  return {
    nodes: [],
    media: [],
    keepaliveMs: 1000,
    deadtimeMs: 30000,
    warntimeMs: 15000,
    initdeadMs: 30000,
    deadpingMs: 30000,
    quorum: defaultQuorumCf(),
    arbiter: null,
    udpport: 694,
    baud: 19200,
    autoFailback: 'legacy',
    autojoin: 'none',
    logfile: null,
    debugfile: null,
    logfacility: null,
    useLogd: null,
    debug: 0,
    hopfudge: 1,
    realtime: true,
    rtprio: null,
    msgfmt: 'netstring',
    uuidfrom: 'file',
    compression: 'zlib',
    coredumps: true,
    crm: 'off',
    pingNodes: [],
    apiauth: [],
    respawn: [],
    stonithHosts: [],
    ext: { httpListen: null, httpTokenFile: null, httpAllowedHosts: [], logTag: null, monitors: [] },
  };
}

export interface Timers {
  keepaliveMs: number;
  deadtimeMs: number;
  warntimeMs: number;
  initdeadMs: number;
  deadpingMs: number;
}

/** The timers Heartbeat runs with, given what ha.cf sets (config.c's defaults, in its order). */
export function deriveTimers(raw: GivenTimers): Timers {
  const keepaliveMs = raw.keepalive ?? 1000;
  const deadtimeMs = raw.deadtime ?? 30000;
  const warntimeMs = raw.warntime ?? Math.floor(deadtimeMs / 2);
  let initdeadMs: number;
  if (raw.initdead !== null) initdeadMs = raw.initdead;
  else if (deadtimeMs > 10000) initdeadMs = deadtimeMs;
  else if (deadtimeMs < 6000) initdeadMs = 12000;
  else initdeadMs = 2 * deadtimeMs;
  return { keepaliveMs, deadtimeMs, warntimeMs, initdeadMs, deadpingMs: raw.deadping ?? deadtimeMs };
}

/** Heartbeat's derived defaults and sanity checks (config.c), in the same order. */
export function applyDefaults(cf: HaCf, raw: GivenTimers, file: string, issues: IssueList): void {
  Object.assign(cf, deriveTimers(raw));

  if (cf.media.length === 0) {
    issues.error(file, 0, 'no heartbeat media defined — add a bcast, ucast, mcast or serial line');
  }
  if (cf.nodes.length === 0 && cf.autojoin !== 'any') {
    issues.error(file, 0, 'no nodes defined — add a "node NAME" line for every node (names as `uname -n` prints them)');
  }
  if (cf.deadtimeMs <= 2 * cf.keepaliveMs) {
    issues.error(file, 0, `deadtime (${cf.deadtimeMs} ms) must be more than twice keepalive (${cf.keepaliveMs} ms) — raise deadtime or lower keepalive`);
  }
  if (cf.warntimeMs >= cf.deadtimeMs) {
    issues.warn(file, 0, `warntime (${cf.warntimeMs} ms) is not below deadtime (${cf.deadtimeMs} ms), so late heartbeats are never warned about — set warntime below deadtime`);
  }
  if (cf.initdeadMs < cf.deadtimeMs) {
    issues.error(file, 0, `initdead (${cf.initdeadMs} ms) is smaller than deadtime (${cf.deadtimeMs} ms) — set initdead to at least deadtime`);
  } else if (cf.initdeadMs < 10000) {
    issues.warn(file, 0, `initdead (${cf.initdeadMs} ms) may be too small: it covers slow network start-up and should be at least 10 s`);
  }
  if (cf.autojoin !== 'none') {
    issues.error(file, 0, `autojoin ${cf.autojoin} conflicts with haresources resource management (as in Heartbeat) — remove the autojoin line or set "autojoin none"`);
  }
  if (cf.autoFailback === 'legacy') {
    issues.warn(file, 0, 'auto_failback is "legacy" (the default): resources go back to their preferred node only while the other node has not announced auto_failback — write "auto_failback on" or "auto_failback off"');
  }
  checkLogging(cf, file, issues);
  const serial = cf.media.filter((m): m is Extract<Medium, { kind: 'serial' }> => m.kind === 'serial');
  if (serial.length > 0 && cf.nodes.length > 2) {
    issues.warn(file, serial[0]?.line ?? 0, 'serial links connect exactly two nodes; with more nodes, messages are not forwarded between serial links by hbd');
  }
}

/** The facility of Heartbeat's logging daemon (ha_logd) when logd.cf does not set one. */
export const LOGD_FACILITY = 'daemon';

const hasLogLines = (cf: HaCf): boolean => cf.logfile !== null || cf.debugfile !== null || cf.logfacility !== null;

/**
 * The syslog facility hbd logs to. Heartbeat hands its lines to ha_logd under `use_logd yes`,
 * and also when ha.cf names no log destination at all; hbd has no logging daemon, so it
 * writes to syslog itself with ha_logd's default facility, and its lines still land where
 * Heartbeat's would have on a host without a logd.cf.
 */
export function effectiveLogFacility(cf: HaCf): string | null {
  if (cf.logfacility !== null) return cf.logfacility;
  return cf.useLogd === true || !hasLogLines(cf) ? LOGD_FACILITY : null;
}

/** Says, as a warning, where the lines go when ha.cf leaves it to a logging daemon. */
function checkLogging(cf: HaCf, file: string, issues: IssueList): void {
  if (!hasLogLines(cf)) {
    if (cf.useLogd === false) {
      issues.error(file, 0, 'no logfile, debugfile or logfacility, and use_logd is off: nothing would be logged (Heartbeat refuses this too) — add e.g. "logfacility daemon" or "logfile /var/log/ha-log"');
    } else {
      issues.warn(file, 0, `no logfile, debugfile or logfacility${cf.useLogd ? ' and use_logd yes' : ''}: hbd has no logging daemon, so it logs to syslog itself, facility ${LOGD_FACILITY} (the logging daemon's default) — add a logfacility or logfile line to choose`);
    }
    return;
  }
  if (cf.useLogd !== true) return;
  const where = [cf.logfacility !== null ? `syslog facility ${cf.logfacility}` : `syslog facility ${LOGD_FACILITY} (the logging daemon's default)`];
  if (cf.logfile !== null) where.push(`logfile ${cf.logfile}`);
  if (cf.debugfile !== null) where.push(`debugfile ${cf.debugfile}`);
  issues.warn(file, 0, `use_logd yes: hbd has no logging daemon (logd.cf is not read); it logs to ${where.join(', ')} itself`);
}
