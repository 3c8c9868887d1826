// A schedule: the cluster configuration of one simulated run and the faults injected into it,
// all drawn from one seed. Shrinking removes faults (by index), so a shrunk schedule is named
// by its seed and the indices it keeps.
import type { Timers } from '../core/membership.js';
import type { OwnershipTuning, Scope } from '../core/ownership.js';
import { allConfigs, boundsOf, minFence, nodeConfigs, timersFor, type NodeCfg } from './bounds.js';
import { drawReloads } from './reloads.js';
import { drawMonitors } from './monitors.js';
import { drawWitness } from './quorum-sources.js';
import { drawFencing, type SimFencing } from './fencing.js';
import { drawCrashLoop } from './crash-loops.js';
import { drawPings, type SimPing } from './pings.js';
import { describeEtcdFault, drawArbiter, type SimArbiter } from './etcd.js';
import { chance, derive, int, mulberry32, pick, shuffled, uniform, type Rng } from './prng.js';

export interface SimGroup {
  id: string;
  preferredNode: string;
  resources: string[];
  /** In no node's haresources at boot: a reload fault adds it. */
  fromReload?: true;
  /** Every resource of it monitored with these settings (ha.cf `monitor`). */
  monitor?: SimMonitor;
}

export interface SimMonitor {
  intervalMs: number;
  failures: number;
  restarts: number;
  windowMs: number;
  keepOutMs: number;
}

export interface AgentModel {
  /** A call that neither fails nor hangs takes a uniform time in [minMs, maxMs]. */
  minMs: number;
  maxMs: number;
  /** The daemon's timeouts: a hung call is reported failed (ok: false) after these. */
  timeoutMs: { start: number; stop: number; status: number };
}

export interface SimConfig {
  /** The nodes, and the witness (last) when there is one. */
  nodes: string[];
  /** A witness (quorum-sources.ts): it votes, and runs no group. */
  witness?: string;
  /** Fence devices (fencing.ts): nodes lost uncleanly are fenced before a takeover. */
  fencing?: SimFencing;
  /** Ping nodes every node pings (pings.ts), and whether ipfail acts on them. */
  ping?: SimPing;
  /** The etcd arbiter (etcd.ts): a modelled lease service decides who runs each group. */
  arbiter?: SimArbiter;
  links: string[];
  groups: SimGroup[];
  timers: Timers;
  autoFailback: 'on' | 'off';
  tuning: Partial<OwnershipTuning>;
  agent: AgentModel;
  /** One-way network delay of every packet: uniform in [minMs, maxMs] (plus delay faults). */
  net: { minMs: number; maxMs: number };
  /** When each node boots (ms). */
  bootAt: number[];
  durationMs: number;
}

export type FaultKind = Fault['kind'];

export type Fault =
  /** Every packet is lost with probability `rate` (each copy on each link on its own). */
  | { kind: 'loss'; at: number; durMs: number; rate: number }
  /** Every packet is delayed by an extra uniform [0, extraMs]: reordering. */
  | { kind: 'delay'; at: number; durMs: number; extraMs: number }
  /** Every packet is delivered twice with probability `rate`. */
  | { kind: 'dup'; at: number; durMs: number; rate: number }
  /**
   * Packets from `side` to `others` (default: every other node), and back unless oneWay,
   * are dropped, on `link` or on all links. With `others`, connectivity is non-transitive.
   */
  | { kind: 'partition'; at: number; durMs: number; side: string[]; others?: string[]; oneWay: boolean; link: string | null }
  /** Power-off: the node and its resources are gone; it boots again (new generation) after downMs. */
  | { kind: 'crash'; at: number; node: string; downMs: number }
  /** Graceful stop (hbd's SIGTERM): release, goodbye, exit; boots again after downMs. */
  | { kind: 'shutdown'; at: number; node: string; downMs: number }
  /** A frozen VM: the node does nothing for durMs, then resumes (its clock jumped). */
  | { kind: 'pause'; at: number; node: string; durMs: number }
  | { kind: 'standby'; at: number; node: string; scope: Scope }
  | { kind: 'takeover'; at: number; node: string; scope: Scope }
  /** Agent calls of `action` on `node` (for `group`, or all) fail or hang with probability `rate`. */
  | { kind: 'agent'; at: number; durMs: number; node: string; group: string | null; action: 'start' | 'stop' | 'status'; mode: 'fail' | 'hang'; rate: number }
  /** A configuration difference on one node, from its first boot: other timers, the other auto_failback, or a group missing. */
  | { kind: 'config'; at: 0; node: string; change: 'timers'; keepaliveMs: number; deadtimeMs: number }
  | { kind: 'config'; at: 0; node: string; change: 'failback' }
  | { kind: 'config'; at: 0; node: string; change: 'groups'; drop: string | null; shuffle: boolean }
  /**
   * hbd's SIGHUP on `node` after its files changed: these timers and this haresources (group
   * ids, in order) from now on, and at its next boot. Drawn as a rolling reload (reloads.ts).
   */
  | { kind: 'reload'; at: number; node: string; keepaliveMs: number; deadtimeMs: number; groups: string[] }
  /** Resource `resource` of `group`, running on `node`, dies behind a healthy hbd `kills` times, `everyMs` apart. */
  | { kind: 'monitor'; at: number; node: string; group: string; resource: number; kills: number; everyMs: number }
  /** Fence calls by `node` (or by any) fail or hang with probability `rate` (fencing.ts). */
  | { kind: 'fence'; at: number; durMs: number; node: string | null; mode: 'fail' | 'hang'; rate: number }
  /** `node` gets no echo reply from ping node `target` (or from any): its route is gone (pings.ts). */
  | { kind: 'ping-loss'; at: number; durMs: number; node: string; target: string | null }
  /** The etcd arbiter's faults (etcd.ts): `node` cut from etcd, a member down or cut from the others, two members down. */
  | { kind: 'etcd'; at: number; durMs: number; what: 'cut' | 'member-down' | 'member-partitioned' | 'quorum'; node?: string; member?: number };

export interface Schedule {
  seed: number;
  config: SimConfig;
  faults: Fault[];
}

export interface GenerateOptions {
  /** Number of nodes (default: drawn from 2..7). */
  nodes?: number;
  /** Length of the part of the run where faults happen (default: drawn from [10 s, 40 s]). */
  faultWindowMs?: [number, number];
  /** At most this many faults (default 8). */
  maxFaults?: number;
  /** Probability of a final clean crash of a preferred node (default 0.35). */
  epilogue?: number;
  /** Probability of reload faults, a rolling reload or two (default 0.2; see reloads.ts). */
  reloads?: number;
  /** Probability of monitored groups and monitor faults (default 0; see monitors.ts). */
  monitors?: number;
  /** 2 nodes: probability of a witness and its faults (default 0; see quorum-sources.ts). */
  witness?: number;
  /** Probability of fence devices and their faults (default 0; see fencing.ts). */
  fencing?: number;
  /** Probability of ping nodes (ipfail on) and ping-node loss faults (default 0; see pings.ts). */
  ping?: number;
  /** Probability of the etcd arbiter and its faults (default 0; see etcd.ts). */
  arbiter?: number;
  /** Probability of a crash-looping preferred node (default 0.15; see crash-loops.ts). */
  crashLoops?: number;
}

const NODE_WEIGHTS: [number, number][] = [
  [2, 30],
  [3, 30],
  [4, 12],
  [5, 12],
  [6, 8],
  [7, 8],
];

const FAULT_WEIGHTS: [Exclude<FaultKind, 'config' | 'reload'>, number][] = [
  ['loss', 2],
  ['delay', 1],
  ['dup', 1],
  ['partition', 3],
  ['crash', 2],
  ['shutdown', 1],
  ['pause', 2],
  ['standby', 1],
  ['takeover', 1],
  ['agent', 2],
];

function weighted<T>(rng: Rng, items: readonly [T, number][]): T {
  const total = items.reduce((s, [, w]) => s + w, 0);
  let x = rng() * total;
  for (const [v, w] of items) {
    x -= w;
    if (x < 0) return v;
  }
  return items[items.length - 1]![0];
}

/** The schedule of seed `seed`: same seed and options, same schedule, on every machine. */
export function generateSchedule(seed: number, opts: GenerateOptions = {}): Schedule {
  const rng = mulberry32(derive(seed, 1));
  const n = opts.nodes ?? weighted(rng, NODE_WEIGHTS);
  if (n < 2 || n > 7) throw new RangeError(`nodes must be 2..7, not ${n}`);
  const nodes = Array.from({ length: n }, (_, i) => `n${i + 1}`);
  const links = chance(rng, 0.3) ? ['eth0', 'eth1'] : ['eth0'];
  const groups: SimGroup[] = Array.from({ length: int(rng, 1, 3) }, (_, g) => {
    const preferredNode = pick(rng, nodes);
    const resources = Array.from({ length: int(rng, 1, 3) }, (_, r) => `g${g}r${r}`);
    return { id: [preferredNode, ...resources].join(' '), preferredNode, resources };
  });
  const keepaliveMs = pick(rng, [100, 150, 200, 250]);
  const deadtimeMs = keepaliveMs * int(rng, 4, 8);
  const timers = timersFor(keepaliveMs, deadtimeMs);
  const autoFailback = chance(rng, 0.5) ? 'on' : 'off';

  // Configuration differences (kept first in the fault list: they hold from the start).
  const faults: Fault[] = [];
  if (chance(rng, 0.15)) {
    for (let k = int(rng, 1, 2); k > 0; k--) {
      const node = pick(rng, nodes);
      const change = pick(rng, ['timers', 'failback', 'groups'] as const);
      if (change === 'timers') {
        const ka = pick(rng, [100, 150, 200, 250]);
        faults.push({ kind: 'config', at: 0, node, change, keepaliveMs: ka, deadtimeMs: ka * int(rng, 4, 8) });
      } else if (change === 'failback') {
        faults.push({ kind: 'config', at: 0, node, change });
      } else {
        // Drop a group only where enough nodes keep it for a majority to exist.
        const drop = groups.length > 1 && chance(rng, 0.7) ? pick(rng, groups).id : null;
        faults.push({ kind: 'config', at: 0, node, change, drop, shuffle: chance(rng, 0.5) });
      }
    }
  }
  const cfgs = nodeConfigs({ nodes, groups, timers, autoFailback } as SimConfig, faults);
  const maxDead = Math.max(...cfgs.map((c) => c.timers.deadtimeMs));
  let agent = agentModel(cfgs);
  const netMin = uniform(rng, 0.1, 1);
  const net = { minMs: netMin, maxMs: netMin + uniform(rng, 0, 5) };
  const tuning: Partial<OwnershipTuning> = { stopRetries: 2, stopRetryDelayMs: 100, stopFailedRetryMs: 1000, failedStartHoldMs: 3000, failbackDelayMs: maxDead };
  const lateBoot = chance(rng, 0.2);
  const bootAt = nodes.map(() => Math.floor(lateBoot ? uniform(rng, 0, 3 * deadtimeMs) : uniform(rng, 0, 50)));

  let partial: SimConfig = { nodes, links, groups, timers, autoFailback, tuning, agent, net, bootAt, durationMs: 0 };
  let bounds = boundsOf(partial, cfgs);
  const [wLo, wHi] = opts.faultWindowMs ?? [10_000, 40_000];
  const windowMs = Math.floor(uniform(rng, wLo, wHi));
  // A quiet tail after the last fault: long enough for every liveness check to apply.
  let durationMs = windowMs + bounds.settleMs + 3000;

  const count = int(rng, 0, opts.maxFaults ?? 8);
  for (let i = 0; i < count; i++) {
    const kind = weighted(rng, FAULT_WEIGHTS);
    const at = Math.floor(uniform(rng, 0, windowMs));
    const room = windowMs - at;
    const span = (lo: number, hi: number) => Math.max(1, Math.min(room, Math.floor(uniform(rng, lo, hi))));
    switch (kind) {
      case 'loss':
        faults.push({ kind, at, durMs: span(500, 8000), rate: uniform(rng, 0.05, 0.5) });
        break;
      case 'delay':
        faults.push({ kind, at, durMs: span(500, 8000), extraMs: Math.floor(uniform(rng, keepaliveMs / 2, deadtimeMs)) });
        break;
      case 'dup':
        faults.push({ kind, at, durMs: span(500, 8000), rate: uniform(rng, 0.1, 0.5) });
        break;
      case 'partition': {
        const order = shuffled(rng, nodes);
        const cut = int(rng, 1, n - 1);
        const side = order.slice(0, cut).sort();
        const rest = order.slice(cut);
        const others = n > 2 && chance(rng, 0.3) ? rest.slice(0, int(rng, 1, rest.length)).sort() : null;
        const link = links.length > 1 && chance(rng, 0.3) ? pick(rng, links) : null;
        faults.push({ kind, at, durMs: span(deadtimeMs / 2, 6 * deadtimeMs), side, ...(others ? { others } : {}), oneWay: chance(rng, 0.35), link });
        break;
      }
      case 'crash':
      case 'shutdown':
        faults.push({ kind, at, node: pick(rng, nodes), downMs: span(deadtimeMs / 5, 4 * deadtimeMs) });
        break;
      case 'pause':
        faults.push({ kind, at, node: pick(rng, nodes), durMs: span(deadtimeMs / 5, 3 * deadtimeMs) });
        break;
      case 'standby':
      case 'takeover':
        faults.push({ kind, at, node: pick(rng, nodes), scope: pick(rng, ['all', 'local', 'foreign'] as const) });
        break;
      case 'agent':
        faults.push({
          kind,
          at,
          durMs: span(500, 6000),
          node: pick(rng, nodes),
          group: chance(rng, 0.5) ? pick(rng, groups).id : null,
          action: pick(rng, ['start', 'stop', 'status'] as const),
          mode: pick(rng, ['fail', 'hang'] as const),
          rate: uniform(rng, 0.3, 1),
        });
        break;
    }
  }
  // Reloads come from a stream of their own: a schedule without them is as it was before they existed.
  const reloads = drawReloads(seed, partial, windowMs, opts.reloads ?? 0.2);
  if (reloads) {
    groups.push(...reloads.groups);
    faults.push(...reloads.faults);
    const all = allConfigs(partial, faults);
    agent = agentModel(all);
    partial = { ...partial, groups, agent };
    bounds = boundsOf(partial, all);
    durationMs = windowMs + bounds.settleMs + 3000;
  }
  const mon = drawMonitors(seed, partial, windowMs, opts.monitors ?? 0);
  if (mon) {
    for (const g of groups) if (mon.monitors.has(g.id)) g.monitor = mon.monitors.get(g.id)!;
    faults.push(...mon.faults);
    durationMs = Math.max(durationMs, ...mon.faults.map((f) => faultEnd(f) + bounds.settleMs + 3000));
  }
  // A part that widens the bounds (fence devices, ping nodes, the arbiter): its faults, then the bounds again.
  const widen = (part: Partial<SimConfig>, more: Fault[]): void => {
    partial = { ...partial, ...part };
    faults.push(...more);
    bounds = boundsOf(partial, allConfigs(partial, faults));
    durationMs = windowMs + bounds.settleMs + 3000;
  };
  const fence = drawFencing(seed, nodes, maxDead, windowMs, opts.fencing ?? 0);
  if (fence) widen({ fencing: fence.fencing }, fence.faults);
  const ping = drawPings(seed, partial, windowMs, opts.ping ?? 0);
  if (ping) widen({ ping: ping.ping }, ping.faults);
  faults.push(...drawCrashLoop(seed, partial, windowMs, opts.crashLoops ?? 0.15));
  const arb = drawArbiter(seed, partial, windowMs, opts.arbiter ?? 0);
  if (arb) widen({ arbiter: arb.arbiter }, arb.faults);
  const witness = drawWitness(seed, partial, windowMs, arb ? 0 : (opts.witness ?? 0), reloads !== null);
  if (witness) {
    partial = { ...partial, nodes: [...nodes, witness.witness], witness: witness.witness, bootAt: [...bootAt, witness.bootAt] };
    faults.push(...witness.faults);
  }
  // Sometimes a clean failover at the end: the cluster has settled, one node crashes, nothing
  // else happens (the failover bound is checked there), it comes back, the cluster settles.
  let end = durationMs;
  if (chance(rng, opts.epilogue ?? 0.35)) {
    const at = durationMs - 2000;
    const downMs = Math.floor(bounds.failoverMs + uniform(rng, 100, 2000));
    faults.push({ kind: 'crash', at, node: pick(rng, groups).preferredNode, downMs });
    end = at + downMs + bounds.settleMs + 3000;
  }
  return { seed, config: { ...partial, durationMs: end }, faults };
}

/**
 * Agent calls fit the smallest fence of any node (in any of its configurations): a call in
 * flight and the stop of every resource of a group take at most 0.45 + 3 * 0.08 of it.
 */
function agentModel(cfgs: NodeCfg[]): AgentModel {
  const fence = minFence(cfgs);
  const maxMs = Math.max(2, Math.floor(fence * 0.08));
  const timeout = Math.max(maxMs + 1, Math.floor(fence * 0.45));
  return { minMs: 1, maxMs, timeoutMs: { start: timeout, stop: timeout, status: timeout } };
}

/** The schedule with only the faults at `keep` (indices into `faults`), and an optional shorter end. */
export function restrict(s: Schedule, keep: readonly number[], untilMs?: number): Schedule {
  const set = new Set(keep);
  const config = untilMs !== undefined ? { ...s.config, durationMs: Math.min(s.config.durationMs, untilMs) } : s.config;
  return { seed: s.seed, config, faults: s.faults.filter((_, i) => set.has(i)) };
}

/** When a fault's effect ends (for quiet periods). */
export function faultEnd(f: Fault): number {
  switch (f.kind) {
    case 'crash':
    case 'shutdown':
      return f.at + f.downMs;
    case 'standby':
    case 'takeover':
    case 'config':
    case 'reload':
      return f.at;
    case 'monitor':
      // The kills, then room for the last one's detection and restart or move (monitorRecoveryMs allows 30 s at most here).
      return f.at + f.kills * f.everyMs + 30_000;
    default:
      return f.at + f.durMs;
  }
}

export function describeFault(f: Fault): string {
  switch (f.kind) {
    case 'loss':
    case 'dup':
      return `${f.kind} ${Math.round(f.rate * 100)}% for ${f.durMs} ms`;
    case 'delay':
      return `delay +0..${f.extraMs} ms for ${f.durMs} ms`;
    case 'partition':
      return `${f.oneWay ? 'one-way ' : ''}partition [${f.side.join(',')}] ${f.oneWay ? '->' : '<->'} ${f.others ? `[${f.others.join(',')}]` : 'rest'}${f.link ? ` on ${f.link}` : ''} for ${f.durMs} ms`;
    case 'crash':
    case 'shutdown':
      return `${f.kind} ${f.node}, back after ${f.downMs} ms`;
    case 'pause':
      return `pause ${f.node} for ${f.durMs} ms`;
    case 'standby':
    case 'takeover':
      return `${f.kind} ${f.scope} on ${f.node}`;
    case 'etcd':
      return describeEtcdFault(f);
    case 'ping-loss':
      return `ping-loss ${f.node} -> ${f.target ?? 'every ping node'} for ${f.durMs} ms`;
    case 'fence':
      return `fence ${f.mode} ${Math.round(f.rate * 100)}%${f.node ? ` by ${f.node}` : ''} for ${f.durMs} ms`;
    case 'agent':
      return `agent ${f.action} ${f.mode} ${Math.round(f.rate * 100)}% on ${f.node}${f.group ? ` for "${f.group}"` : ''} for ${f.durMs} ms`;
    case 'monitor':
      return `monitor: resource ${f.resource} of "${f.group}" dies on ${f.node} ${f.kills} time(s), ${f.everyMs} ms apart`;
    case 'reload':
      return `reload ${f.node}: keepalive ${f.keepaliveMs} ms, deadtime ${f.deadtimeMs} ms, haresources [${f.groups.join('; ')}]`;
    case 'config':
      return f.change === 'timers'
        ? `config ${f.node}: keepalive ${f.keepaliveMs} ms, deadtime ${f.deadtimeMs} ms`
        : f.change === 'failback'
          ? `config ${f.node}: the other auto_failback`
          : `config ${f.node}: ${f.drop ? `no "${f.drop}"` : 'all groups'}${f.shuffle ? ', haresources in another order' : ''}`;
  }
}
