// The etcd arbiter (ha.cf `arbiter etcd`): each resource group is owned by the node that holds
// an etcd key for it, attached to that node's etcd lease. Heartbeats still say who is alive, on
// which links, and what each node wants and holds; the key alone says who may run the group.
//
// Why no group runs on two nodes at once, whatever the heartbeat links do:
//   - etcd gives the key of group g to one lease at a time (a create-if-absent transaction), and
//     removes it only when its holder deletes it or when that lease expires;
//   - etcd expires a lease no sooner than TTL after it answered a keep-alive (a new etcd leader
//     gives every lease a fresh TTL), so a keep-alive we sent at T (our clock) and that was
//     answered keeps our lease until T + TTL at the least, on a clock as fast as ours. We count
//     on it until `validUntil` = T + TTL - margin: the margin covers a clock-rate difference (1%
//     of the TTL) and a late timer and the fence's `ip` call (250 ms);
//   - we start g only while we hold its key and our lease reaches past now + stopMs;
//   - we begin g's stop at `stopAt` = validUntil - stopMs at the latest, and remove g's addresses
//     at validUntil (the fence) if the stop is not over by then. stopMs is the longest a stop of a
//     group can take from the moment it is due: the longest start or status call that may still
//     be running, then every resource's stop, each bounded by its agent timeout;
//   - another node starts g only once it holds the key, which etcd gives it only after ours is
//     gone: we delete it only once g is stopped here (resign), and otherwise it goes with our
//     lease, after validUntil.
// So two nodes never run g at once: no witness and no majority of heartbeat nodes is needed, and
// two-node clusters are safe under any partition. `budget` checks at start-up that one missed
// keep-alive does not stop anything (TTL > stopMs + margin + 2 keep-alive intervals).
// What it costs: without etcd (our lease not renewed, or etcd without a quorum) a node stops its
// groups within TTL - margin - stopMs, and nothing starts anywhere until etcd answers again.
// Agents get the key's revision (HA_ARBITER_REVISION): a fencing token that grows with every new
// owner, for an agent that can make a cloud API or a database refuse an older owner.

/** The fixed numbers of the arbiter, worked out once at start-up (see `arbiterTuning`). */
export interface ArbiterTuning {
  ttlMs: number;
  /** Clock-rate margin and timer lateness (see above). */
  marginMs: number;
  /** The longest stop of a group, from the moment it is due. */
  stopMs: number;
  /** How often the shell sends a keep-alive. */
  keepaliveMs: number;
}

export interface ArbiterState extends ArbiterTuning {
  /** Our lease is ours until then, for sure (our clock); -Infinity without a lease. */
  validUntil: number;
  /** The nodes whose lease is alive in etcd (their node key exists), as last read. */
  present: string[];
  /** The groups (by id) whose key we hold, with its revision (the fencing token). */
  held: Record<string, number>;
  /** The groups (by id) we asked the shell to campaign for, and hold no key of yet. */
  campaigning: string[];
}

/** What the shell tells of etcd. */
export type ArbiterNews =
  /** A keep-alive (or the grant of our lease) sent at `sentAt` was answered. */
  | { kind: 'renewed'; sentAt: number }
  /** Our lease is gone (expired, revoked, or etcd says it does not know it): so are our keys. */
  | { kind: 'lost' }
  /** We now hold the key of `group` at `revision`, or (null) no longer hold it. */
  | { kind: 'key'; group: string; revision: number | null }
  /** The nodes whose lease is alive in etcd. */
  | { kind: 'present'; nodes: string[] };

/** What the shell is asked to do in etcd, for group `group` (an index into the groups). */
export type ArbiterEffect =
  /** Take the group's key when it is free, with our lease, and say so (news `key`). */
  | { kind: 'arbiter-campaign'; group: number; id: string }
  /**
   * Stop campaigning for the group, and delete its key if it is ours. By its id: a group a
   * reload removed is resigned in the step that forgets it, where its number no longer holds.
   */
  | { kind: 'arbiter-resign'; group: number; id: string };

/** The clock-rate margin: a share of the TTL, plus a fixed part for a late timer and the fence. */
export const CLOCK_RATE = 0.01;
export const LATE_MS = 250;

/** The keep-alive interval for a TTL: a fifth of it, so that two missed ones still leave room. */
export function keepaliveFor(ttlMs: number): number {
  return Math.max(100, Math.floor(ttlMs / 5));
}

export function arbiterTuning(ttlMs: number, stopMs: number): ArbiterTuning {
  return { ttlMs, marginMs: Math.ceil(ttlMs * CLOCK_RATE) + LATE_MS, stopMs, keepaliveMs: keepaliveFor(ttlMs) };
}

export function initArbiter(tuning: ArbiterTuning): ArbiterState {
  return { ...tuning, validUntil: -Infinity, present: [], held: {}, campaigning: [] };
}

const sec = (ms: number) => `${Math.round(ms) / 1000} s`;

/**
 * The start-up check: the TTL must cover the stop, the margin and two keep-alive intervals (one
 * keep-alive lost or slow stops nothing). `line` explains the numbers, for the log, either way.
 */
export function budget(t: ArbiterTuning, stopWhat: string): { ok: boolean; line: string } {
  const need = t.stopMs + t.marginMs + 2 * t.keepaliveMs;
  const ok = t.ttlMs > need;
  const numbers = `lease TTL ${sec(t.ttlMs)} ${ok ? '>' : '<='} stop time ${sec(t.stopMs)} (${stopWhat}) + clock-rate margin ${sec(t.marginMs)} (${CLOCK_RATE * 100}% of the TTL + ${LATE_MS} ms) + 2 keep-alive intervals of ${sec(t.keepaliveMs)} = ${sec(need)}`;
  const then = ok
    ? `a node that cannot renew its lease begins its stops ${sec(t.ttlMs - t.marginMs - t.stopMs)} after its last answered keep-alive and is done ${sec(t.marginMs)} before etcd can give its groups to another node`
    : `raise arbiter_ttl above ${sec(need)}, or shorten the stop (hbd --agent-timeout stop=…,start=…)`;
  return { ok, line: `arbiter etcd: ${numbers}: ${then}.` };
}

/** When the groups we hold must begin their stop, at the latest. */
export function stopAt(a: ArbiterState): number {
  return a.validUntil - a.stopMs;
}

/** Our lease reaches far enough to start a group and stop it in time: we are a candidate. */
export function candidate(a: ArbiterState, now: number): boolean {
  return now < stopAt(a);
}

/** The key of group `id` is ours and the lease leaves time for a stop: the group may run here. */
export function mayRun(a: ArbiterState, id: string, now: number): boolean {
  return a.held[id] !== undefined && candidate(a, now);
}

/** For ownership, a peer is alive when its heartbeats are heard and its lease is alive in etcd. */
export function liveInEtcd(a: ArbiterState, live: readonly string[]): string[] {
  return live.filter((n) => a.present.includes(n));
}

/** Our state after news from the shell. */
export function onNews(a: ArbiterState, news: ArbiterNews): ArbiterState {
  switch (news.kind) {
    case 'renewed':
      return { ...a, validUntil: Math.max(a.validUntil, news.sentAt + a.ttlMs - a.marginMs) };
    case 'lost':
      return { ...a, validUntil: -Infinity, held: {}, campaigning: [] };
    case 'key': {
      const held = { ...a.held };
      if (news.revision === null) delete held[news.group];
      else held[news.group] = news.revision;
      return { ...a, held, campaigning: a.campaigning.filter((g) => g !== news.group) };
    }
    case 'present':
      return { ...a, present: [...news.nodes].sort() };
  }
}

/** Ask for the key of group `id` (index g): nothing when we hold it or campaign already. */
export function campaign(a: ArbiterState, id: string, g: number): { state: ArbiterState; effect: ArbiterEffect | null } {
  if (a.held[id] !== undefined || a.campaigning.includes(id)) return { state: a, effect: null };
  return { state: { ...a, campaigning: [...a.campaigning, id] }, effect: { kind: 'arbiter-campaign', group: g, id } };
}

/** Give up the key of group `id` (stopped here) and any campaign for it: nothing when neither. */
export function resign(a: ArbiterState, id: string, g: number): { state: ArbiterState; effect: ArbiterEffect | null } {
  if (a.held[id] === undefined && !a.campaigning.includes(id)) return { state: a, effect: null };
  const held = { ...a.held };
  delete held[id];
  return { state: { ...a, held, campaigning: a.campaigning.filter((x) => x !== id) }, effect: { kind: 'arbiter-resign', group: g, id } };
}
