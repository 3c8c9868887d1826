// The nemesis checker: reads what happened (who held the VIP according to the kernel's own
// address events, who answered the client, what the daemons logged, which processes died),
// never what the daemons say about themselves, and checks the README's invariants as stated
// for real processes. Pure: a history and its schedule in, violations and figures out, so
// each rule is tested on hand-made histories (checker.test.ts) as well as on real runs.
import { DEFAULT_TUNING } from '../../src/core/ownership-state.js';
import { HOLD_CAP_FACTOR } from '../../src/core/policy.js';
import type { Fault, FaultKind, Schedule } from './schedule.js';

/** A span of wall time [from, to). */
export interface Span {
  from: number;
  to: number;
}

/** A fault as it really happened: wall times when it was applied and undone. */
export interface AppliedFault extends Span {
  fault: Fault;
}

export interface Holding extends Span {
  node: string;
}

export interface ClientAnswer {
  sent: number;
  t: number;
  /** The node whose web service answered; null: the request failed. */
  node: string | null;
  /** Why it failed (timeout, ECONNREFUSED, EHOSTUNREACH...): evidence for a kept run. */
  error?: string;
}

export interface LogLine {
  at: number;
  text: string;
}

export interface History {
  /** Wall time of the schedule's time 0 and of the end of its quiet tail. */
  t0: number;
  end: number;
  /** When the last fault was undone (the quiet tail starts). */
  tailFrom: number;
  holdings: Holding[];
  answers: ClientAnswer[];
  logs: Record<string, LogLine[]>;
  applied: AppliedFault[];
  /** hbd exits the nemesis did not cause. */
  unexpectedExits: { node: string; at: number; how: string }[];
}

export interface Violation {
  invariant: string;
  at: number;
  message: string;
}

export interface CheckResult {
  violations: Violation[];
  requests: number;
  failedRequests: number;
  /** Longest client-side unavailability (ms) per fault kind in effect during it ("none": no fault). */
  longestOutage: Partial<Record<FaultKind | 'none', number>>;
  /** How often a node took the VIP. */
  holderChanges: number;
}

/** Bounds for real processes, from the schedule's timers (ms). */
export function boundsOf(s: Schedule): { resolveMs: number; settleMs: number } {
  const t = s.timers;
  return {
    // Two owners, after they hear each other again: a keepalive or two, then the loser's stop,
    // which may take its whole timeout (the simulator's resolve bound is the same stop budget).
    resolveMs: 2 * t.keepaliveMs + t.deadtimeMs + s.stopTimeoutMs,
    // Served again once every fault is over: a restarted node's initdead, a deadtime for a
    // silent peer, the longest failback hold-down (flap damping after repeated losses: 8
    // deadtimes), a stop and a start (a hung one runs to its timeout).
    settleMs: t.initdeadMs + (2 + HOLD_CAP_FACTOR) * t.deadtimeMs + s.stopTimeoutMs + 2 * s.startTimeoutMs + 3000,
  };
}

/** The daemon's failed-start hold: a node whose start failed does not run the group again until it ends. */
export const FAILED_START_HOLD_MS = DEFAULT_TUNING.failedStartHoldMs;
const FAILED_START = /Resource .* failed to start: stopping resource group/;

/**
 * When the cluster must be settled: the settle bound after the last fault, or after the last
 * failed-start hold if that ends later. A node in its hold may not take its group back, so
 * failback (and the brief move it makes) waits for the hold's end, as in the simulator's
 * liveness rule. The hold starts at the daemon's own "failed to start" line: a start that
 * failed is an event only the node that ran it sees.
 */
export function settleFrom(h: Pick<History, 'tailFrom' | 'logs'>, s: Schedule): number {
  const failedStarts = Object.values(h.logs).flatMap((lines) => lines.filter((l) => FAILED_START.test(l.text)).map((l) => l.at));
  return Math.max(h.tailFrom, ...failedStarts.map((at) => at + FAILED_START_HOLD_MS)) + boundsOf(s).settleMs;
}

/** Faults after which two owners may exist in a 2-node cluster: they cut what nodes hear. */
const CUTS_HEARING = new Set<FaultKind>(['impair', 'partition', 'freeze', 'cpu', 'cut-all', 'kill-hbd-guard']);

const inSpan = (t: number, s: Span, slackAfter = 0): boolean => t >= s.from && t < s.to + slackAfter;

/** Times at which the set of VIP holders changes, with the holders from then on. */
function holderTimeline(h: History): { at: number; holders: string[] }[] {
  const times = [...new Set(h.holdings.flatMap((x) => [x.from, x.to]))].filter((t) => t < h.end).sort((a, b) => a - b);
  return times.map((at) => ({ at, holders: h.holdings.filter((x) => inSpan(at, x)).map((x) => x.node).sort() }));
}

/**
 * Nodes whose addresses the checker does not count at time t: hbd frozen (and until a stop
 * could follow its thaw), or killed with its guard (nothing can clean up; the restarted hbd
 * must, within the settle bound).
 */
function excused(h: History, s: Schedule, t: number): Set<string> {
  const b = boundsOf(s);
  const out = new Set<string>();
  for (const a of h.applied) {
    const f = a.fault;
    if (f.kind === 'freeze' && inSpan(t, a, s.stopTimeoutMs + s.timers.keepaliveMs)) out.add(f.node);
    if (f.kind === 'kill-hbd-guard' && inSpan(t, a, b.settleMs)) out.add(f.node);
  }
  return out;
}

function twoOwners(h: History, s: Schedule, out: Violation[]): void {
  const b = boundsOf(s);
  const line = holderTimeline(h);
  for (let i = 0; i < line.length; i++) {
    const { at, holders } = line[i]!;
    const until = line[i + 1]?.at ?? h.end;
    // Check the start and the end of each span: excuses can lapse inside it.
    for (const t of [at, Math.max(at, until - 1)]) {
      const counted = holders.filter((n) => !excused(h, s, t).has(n));
      if (counted.length < 2) continue;
      if (s.nodes.length < 3) {
        const cut = h.applied.some((a) => CUTS_HEARING.has(a.fault.kind) && inSpan(t, a, b.resolveMs));
        if (cut) continue;
        out.push({ invariant: 'two-owners', at: t, message: `${counted.join(' and ')} both hold the VIP while they can hear each other (2 nodes: allowed only during a fault that cuts hearing and ${b.resolveMs} ms after it)` });
      } else {
        out.push({ invariant: 'two-owners', at: t, message: `${counted.join(' and ')} both hold the VIP (${s.nodes.length} nodes: a quorum exists, never allowed)` });
      }
      return;
    }
  }
}

/** From the settle bound (settleFrom) to the end: one holder, every request answered. */
function settled(h: History, s: Schedule, out: Violation[]): void {
  const from = settleFrom(h, s);
  if (from >= h.end) {
    out.push({ invariant: 'tail-too-short', at: h.end, message: `the quiet tail ends ${Math.round(from - h.end)} ms before the settle bound` });
    return;
  }
  const failed = h.answers.find((a) => a.sent >= from && a.t <= h.end && a.node === null);
  if (failed) out.push({ invariant: 'unserved', at: failed.sent, message: `a request ${Math.round(failed.sent - h.tailFrom)} ms after the last fault ended failed (settled from ${Math.round(from - h.tailFrom)} ms)` });
  const served = new Set(h.answers.filter((a) => a.sent >= from && a.node !== null).map((a) => a.node));
  if (served.size > 1) out.push({ invariant: 'two-servers', at: from, message: `after the faults, the client was answered by ${[...served].join(' and ')}` });
  for (const p of holderTimeline(h).filter((x) => x.at >= from)) {
    if (p.holders.length !== 1) {
      out.push({ invariant: 'unsettled', at: p.at, message: `after the faults, the VIP is held by ${p.holders.join(', ') || 'nobody'}` });
      break;
    }
  }
  // With auto_failback on and nobody switched by hand, the group ends on its preferred node.
  const switched = s.faults.some((f) => f.kind === 'standby' || f.kind === 'takeover');
  const preferred = s.nodes[0]!;
  if (!switched) {
    const other = h.answers.find((a) => a.sent >= from && a.node !== null && a.node !== preferred);
    if (other) out.push({ invariant: 'no-failback', at: other.sent, message: `after the faults, ${other.node} still serves the group; its preferred node ${preferred} is up (auto_failback on)` });
  }
}

/** A node takes the VIP at most twice per fault (failover and failback), once more at the start. */
function flapping(h: History, s: Schedule, out: Violation[]): number {
  const takes = h.holdings.length;
  const allowed = 2 * s.faults.length + 1;
  if (takes > allowed) out.push({ invariant: 'flapping', at: h.end, message: `nodes took the VIP ${takes} times for ${s.faults.length} fault(s) (at most ${allowed})` });
  return takes;
}

const SPLIT_BRAIN_LINES = /Both machines own .* resources!|No one owns .* resources!/;
const DAEMON_BUGS = /internal error|Uncaught|TypeError|RangeError|ReferenceError|FATAL|heap out of memory/;

function logs(h: History, s: Schedule, out: Violation[]): void {
  const b = boundsOf(s);
  for (const [node, lines] of Object.entries(h.logs)) {
    for (const l of lines) {
      if (DAEMON_BUGS.test(l.text)) out.push({ invariant: 'daemon-error', at: l.at, message: `${node}: ${l.text}` });
      if (SPLIT_BRAIN_LINES.test(l.text) && !h.applied.some((a) => CUTS_HEARING.has(a.fault.kind) && inSpan(l.at, a, b.resolveMs))) {
        out.push({ invariant: 'split-brain-log', at: l.at, message: `${node} outside a partition: ${l.text}` });
      }
    }
  }
  for (const e of h.unexpectedExits) out.push({ invariant: 'daemon-exit', at: e.at, message: `hbd on ${e.node} ended by itself (${e.how})` });
}

/** Cutting one of two media must not move the group: only the link dies. */
function redundantMedia(h: History, s: Schedule, out: Violation[]): void {
  const b = boundsOf(s);
  for (const a of h.applied) {
    if (a.fault.kind !== 'cut-medium') continue;
    const window: Span = { from: a.from, to: a.to + b.resolveMs };
    const alone = !h.applied.some((o) => o !== a && o.from < window.to && window.from < o.to + b.resolveMs);
    if (!alone) continue;
    const before = holderTimeline(h).filter((p) => p.at <= a.from).at(-1)?.holders.join(',') ?? '';
    const moved = holderTimeline(h).find((p) => p.at > a.from && p.at < window.to && p.holders.join(',') !== before);
    if (moved) out.push({ invariant: 'media-failover', at: moved.at, message: `cutting one medium of ${a.fault.node} moved the VIP from ${before || 'nobody'} to ${moved.holders.join(',') || 'nobody'}` });
    const cut = a.fault.node;
    const seen = Object.entries(h.logs).some(([n, lines]) => n !== cut && lines.some((l) => l.at >= a.from && l.at < window.to && l.text.includes(`Link ${cut}:`) && l.text.includes('dead')));
    if (!seen) out.push({ invariant: 'media-unnoticed', at: a.to, message: `no peer logged "Link ${cut}:... dead" while one medium of ${cut} was cut` });
  }
}

/** The longest time the client went unanswered, by the fault kinds in effect during it (or shortly before). */
function outages(h: History, s: Schedule): CheckResult['longestOutage'] {
  // A failing agent's failed start holds its node off for the hold; the failback at its end is its doing.
  const reach = (f: Fault): number => boundsOf(s).settleMs + (f.kind === 'agent-fail' || f.kind === 'agent-hang' ? FAILED_START_HOLD_MS : 0);
  const out: CheckResult['longestOutage'] = {};
  // By answer time: overlapping requests answer out of the order they were sent.
  const ok = h.answers.filter((a) => a.node !== null && a.sent >= h.t0).sort((a, b) => a.t - b.t);
  for (let i = 1; i < ok.length; i++) {
    const gap = ok[i]!.t - ok[i - 1]!.t;
    if (gap < 4 * 50) continue;
    const gapFrom = ok[i - 1]!.t;
    const gapTo = ok[i]!.t;
    const kinds = h.applied.filter((a) => a.from < gapTo && gapFrom < a.to + reach(a.fault)).map((a) => a.fault.kind);
    for (const k of kinds.length ? kinds : (['none'] as const)) out[k] = Math.max(out[k] ?? 0, Math.round(gap));
  }
  return out;
}

export function check(h: History, s: Schedule): CheckResult {
  const violations: Violation[] = [];
  twoOwners(h, s, violations);
  settled(h, s, violations);
  const holderChanges = flapping(h, s, violations);
  logs(h, s, violations);
  redundantMedia(h, s, violations);
  const inRun = h.answers.filter((a) => a.sent >= h.t0 && a.t <= h.end);
  return {
    violations: violations.sort((a, b) => a.at - b.at),
    requests: inRun.length,
    failedRequests: inRun.filter((a) => a.node === null).length,
    longestOutage: outages(h, s),
    holderChanges,
  };
}
