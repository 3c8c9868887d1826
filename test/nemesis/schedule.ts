// A nemesis schedule: the faults one run injects into a real cluster, drawn from one seed.
// The schedule (what, where, when) is a pure function of (seed, options); the timing of the
// real processes is not, so a rerun reproduces the schedule, not the exact interleaving.
import { derive, int, mulberry32, pick, shuffled, uniform, type Rng } from '../../src/sim/prng.js';
import { PASS_THROUGH, type Impairment } from './impairment.js';
import { HOLD_CAP_FACTOR } from '../../src/core/policy.js';

export type Fault =
  /** The node's outgoing heartbeats lost, delayed, duplicated, reordered or corrupted. */
  | { kind: 'impair'; at: number; durMs: number; node: string; imp: Impairment }
  /** IP traffic dropped between sides: `from` → `to` for every pair listed (nft, at `to`). */
  | { kind: 'partition'; at: number; durMs: number; shape: 'symmetric' | 'one-way' | 'split'; blocks: { from: string; to: string }[] }
  /** kill -9 of hbd alone: its address guard removes the VIP and sends the last words. */
  | { kind: 'kill-hbd'; at: number; durMs: number; node: string }
  /** kill -9 of hbd and its guard: nothing cleans up; the node's addresses stay. */
  | { kind: 'kill-hbd-guard'; at: number; durMs: number; node: string }
  /** SIGSTOP of hbd (and its guard) for durMs, then SIGCONT: a frozen VM. */
  | { kind: 'freeze'; at: number; durMs: number; node: string }
  /** A clean restart: SIGTERM, then hbd started again after durMs. */
  | { kind: 'restart'; at: number; durMs: number; node: string }
  /** `hb_standby` or `hb_takeover` on the node, at one moment. */
  | { kind: 'standby' | 'takeover'; at: number; durMs: 0; node: string }
  /** The web service's script fails (exit 1) or hangs past its timeout on start, for durMs. */
  | { kind: 'agent-fail' | 'agent-hang'; at: number; durMs: number; node: string }
  /** CPU saturation (stress-ng) while hbd runs on these nodes. */
  | { kind: 'cpu'; at: number; durMs: number; nodes: string[] }
  /** Redundant media only: one medium of the node cut (its second interface's cable). */
  | { kind: 'cut-medium'; at: number; durMs: number; node: string }
  /** The node's every cable pulled: all media and the client's path. */
  | { kind: 'cut-all'; at: number; durMs: number; node: string };

export type FaultKind = Fault['kind'];

export const FAULT_KINDS: readonly FaultKind[] = [
  'impair',
  'partition',
  'kill-hbd',
  'kill-hbd-guard',
  'freeze',
  'restart',
  'standby',
  'takeover',
  'agent-fail',
  'agent-hang',
  'cpu',
  'cut-medium',
  'cut-all',
];

export interface Timers {
  keepaliveMs: number;
  warntimeMs: number;
  deadtimeMs: number;
  initdeadMs: number;
}

export interface Schedule {
  seed: number;
  nodes: string[];
  /** Heartbeats over two media (bcast on eth0, ucast on eth1) instead of ucast on eth0. */
  redundantMedia: boolean;
  timers: Timers;
  /** The start script's timeout (hbd --agent-timeout), which a hung script runs past. */
  startTimeoutMs: number;
  /** The stop's timeout: a stop may take that long (a web server waiting for its clients). */
  stopTimeoutMs: number;
  /** Faults are injected in [0, windowMs); then nothing for tailMs. */
  windowMs: number;
  tailMs: number;
  faults: Fault[];
}

export interface ScheduleOptions {
  nodes: number;
  /** Only these kinds are drawn (default: all that fit the cluster). */
  kinds?: readonly FaultKind[];
  maxFaults?: number;
  windowMs?: number;
  redundantMedia?: boolean;
}

export const DEFAULT_TIMERS: Timers = { keepaliveMs: 250, warntimeMs: 1000, deadtimeMs: 2000, initdeadMs: 4000 };

export const nodeNames = (n: number): string[] => Array.from({ length: n }, (_, i) => `node${i + 1}`);

export function faultEnd(f: Fault): number {
  return f.at + f.durMs;
}

/** The nodes a fault acts on (for keeping process faults on one node apart). */
export function faultNodes(f: Fault): string[] {
  if (f.kind === 'partition') return [...new Set(f.blocks.flatMap((b) => [b.from, b.to]))];
  if (f.kind === 'cpu') return f.nodes;
  return [f.node];
}

const PROCESS_KINDS = new Set<FaultKind>(['kill-hbd', 'kill-hbd-guard', 'freeze', 'restart', 'standby', 'takeover']);

function impairment(rng: Rng): Impairment {
  // One or two effects at a time, so each fault says plainly what it does.
  const imp: Impairment = { ...PASS_THROUGH };
  for (const what of shuffled(rng, ['loss', 'delay', 'dup', 'reorder', 'corrupt'] as const).slice(0, int(rng, 1, 2))) {
    if (what === 'loss') imp.lossPct = int(rng, 5, 50);
    if (what === 'delay') {
      imp.delayMs = int(rng, 20, 300);
      imp.jitterMs = int(rng, 0, 100);
    }
    if (what === 'dup') imp.duplicatePct = int(rng, 5, 50);
    if (what === 'reorder') imp.reorderPct = int(rng, 5, 50);
    if (what === 'corrupt') imp.corruptPct = int(rng, 5, 50);
  }
  return imp;
}

function partitionOf(rng: Rng, nodes: string[]): Pick<Extract<Fault, { kind: 'partition' }>, 'shape' | 'blocks'> {
  const shape = pick(rng, nodes.length >= 3 ? (['symmetric', 'one-way', 'split'] as const) : (['symmetric', 'one-way'] as const));
  if (shape === 'split') {
    // 1 | 2 in three nodes, 2 | 3 in five: a minority against a majority.
    const first = target(rng, nodes);
    const order = [first, ...shuffled(rng, nodes.filter((n) => n !== first))];
    const minority = order.slice(0, Math.floor((nodes.length - 1) / 2));
    const rest = order.slice(minority.length);
    const blocks = minority.flatMap((a) => rest.flatMap((b) => [{ from: a, to: b }, { from: b, to: a }]));
    return { shape, blocks };
  }
  const a = target(rng, nodes);
  const b = pick(rng, nodes.filter((n) => n !== a));
  return { shape, blocks: shape === 'one-way' ? [{ from: a, to: b }] : [{ from: a, to: b }, { from: b, to: a }] };
}

/** Half the time the preferred node (the usual owner: where faults hurt), else any node. */
function target(rng: Rng, nodes: string[]): string {
  return rng() < 0.5 ? nodes[0]! : pick(rng, nodes);
}

function draw(rng: Rng, kind: FaultKind, nodes: string[], at: number): Fault {
  const node = target(rng, nodes);
  const dur = (lo: number, hi: number): number => Math.round(uniform(rng, lo, hi));
  switch (kind) {
    case 'impair':
      return { kind, at, durMs: dur(2000, 8000), node, imp: impairment(rng) };
    case 'partition':
      return { kind, at, durMs: dur(1000, 8000), ...partitionOf(rng, nodes) };
    case 'kill-hbd':
    case 'kill-hbd-guard':
    case 'restart':
      return { kind, at, durMs: dur(500, 6000), node };
    case 'freeze':
      return { kind, at, durMs: dur(500, 5000), node };
    case 'standby':
    case 'takeover':
      return { kind, at, durMs: 0, node };
    case 'agent-fail':
    case 'agent-hang':
      return { kind, at, durMs: dur(1000, 6000), node };
    case 'cpu':
      return { kind, at, durMs: dur(1000, 6000), nodes: shuffled(rng, nodes).slice(0, int(rng, 1, Math.min(2, nodes.length))) };
    case 'cut-medium':
    case 'cut-all':
      return { kind, at, durMs: dur(1000, 6000), node };
  }
}

/** Two faults collide when they act on one node's processes or cables at once. */
function collides(f: Fault, others: Fault[]): boolean {
  const exclusive = (x: Fault): boolean => PROCESS_KINDS.has(x.kind) || x.kind === 'cut-all' || x.kind === 'cut-medium';
  const margin = 500;
  return others.some((o) => {
    if (!(exclusive(f) && exclusive(o)) && f.kind !== o.kind) return false;
    const overlap = f.at < faultEnd(o) + margin && o.at < faultEnd(f) + margin;
    return overlap && faultNodes(f).some((n) => faultNodes(o).includes(n));
  });
}

/** The schedule of seed `seed`: a function of (seed, options) only. */
export function scheduleOf(seed: number, opts: ScheduleOptions): Schedule {
  const rng = mulberry32(derive(seed, 13));
  const nodes = nodeNames(opts.nodes);
  const redundantMedia = opts.redundantMedia ?? (opts.nodes === 2 && rng() < 0.5);
  const kinds = (opts.kinds ?? FAULT_KINDS).filter((k) => k !== 'cut-medium' || redundantMedia);
  if (kinds.length === 0) throw new Error('no fault kind fits this cluster (cut-medium needs redundant media)');
  const windowMs = opts.windowMs ?? 20_000;
  const maxFaults = opts.maxFaults ?? 4;
  const faults: Fault[] = [];
  const wanted = int(rng, 1, maxFaults);
  for (let tries = 0; faults.length < wanted && tries < 50; tries++) {
    const f = draw(rng, pick(rng, kinds), nodes, Math.round(uniform(rng, 0, windowMs - 1000)));
    if (!collides(f, faults)) faults.push(f);
  }
  faults.sort((a, b) => a.at - b.at);
  const timers = DEFAULT_TIMERS;
  const startTimeoutMs = 3000;
  const stopTimeoutMs = 10_000;
  // The quiet tail covers the slowest recovery: a node started at the end of the window waits
  // initdead, then a deadtime for a silent peer, the longest failback hold-down, a stop and the starts.
  const lastEnd = Math.max(0, ...faults.map(faultEnd));
  const tailMs = Math.max(0, lastEnd - windowMs) + timers.initdeadMs + (2 + HOLD_CAP_FACTOR) * timers.deadtimeMs + stopTimeoutMs + 2 * startTimeoutMs + 6000;
  return { seed, nodes, redundantMedia, timers, startTimeoutMs, stopTimeoutMs, windowMs, tailMs, faults };
}

/** One line per fault, for summaries and reproduction notes. */
export function describe(f: Fault): string {
  const t = `@${(f.at / 1000).toFixed(1)}s`;
  const d = f.durMs ? ` for ${(f.durMs / 1000).toFixed(1)}s` : '';
  switch (f.kind) {
    case 'impair': {
      const i = f.imp;
      const parts = [
        i.lossPct && `loss ${i.lossPct}%`,
        i.delayMs && `delay ${i.delayMs}±${i.jitterMs}ms`,
        i.duplicatePct && `dup ${i.duplicatePct}%`,
        i.reorderPct && `reorder ${i.reorderPct}%`,
        i.corruptPct && `corrupt ${i.corruptPct}%`,
      ].filter(Boolean);
      return `${t} impair ${f.node} (${parts.join(', ')})${d}`;
    }
    case 'partition':
      return `${t} partition ${f.shape} ${f.blocks.map((b) => `${b.from}->${b.to}`).join(' ')}${d}`;
    case 'cpu':
      return `${t} cpu ${f.nodes.join('+')}${d}`;
    default:
      return `${t} ${f.kind} ${f.node}${d}`;
  }
}
