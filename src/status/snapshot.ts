// What an operator sees: the status snapshot of the cluster as one node knows it. The HTTP API,
// metrics, the control socket (cl_status, hbctl) and the dashboard all show this JSON, so it is
// computed in one place, from data alone: no clock, no I/O, the same input gives the same JSON.
import { differingParts } from '../config/digest.js';
import type { ClusterConfig, ConfigParts } from '../config/types.js';
import { viewOf } from '../core/membership.js';
import type { GroupPhase, NodeState, NodeStatus } from '../core/node.js';

export interface Transition {
  /** Wall-clock time, ISO 8601: for people. */
  at: string;
  kind: 'node' | 'link' | 'group' | 'drift';
  text: string;
  /** What happened, for dashboards: node-dead, node-active, link-up, takeover, failback, standby, running, drift... */
  tag?: string;
}

export interface NodeView {
  name: string;
  status: NodeStatus;
  self: boolean;
  lastHeardMsAgo: number | null;
  generation: number | null;
  links: { name: string; up: boolean }[];
  digest: string | null;
  /** ha.cf's `witness` (hbd --witness on a third host): it votes, and runs no group. */
  witness?: true;
}

/** A ping node (or ping group) as this node sees it: Heartbeat's statuses `ping` and `dead` (`init`: not yet). */
export interface PingNodeView {
  name: string;
  status: 'init' | 'ping' | 'dead';
  addresses: string[];
  /** The last echo reply, ms ago; null when none yet. */
  lastReplyMsAgo: number | null;
}

export interface GroupView {
  id: string;
  /** A reload removed it from haresources; it is still being stopped here. */
  removed?: true;
  preferredNode: string;
  resources: string[];
  /** The node running it (phase running), or null. */
  owner: string | null;
  /** Every live node's phase for this group, ours included. */
  phases: Record<string, GroupPhase>;
  /**
   * Resource monitoring on this node (when the group has monitored resources, or this node
   * keeps out of it): failed checks in a row per resource, restarts inside the window, and
   * whether this node keeps out of the group (for how much longer; null: until cleared).
   */
  monitor?: { failures: Record<string, number>; restarts: number; keptOut: boolean; keptOutForMs: number | null };
  /** Live nodes that keep out of the group (monitor failures) or hold off after a failed start. */
  heldOff?: string[];
}

export interface StatusSnapshot {
  node: string;
  status: string;
  digest: string;
  drift: string[];
  /** For each drifting node, the files that differ ('ha.cf', 'authkeys', 'haresources') when it says. */
  driftParts: Record<string, string[]>;
  settled: boolean;
  nodes: NodeView[];
  /** Only when ha.cf has ping nodes. */
  pingNodes?: PingNodeView[];
  /** How many ping nodes this node counts as reachable (with hysteresis; see core/ping.ts), and whether ipfail acts on it. */
  pings?: { reachable: number; ipfail: boolean };
  groups: GroupView[];
  transitions: Transition[];
  counters: Record<string, number>;
}

/** What the core's state does not hold: the node's own record of what happened and what peers said. */
export interface SnapshotExtras {
  transitions: readonly Transition[];
  counters: ReadonlyMap<string, number>;
  /** Each peer's advertised part digests (hts_cfgp), null when it sent none. */
  peerParts: ReadonlyMap<string, ConfigParts | null>;
}

/** The files that differ between our config and what `node` advertised; empty when it cannot tell. */
export function driftPartsOf(config: ClusterConfig, peerParts: SnapshotExtras['peerParts'], node: string): string[] {
  const theirs = peerParts.get(node);
  return theirs ? differingParts(config.partDigests, theirs) : [];
}

/** The snapshot of `state` as node `me` reports it at monotonic time `now` (ms). */
export function snapshotOf(state: NodeState, config: ClusterConfig, me: string, now: number, extras: SnapshotExtras): StatusSnapshot {
  const m = state.membership;
  const o = state.ownership;
  const witness = config.ha.quorum.witness?.name ?? null;
  const members = witness ? [...config.ha.nodes, witness] : config.ha.nodes;
  const role = (name: string) => (name === witness ? { witness: true as const } : {});
  const nodes: NodeView[] = members.map((name) => {
    if (name === me) {
      return { name, status: m.myStatus === 'active' ? 'active' : m.myStatus, self: true, lastHeardMsAgo: 0, generation: null, links: [], digest: state.digest, ...role(name) };
    }
    const p = m.peers[name]!;
    return {
      name,
      status: p.status,
      self: false,
      lastHeardMsAgo: p.lastHeard === null ? null : Math.max(0, Math.round(now - p.lastHeard)),
      generation: p.generation,
      links: Object.entries(p.links).map(([l, st]) => ({ name: l, up: st.up })),
      digest: state.peerDigests[name] ?? null,
      ...role(name),
    };
  });
  const live = new Set([me, ...viewOf(m).live]);
  // The core's groups: the config's, and those a reload removed until they are stopped here.
  const groups: GroupView[] = o.groups.flatMap((g, i) => {
    const lg = o.local[i]!;
    if (lg.removed && lg.run.phase === 'stopped') return [];
    const phases: Record<string, GroupPhase> = {};
    for (const n of members) {
      if (!live.has(n)) continue;
      phases[n] = n === me ? lg.run.phase : (o.peers[n]?.groups[g.id]?.phase ?? 'stopped');
    }
    const owner = Object.entries(phases).find(([, ph]) => ph === 'running')?.[0] ?? null;
    const mon = lg.monitor;
    const keptOut = mon.keptOutUntil !== null && now < mon.keptOutUntil;
    const monitor = (g.monitors?.length ?? 0) > 0 || keptOut
      ? { failures: Object.fromEntries(Object.entries(mon.failed).map(([r, n]) => [g.resources[Number(r)] ?? r, n])), restarts: mon.restarts.length, keptOut, keptOutForMs: keptOut && Number.isFinite(mon.keptOutUntil!) ? Math.round(mon.keptOutUntil! - now) : null }
      : null;
    const heldOff = [...live].filter((n) => (n === me ? keptOut || (lg.failedUntil !== null && now < lg.failedUntil) : (o.peers[n]?.failed ?? []).includes(g.id)));
    return [{ id: g.id, ...(lg.removed ? { removed: true as const } : {}), preferredNode: g.preferredNode, resources: [...g.resources], owner, phases, ...(monitor ? { monitor } : {}), ...(heldOff.length ? { heldOff } : {}) }];
  });
  const drift = Object.entries(state.peerDigests)
    .filter(([n, d]) => live.has(n) && d !== null && d !== state.digest)
    .map(([n]) => n);
  return {
    node: me,
    status: m.myStatus,
    digest: state.digest,
    drift,
    driftParts: Object.fromEntries(drift.map((n) => [n, driftPartsOf(config, extras.peerParts, n)])),
    settled: m.settled,
    nodes,
    ...pingViews(state, config, now),
    groups,
    transitions: [...extras.transitions],
    counters: Object.fromEntries(extras.counters),
  };
}

function pingViews(state: NodeState, config: ClusterConfig, now: number): Pick<StatusSnapshot, 'pingNodes' | 'pings'> {
  if (config.ha.pingNodes.length === 0) return {};
  const pingNodes = config.ha.pingNodes.map((p): PingNodeView => {
    const st = state.ping.nodes[p.name];
    return { name: p.name, status: st?.status ?? 'init', addresses: [...p.addresses], lastReplyMsAgo: st?.lastReply == null ? null : Math.max(0, Math.round(now - st.lastReply)) };
  });
  return { pingNodes, pings: { reachable: state.ownership.pings ?? 0, ipfail: state.ownership.ipfail } };
}

/**
 * Everything of `state` that the STATUS= line (daemon/service-manager.ts `statusLine`) can
 * read, as one string: who is up, each group's phase here and in each peer's advert, whether
 * we are settled. While it stays the same so does the line, so hbd need not take a snapshot
 * on every heartbeat (each one would cost a timer wake-up of its own).
 */
export function statusLineInputs(state: NodeState): string {
  const m = state.membership;
  const o = state.ownership;
  let key = `${m.myStatus} ${m.settled}`;
  for (const n in m.peers) key += ` ${n}=${m.peers[n]!.status}`;
  for (let g = 0; g < o.groups.length; g++) key += ` | ${o.groups[g]!.id} ${o.groups[g]!.resources[0]} ${o.local[g]?.removed} ${o.local[g]?.run.phase}`;
  for (const n in o.peers) {
    key += ` | ${n}:`;
    const groups = o.peers[n]!.groups;
    for (const id in groups) key += ` ${id}=${groups[id]!.phase}`;
  }
  return key;
}
