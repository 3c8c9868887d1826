// Ping nodes (ha.cf `ping`, `ping_group`): pseudo-members whose reachability this node tracks
// from ICMP echo replies the shell reports, with Heartbeat's `deadping` as the timeout. Pure:
// stepped by replies and a time value; its log lines are Heartbeat's (`Link X:X dead.`,
// `node X: is dead`, `Status update for node X: status ping`) and, with ipfail on, ipfail's
// (`Status update: Node X now has status ping`).
//
// What this node advertises is `reachable`: how many ping nodes answer, and have answered
// without a gap for `stableMs` when they come back after being dead. That hysteresis is why a
// flapping route does not flap a group: the policy compares these counts (policy.ts), and a
// count that rises only after a quiet spell cannot rise and fall with every lost echo.
import { dueAfter, dueAt, expired, type Deadline } from './timeout.js';

export type PingStatus = 'init' | 'ping' | 'dead';

export interface PingNodeState {
  status: PingStatus;
  lastReply: number | null;
  /** When it answered again after being dead (null: it never was, or it is dead now). */
  backSince: number | null;
  /** When the status last changed. */
  since: number;
}

export interface PingState {
  deadpingMs: number;
  /** A ping node back from dead counts only after answering this long (default: deadping). */
  stableMs: number;
  startedAt: number;
  ipfail: boolean;
  nodes: Record<string, PingNodeState>;
}

export type PingEvent = { kind: 'reply'; node: string } | { kind: 'tick' };

export type PingEffect = { kind: 'log'; level: 'info' | 'warn'; text: string; tag?: 'ipfail' } | { kind: 'ping-status'; node: string; from: PingStatus; to: PingStatus };

export function initPing(names: readonly string[], deadpingMs: number, ipfail: boolean, now: number, stableMs = deadpingMs): PingState {
  const nodes: Record<string, PingNodeState> = {};
  for (const n of names) nodes[n] = { status: 'init', lastReply: null, backSince: null, since: now };
  return { deadpingMs, stableMs, startedAt: now, ipfail, nodes };
}

/** The deadlines this state holds: a ping node dead after deadping of silence, a returned one stable. */
export function pingDeadlines(s: PingState): Deadline[] {
  const out: Deadline[] = [];
  for (const [name, p] of Object.entries(s.nodes)) {
    if (p.status !== 'dead') out.push(dueAfter('ping-dead', p.lastReply ?? s.startedAt, s.deadpingMs, name));
    if (p.backSince !== null) out.push(dueAt('ping-stable', p.backSince + s.stableMs, name));
  }
  return out;
}

/**
 * How many ping nodes count as reachable now (with the hysteresis above); null when there is
 * nothing to advertise: no ping nodes, or one not yet decided (no reply, deadping not yet over
 * since start). A count taken before the first replies would say 0 for a node that has simply
 * not heard back yet, and a peer that had would take its groups at cold start and keep them.
 */
export function reachable(s: PingState, now: number): number | null {
  const all = Object.values(s.nodes);
  if (all.length === 0 || all.some((p) => p.status === 'init')) return null;
  return all.filter((p) => p.status === 'ping' && (p.backSince === null || now - p.backSince >= s.stableMs)).length;
}

export function stepPing(prev: PingState, ev: PingEvent, now: number): { state: PingState; effects: PingEffect[] } {
  const s: PingState = { ...prev, nodes: { ...prev.nodes } };
  const effects: PingEffect[] = [];
  const set = (name: string, to: PingStatus, patch: Partial<PingNodeState>) => {
    const p = s.nodes[name]!;
    s.nodes[name] = { ...p, ...patch, status: to, since: now };
    effects.push({ kind: 'ping-status', node: name, from: p.status, to });
    effects.push({ kind: 'log', level: 'info', text: `Link ${name}:${name} ${to === 'dead' ? 'dead' : 'up'}.` });
    if (to === 'dead') effects.push({ kind: 'log', level: 'warn', text: `node ${name}: is dead` });
    else effects.push({ kind: 'log', level: 'info', text: `Status update for node ${name}: status ping` });
    if (s.ipfail) effects.push({ kind: 'log', level: 'info', text: `Status update: Node ${name} now has status ${to}`, tag: 'ipfail' });
  };
  if (ev.kind === 'reply') {
    const p = s.nodes[ev.node];
    if (!p) return { state: prev, effects };
    if (p.status === 'ping') s.nodes[ev.node] = { ...p, lastReply: now, backSince: p.backSince };
    else set(ev.node, 'ping', { lastReply: now, backSince: p.status === 'dead' ? now : null });
  }
  for (const d of pingDeadlines(s)) {
    if (!expired(d, now)) continue;
    const p = s.nodes[d.subject]!;
    if (d.name === 'ping-dead') set(d.subject, 'dead', { backSince: null });
    else s.nodes[d.subject] = { ...p, backSince: null };
  }
  return { state: s, effects };
}
