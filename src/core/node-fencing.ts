// Node fencing (STONITH): before taking over from a node that was not seen to stop cleanly
// (declared dead after a deadtime of silence, or its hbd crashed), the node that would take
// over has it powered off or reset by a fence device (Heartbeat's `stonith_host`, or a
// fence-agents `fence_*`: the shell's fencer carries the effect out, with its timeout). No
// group starts here while a fence is pending: a group never starts on the strength of a fence
// that did not report success. A failure (or a timeout) is logged CRIT and retried.
//
// Why that is safe for two nodes without a witness: a node that may start a group the other
// held has first had the other powered off. Both may fence each other (a fence race): then
// both are off, which is no split brain. A pending fence is dropped when its target is heard
// again (its own heartbeats say what it holds) or restarts (a new run holds nothing).
import { dueAt, type Deadline } from './timeout.js';

export interface FenceTarget {
  attempt: number;
  /** A fence call is out: its answer (fence-done) is awaited. */
  inFlight: boolean;
  /** When a failed attempt is retried. */
  retryAt: number | null;
}

export interface NodeFencing {
  /** A fence device is configured: losing a node uncleanly means fencing it. */
  on: boolean;
  retryMs: number;
  pending: Record<string, FenceTarget>;
}

export type FenceEffect = { kind: 'fence-node'; node: string; attempt: number } | { kind: 'log'; level: 'info' | 'warn' | 'crit'; text: string };

export function initNodeFencing(on: boolean, retryMs = 5000): NodeFencing {
  return { on, retryMs, pending: {} };
}

/** Starts are held while any fence is pending. */
export function fencePending(f: NodeFencing): boolean {
  for (const _ in f.pending) return true;
  return false;
}

/**
 * A node is lost: when it was not seen to stop (silence, or a crashed hbd) and may have held
 * something (`mayHold`: not a witness), fence it. Only a node that may take over fences: one
 * without quorum starts nothing, so it has no reason to shoot.
 */
export function onLost(prev: NodeFencing, node: string, clean: boolean, mayTakeOver: boolean): { state: NodeFencing; effects: FenceEffect[] } {
  if (!prev.on || clean || !mayTakeOver || prev.pending[node]) return { state: prev, effects: [] };
  const state = { ...prev, pending: { ...prev.pending, [node]: { attempt: 1, inFlight: true, retryAt: null } } };
  return {
    state,
    effects: [
      { kind: 'log', level: 'warn', text: `Node ${node} was not seen to stop cleanly: fencing it (STONITH) before taking over its resource groups.` },
      { kind: 'fence-node', node, attempt: 1 },
    ],
  };
}

/** A fence call answered. */
export function onDone(prev: NodeFencing, node: string, ok: boolean, now: number): { state: NodeFencing; effects: FenceEffect[] } {
  const t = prev.pending[node];
  if (!t || !t.inFlight) return { state: prev, effects: [] };
  const pending = { ...prev.pending };
  if (ok) {
    delete pending[node];
    return { state: { ...prev, pending }, effects: [{ kind: 'log', level: 'info', text: `node ${node} now reset.` }] };
  }
  pending[node] = { ...t, inFlight: false, retryAt: now + prev.retryMs };
  const text = `STONITH of ${node} failed (attempt ${t.attempt}): its resource groups are not taken over until a fence reports success. Retrying in ${Math.round(prev.retryMs / 1000)} s.`;
  return { state: { ...prev, pending }, effects: [{ kind: 'log', level: 'crit', text }] };
}

/** Retries that are due, and targets heard again (alive: they speak for themselves). */
export function onTick(prev: NodeFencing, live: readonly string[], now: number): { state: NodeFencing; effects: FenceEffect[] } {
  let state = prev;
  const effects: FenceEffect[] = [];
  for (const [node, t] of Object.entries(prev.pending)) {
    if (state === prev) state = { ...prev, pending: { ...prev.pending } };
    if (live.includes(node)) {
      delete state.pending[node];
      effects.push({ kind: 'log', level: 'info', text: `Node ${node} is heard again: fencing it is no longer needed.` });
    } else if (!t.inFlight && t.retryAt !== null && now >= t.retryAt) {
      state.pending[node] = { attempt: t.attempt + 1, inFlight: true, retryAt: null };
      effects.push({ kind: 'fence-node', node, attempt: t.attempt + 1 });
    }
  }
  return { state, effects };
}

/**
 * With fencing, a node starts nothing while a peer it hears has not yet heard this run of it
 * (no ack of our generation in the peer's advert). Found by the simulator (seed 8001413): a
 * node fenced across a one-way cut booted again, heard its peer, and started a group the peer,
 * which could still not hear it, started too. The peer may fence us; it cannot see us start.
 * A real Heartbeat peer acks no runs: Heartbeat's resource negotiation (heartbeat-peer.ts)
 * decides with it, as without fencing; waiting for its ack would start nothing, ever.
 */
export function unheardBy(f: NodeFencing, me: string, gen: number, live: readonly string[], peers: Readonly<Record<string, { acks: readonly { node: string; gen: number }[]; heartbeatPeer?: true }>>): boolean {
  return f.on && live.some((n) => !peers[n]?.heartbeatPeer && !peers[n]?.acks.some((k) => k.node === me && k.gen === gen));
}

export function fenceDeadlines(f: NodeFencing): Deadline[] {
  return Object.entries(f.pending).flatMap(([node, t]) => (t.retryAt !== null && !t.inFlight ? [dueAt('fence-retry', t.retryAt, node)] : []));
}
