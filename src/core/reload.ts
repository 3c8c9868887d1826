// A reload (hbd's SIGHUP, `/etc/init.d/heartbeat reload`): the running node takes a new
// configuration without a restart. Pure, like the rest of core/: the current state and the
// new options in; the mapped state and what to log out. node.ts applies it in one step.
//
// Groups are matched by their id (the haresources line: preferred node and resources as
// written), so:
//  - an unchanged group keeps its whole local state: a running group runs on, with its claim,
//    grants, lease, failed-start hold and standby; nothing is stopped, no address dropped;
//  - a removed group held here is stopped in order (right to left, as a release) and
//    forgotten once stopped; one stopped here is forgotten at once;
//  - an added group is a candidate as at start, except that it does not start here while a
//    live node lacks it (that node has not reloaded yet, and is no candidate for it: the group
//    would start on whichever node reloaded first, and move once the others have), and, in
//    quorum clusters, that nobody grants it for a deadtime (lease.ts says why);
//  - a changed line is another id: the old group is removed and the new one added; the new one
//    starts only once the old one is stopped here (they share resources). Every node's adverts
//    list the resources it holds, so no node starts the new line while another still runs the
//    old one (ownership.ts, driveStopped; and yieldsTo when two did, after a partition).
// Timers and auto_failback apply at once; a lowered deadtime in a quorum cluster keeps the
// promise our earlier heartbeats made (membership's promisedDeadtime). What cannot change
// under running groups is refused whole (reloadRefusals): nothing of the reload is applied.
import type { AutoFailback } from '../config/types.js';
import { groupLabel, sharesResource, type GroupDef } from './group.js';
import type { MembershipState, MembershipView, Timers } from './membership.js';
import { newLocalGroup, tuningFor, type LocalGroup, type OwnershipState, type OwnershipTuning } from './ownership-state.js';
import { renumbered } from './switches.js';
import { resign, type ArbiterEffect, type ArbiterTuning } from './arbiter.js';

/** What a reload may change: everything of the node's options but who it is. */
export interface Reconfiguration {
  nodes: string[];
  witnesses?: string[];
  linkNames: string[];
  timers: Timers;
  groups: GroupDef[];
  autoFailback: AutoFailback;
  tuning?: Partial<OwnershipTuning>;
  arbiter?: ArbiterTuning;
}

/** What a reload says of itself: one log line per change. */
export type ReloadLog = { kind: 'log'; level: 'info'; text: string };
/** What a reload says, and the keys it gives up (groups it forgot at once, under the arbiter). */
export type ReloadEffect = ReloadLog | ArbiterEffect;

/** The parts of a node's state a refusal depends on. */
export interface ReloadSubject {
  ownership: OwnershipState;
  shuttingDown: boolean;
}

/**
 * Why the reload cannot be applied, one sentence each (what, why, what to do); empty when it
 * can. A refused reload changes nothing.
 */
export function reloadRefusals(s: ReloadSubject, next: Reconfiguration): string[] {
  const out: string[] = [];
  const nodes = s.ownership.nodes;
  if (s.shuttingDown) out.push('hbd is shutting down');
  if (nodes.join(' ') !== next.nodes.join(' ')) {
    out.push(`the node list changed (${nodes.join(' ')} -> ${next.nodes.join(' ')}): the peers' membership and quorum would change under running resource groups; restart hbd on every node to apply it`);
  }
  if (s.ownership.witnesses.join(' ') !== (next.witnesses ?? []).join(' ')) {
    out.push(`the witness changed (${s.ownership.witnesses.join(' ') || 'none'} -> ${(next.witnesses ?? []).join(' ') || 'none'}): the quorum would change under running resource groups; restart hbd on every node to apply it`);
  }
  const a = s.ownership.arbiter;
  const was = a ? `TTL ${a.ttlMs} ms, stop time ${a.stopMs} ms` : 'off';
  const will = next.arbiter ? `TTL ${next.arbiter.ttlMs} ms, stop time ${next.arbiter.stopMs} ms` : 'off';
  if (was !== will) out.push(`the etcd arbiter changed (${was} -> ${will}): leases already granted rest on the old numbers; restart hbd on every node to apply it`);
  // Under the arbiter a group's etcd key is named by its line: a new line sharing a resource with a current one would be a second key for that resource.
  const changed = a ? next.groups.filter((d) => !s.ownership.groups.some((o) => o.id === d.id) && s.ownership.groups.some((o) => sharesResource(o, d))) : [];
  for (const d of changed) out.push(`under the etcd arbiter a resource group's line cannot change by a reload (its key in etcd is named by its line): "${d.id}" shares resources with a current group; remove the old line on every node first (its group stops), then add the new one`);
  try {
    tuningFor(next.nodes, next.tuning ?? {}, next.timers.deadtimeMs, next.timers.keepaliveMs);
  } catch (err) {
    out.push((err as Error).message);
  }
  return out;
}

/** Membership after a reload: the new timers from now on, links of the new media. */
export function reconfigureMembership(prev: MembershipState, next: Reconfiguration, keepPromise: boolean, now: number): MembershipState {
  const peers: MembershipState['peers'] = {};
  for (const [name, p] of Object.entries(prev.peers)) {
    const links: typeof p.links = {};
    for (const l of next.linkNames) links[l] = p.links[l] ?? { up: false, lastHeard: null };
    peers[name] = { ...p, links };
  }
  return {
    ...prev,
    timers: next.timers,
    linkNames: next.linkNames,
    peers,
    promisedDeadtime: keepPromise ? promiseKept(prev, next.timers.deadtimeMs, now) : null,
    // A shorter keepalive applies to the next heartbeat already.
    nextHeartbeatAt: Math.min(prev.nextHeartbeatAt, (prev.lastSentAt ?? now) + next.timers.keepaliveMs),
  };
}

/** The longest silence our heartbeats so far let a peer count on, if the new deadtime is shorter. */
function promiseKept(prev: MembershipState, deadtimeMs: number, now: number): MembershipState['promisedDeadtime'] {
  const earlier = prev.promisedDeadtime && now < prev.promisedDeadtime.until ? prev.promisedDeadtime.ms : 0;
  const ms = Math.max(prev.timers.deadtimeMs, earlier);
  return ms > deadtimeMs ? { ms, until: now + ms } : null;
}

/** Every live peer's advert lists the group: each of them has it in its haresources. */
export function knownEverywhere(s: OwnershipState, view: MembershipView, id: string): boolean {
  return view.live.every((n) => s.peers[n] !== undefined && Object.hasOwn(s.peers[n]!.groups, id));
}

/**
 * Ownership after a reload, before it decides anything (its next step does): groups in the new
 * haresources order, then the removed groups still held here; their local state carried over
 * by id. The effects are the log lines that say what changed.
 */
export function reconfigureOwnership(prev: OwnershipState, next: Reconfiguration, view: MembershipView, now: number): { state: OwnershipState; effects: ReloadEffect[] } {
  const effects: ReloadEffect[] = [];
  const log = (text: string) => effects.push({ kind: 'log', level: 'info', text });
  const before = new Map(prev.groups.map((def, g) => [def.id, g]));
  const after = new Set(next.groups.map((def) => def.id));
  const groups: GroupDef[] = [];
  const local: LocalGroup[] = [];
  /** Old index -> new index of each group that stays (-1: removed or forgotten). */
  const renumber = prev.groups.map(() => -1);
  const quorum = prev.config.quorum;
  let arbiter = prev.arbiter;
  for (const def of next.groups) {
    const g = before.get(def.id);
    const old = g === undefined ? undefined : prev.local[g];
    if (old && !old.removed) renumber[g!] = groups.length;
    else log(`reload: resource group ${groupLabel(def)} added`);
    groups.push(def);
    local.push(old && !old.removed ? old : added(prev, old, def, view, now, next.timers.deadtimeMs));
  }
  prev.groups.forEach((def, g) => {
    if (after.has(def.id)) return;
    const lg = prev.local[g]!;
    const held = lg.run.phase !== 'stopped';
    if (!lg.removed) log(`reload: resource group ${groupLabel(def)} removed (${held ? 'stopping it here' : 'not running here'})`);
    if (!held) {
      // Forgotten now: a campaign for its key (begun before this reload) ends with it.
      const r = arbiter ? resign(arbiter, def.id, -1) : null;
      if (r) arbiter = r.state;
      if (r?.effect) effects.push(r.effect);
      return;
    }
    groups.push(def);
    local.push({ ...lg, removed: true, waitsForPeers: false, noGrantUntil: null });
  });
  timerLogs(prev, next, log, quorum);
  const state: OwnershipState = {
    ...prev,
    groups,
    local,
    arbiter,
    autoFailback: next.autoFailback,
    config: tuningFor(prev.nodes, prev.arbiter ? { ...next.tuning, quorum: false } : (next.tuning ?? {}), next.timers.deadtimeMs, next.timers.keepaliveMs),
    deadtimeMs: next.timers.deadtimeMs,
    switches: renumbered(prev.switches, renumber),
  };
  return { state, effects };
}

/**
 * Our part in a group a reload added: nothing runs, unless the group is back before its stop
 * (a reload removed it, this one adds it again): that stop goes on, and then it is a candidate.
 */
function added(prev: OwnershipState, removed: LocalGroup | undefined, def: GroupDef, view: MembershipView, now: number, deadtimeMs: number): LocalGroup {
  return {
    ...(removed ?? newLocalGroup()),
    removed: false,
    waitsForPeers: !knownEverywhere(prev, view, def.id),
    noGrantUntil: prev.config.quorum ? now + Math.max(prev.deadtimeMs, deadtimeMs) : null,
  };
}

function timerLogs(prev: OwnershipState, next: Reconfiguration, log: (text: string) => void, quorum: boolean): void {
  if (prev.autoFailback !== next.autoFailback) log(`reload: auto_failback ${prev.autoFailback} -> ${next.autoFailback}`);
  if (quorum && next.timers.deadtimeMs < prev.deadtimeMs) {
    log(`reload: the deadtime is shorter now; a node heard before this reload is still declared dead only after ${prev.deadtimeMs} ms of silence, for the next ${prev.deadtimeMs} ms, as our earlier heartbeats promised (the quorum's leases rest on it)`);
  }
}

/**
 * Removed groups are forgotten once all of them are stopped here. They are the last groups,
 * so no other group changes its number; and none has an agent call in flight. Called on the
 * step's copy, before anything else: that step's effects never name a forgotten group.
 */
export function forgetRemoved(s: OwnershipState): string[] {
  if (!s.local.some((lg) => lg.removed) || s.local.some((lg) => lg.removed && lg.run.phase !== 'stopped')) return [];
  const keep = s.local.flatMap((lg, g) => (lg.removed ? [] : [g]));
  const gone = s.groups.filter((_, g) => !keep.includes(g)).map((def) => def.id);
  s.switches = renumbered(s.switches, s.groups.map((_, g) => (keep.includes(g) ? g : -1)));
  s.groups = keep.map((g) => s.groups[g]!);
  s.local = keep.map((g) => s.local[g]!);
  return gone;
}

/** The timer lines of a reload, in Heartbeat's names: "reload: deadtime 2000 ms -> 5000 ms". */
export function timerChanges(prev: Timers, next: Timers): string[] {
  const names: [keyof Timers, string][] = [
    ['keepaliveMs', 'keepalive'],
    ['warntimeMs', 'warntime'],
    ['deadtimeMs', 'deadtime'],
    ['initdeadMs', 'initdead'],
  ];
  return names.filter(([k]) => prev[k] !== next[k]).map(([k, name]) => `reload: ${name} ${prev[k]} ms -> ${next[k]} ms`);
}
