// Each node's configuration in a schedule (its timers as hbd derives them, its haresources,
// its auto_failback) and the bounds the invariants are checked against, derived from them.
import type { Timers } from '../core/membership.js';
import { deriveTimers } from '../config/hacf-defaults.js';
import { defaultFenceMs } from '../core/ownership.js';
import { HOLD_CAP_FACTOR } from '../core/policy.js';
import { faultEnd, type Fault, type Schedule, type SimConfig } from './schedule.js';

/** The bounds the invariants are checked against, derived from a schedule's configuration. */
export interface Bounds {
  maxKeepaliveMs: number;
  maxDeadtimeMs: number;
  minDeadtimeMs: number;
  maxInitdeadMs: number;
  /** The most a packet takes without delay faults. */
  maxDelayMs: number;
  /** The longest agent call that can be in flight (a hung call: its timeout). */
  maxCallMs: number;
  /** Time to stop a whole group once a stop is due: a call in flight, then every resource's stop. */
  stopBudgetMs: number;
  /** Time to start a whole group: status and start of every resource. */
  startBudgetMs: number;
  /** The smallest fence (see OwnershipTuning.fenceMs) of any node. */
  minFenceMs: number;
  failbackDelayMs: number;
  /** Liveness: in a quiet period, every group has one running owner from this long after it began. */
  settleMs: number;
  /** Fast failover: after a crash of the owner in a settled cluster, a new owner runs the group within this. */
  failoverMs: number;
  /** 2 nodes: a double ownership ends within this after both nodes heard each other during it. */
  resolveMs: number;
  /** Liveness is promised (quorum clusters: timers alike enough for leases, see leasesFeasible). */
  livenessPromised: boolean;
}

export interface NodeCfg {
  timers: Timers;
  autoFailback: 'on' | 'off';
  /** Group ids in this node's haresources order. */
  groups: string[];
  digest: string;
}

/**
 * A node's timers as hbd derives them from an ha.cf with `keepalive`, `deadtime` and
 * `initdead` (twice the deadtime, as the seeds set it) lines: warntime is the product's default.
 */
export function timersFor(keepaliveMs: number, deadtimeMs: number): Timers {
  const t = deriveTimers({ keepalive: keepaliveMs, deadtime: deadtimeMs, warntime: null, initdead: 2 * deadtimeMs, deadping: null });
  return { keepaliveMs: t.keepaliveMs, deadtimeMs: t.deadtimeMs, warntimeMs: t.warntimeMs, initdeadMs: t.initdeadMs };
}

/** Each node's configuration at its first boot, differences applied (faults of kind 'config' among `faults`). */
export function nodeConfigs(config: SimConfig, faults: readonly Fault[]): NodeCfg[] {
  return config.nodes.map((name) => {
    let timers = config.timers;
    let autoFailback = config.autoFailback;
    let groups = config.groups.filter((g) => !g.fromReload).map((g) => g.id);
    for (const f of faults) {
      if (f.kind !== 'config' || f.node !== name) continue;
      if (f.change === 'timers') timers = timersFor(f.keepaliveMs, f.deadtimeMs);
      else if (f.change === 'failback') autoFailback = autoFailback === 'on' ? 'off' : 'on';
      else {
        if (f.drop) groups = groups.filter((g) => g !== f.drop);
        if (f.shuffle) groups = [...groups].reverse();
      }
    }
    return cfgOf(timers, autoFailback, groups);
  });
}

function cfgOf(timers: Timers, autoFailback: 'on' | 'off', groups: string[]): NodeCfg {
  return { timers, autoFailback, groups, digest: `${timers.keepaliveMs}/${timers.deadtimeMs}/${autoFailback}/${groups.join('|')}` };
}

/** A node's configuration after a reload fault: its timers and haresources; auto_failback stays. */
export function reloadedCfg(prev: NodeCfg, f: Extract<Fault, { kind: 'reload' }>): NodeCfg {
  return cfgOf(timersFor(f.keepaliveMs, f.deadtimeMs), prev.autoFailback, [...f.groups]);
}

/** Every configuration any node has during the run (at boot, and after each reload): the bounds hold for all. */
export function allConfigs(config: SimConfig, faults: readonly Fault[]): NodeCfg[] {
  const boot = nodeConfigs(config, faults);
  const reloaded = faults.flatMap((f) => (f.kind === 'reload' ? [reloadedCfg(boot[config.nodes.indexOf(f.node)]!, f)] : []));
  return [...boot, ...reloaded];
}

/** The smallest fence of any node (its own default: see ownership.ts defaultFenceMs). */
export function minFence(cfgs: NodeCfg[]): number {
  return Math.min(...cfgs.map((c) => defaultFenceMs(c.timers.deadtimeMs, c.timers.keepaliveMs)));
}

/**
 * Whether every lease can last: for every holder Y and granter X, X's deadtime minus Y's
 * fence leaves 3 keepalives (of either). Always true with the same timers everywhere; with
 * timers that differ more, quorum leases are too short to keep a group running (safety
 * holds, liveness is not promised).
 */
export function leasesFeasible(cfgs: NodeCfg[]): boolean {
  for (const x of cfgs) {
    for (const y of cfgs) {
      const fence = defaultFenceMs(y.timers.deadtimeMs, y.timers.keepaliveMs);
      if (x.timers.deadtimeMs - fence < 3 * Math.max(x.timers.keepaliveMs, y.timers.keepaliveMs)) return false;
    }
  }
  return true;
}

export function boundsOf(config: SimConfig, cfgs: NodeCfg[]): Bounds {
  const keep = cfgs.map((c) => c.timers.keepaliveMs);
  const dead = cfgs.map((c) => c.timers.deadtimeMs);
  const init = cfgs.map((c) => c.timers.initdeadMs);
  const maxRes = Math.max(...config.groups.map((g) => g.resources.length));
  const a = config.agent;
  const maxCallMs = Math.max(a.timeoutMs.start, a.timeoutMs.stop, a.timeoutMs.status, a.maxMs);
  const stopBudgetMs = maxCallMs + maxRes * a.maxMs + 2;
  const startBudgetMs = maxRes * 2 * a.maxMs + 2;
  const maxKeepaliveMs = Math.max(...keep);
  const maxDeadtimeMs = Math.max(...dead);
  const maxInitdeadMs = Math.max(...init);
  const maxDelayMs = config.net.maxMs;
  const failbackDelayMs = config.tuning.failbackDelayMs ?? maxDeadtimeMs;
  const t = config.tuning;
  const stopFailedRetryMs = Math.max(t.stopFailedRetryMs ?? 30_000, t.stopRetryDelayMs ?? 1000);
  // Fencing: the fence itself before a takeover, and (after a failed or hung one) its retry.
  const f = config.fencing;
  const fenceMs = f ? Math.max(f.maxMs, f.timeoutMs) + f.retryMs + f.maxMs + f.rebootMs : 0;
  // Ping nodes: a route back counts after deadping without a gap (the hysteresis), found dead after deadping.
  const pingMs = config.ping ? 2 * config.ping.deadpingMs + 2 * config.ping.intervalMs : 0;
  // The etcd arbiter: a lease outlives its silent holder by up to a TTL; then a watch, a read and a campaign.
  const arb = config.arbiter;
  const arbiterMs = arb ? arb.ttlMs + 3 * Math.floor(arb.ttlMs / 5) + 12 * arb.maxMs : 0;
  // Failback waits out the longest hold-down of a node lost again and again (flap damping).
  const settleMs = arbiterMs + pingMs + maxInitdeadMs + maxDeadtimeMs + HOLD_CAP_FACTOR * failbackDelayMs + stopFailedRetryMs + stopBudgetMs + startBudgetMs + 6 * maxKeepaliveMs + 6 * maxDelayMs + fenceMs;
  const failoverMs = Math.max(maxDeadtimeMs, arbiterMs) + 3 * maxDelayMs + startBudgetMs + 5 + (f ? f.maxMs : 0);
  return {
    maxKeepaliveMs,
    maxDeadtimeMs,
    minDeadtimeMs: Math.min(...dead),
    maxInitdeadMs,
    maxDelayMs,
    maxCallMs,
    stopBudgetMs,
    startBudgetMs,
    minFenceMs: minFence(cfgs),
    failbackDelayMs,
    settleMs,
    failoverMs,
    resolveMs: stopBudgetMs,
    livenessPromised: config.nodes.length < 3 || leasesFeasible(cfgs),
  };
}

/** The times with no fault in effect: between the last boot or fault end and the next fault. */
export function quietPeriods(schedule: Schedule): [number, number][] {
  const spans: [number, number][] = [[0, Math.max(...schedule.config.bootAt)]];
  for (const f of schedule.faults) if (f.kind !== 'config') spans.push([f.at, faultEnd(f)]);
  spans.sort((x, y) => x[0] - y[0]);
  const quiet: [number, number][] = [];
  let end = -Infinity;
  for (const [s, e] of spans) {
    if (s > end && end > -Infinity) quiet.push([end, s]);
    end = Math.max(end, e);
  }
  quiet.push([end, Infinity]);
  return quiet;
}
