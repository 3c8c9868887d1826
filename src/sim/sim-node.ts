// One simulated node: its hardware (is it up, paused, what runs on it, its clock) and the
// node runtime the daemon runs, booted with the node's own configuration.
import { arbiterTuning } from '../core/arbiter.js';
import type * as Node from '../core/node.js';
import type { Sender } from '../wire/messages.js';
import { NodeRuntime, type Core } from '../runtime/runtime.js';
import type { NodePort } from '../runtime/port.js';
import type { HbMessage } from '../wire/message.js';
import type { Call } from './agents.js';
import type { SimConfig } from './schedule.js';
import type { NodeCfg } from './bounds.js';

/** One message on its way: the runtime's own, plus what the checker needs to know of it. */
export interface Packet {
  message: HbMessage;
  src: number;
  /** Global time it was sent. */
  sentAt: number;
}

export type Command = Parameters<NodeRuntime['command']>[0];
export type Deferred = { k: 'deliver'; pkt: Packet; link: string } | { k: 'agent'; call: number } | { k: 'event'; event: Command } | { k: 'reload' };

/** Every simulated node's uuid (nothing reads it but the wire format). */
const SIM_UUID = Buffer.alloc(16);
/** The wall clock of the simulated world at time 0 (Heartbeat's `ts` field only). */
export const SIM_EPOCH_S = 1_700_000_000;

export interface SimNode {
  idx: number;
  name: string;
  /** Its files: at its next boot, and since its last reload. */
  cfg: NodeCfg;
  /** Global group index of each group of its core (its number there); a reload renumbers them. */
  globalOf: number[];
  /** The core's number of each global group, or -1 (the core does not have it). */
  localOf: number[];
  /** The core's group list globalOf and localOf were made from. */
  coreGroups: readonly Node.GroupDef[] | null;
  up: boolean;
  paused: boolean;
  pausedAt: number;
  /** When it last resumed from a pause (-Infinity: never). */
  resumedAt: number;
  gen: number;
  bootAt: number;
  /** Boot time of each generation (index: generation). */
  bootTimes: number[];
  clockBase: number;
  runtime: NodeRuntime | null;
  /** The runtime's core state after its last step (what the checker reads). */
  state: Node.NodeState | null;
  /** The current timer request: a wake event with another token is stale. */
  token: number;
  /** Busy-loop detection: the time of the last timer wake, and how many came at that time. */
  lastWakeAt: number;
  wakesAtOnce: number;
  deferred: Deferred[];
  calls: Map<number, Call>;
  /** Per global group: is each resource really running on this node? */
  res: boolean[][];
}


export function newSimNode(idx: number, name: string, cfg: NodeCfg, globalOf: number[], localOf: number[], groups: SimConfig['groups']): SimNode {
  return {
    idx,
    name,
    cfg,
    globalOf,
    localOf,
    coreGroups: null,
    up: false,
    paused: false,
    pausedAt: 0,
    resumedAt: -Infinity,
    gen: 0,
    bootAt: 0,
    bootTimes: [],
    clockBase: 0,
    runtime: null,
    state: null,
    token: 0,
    lastWakeAt: -1,
    wakesAtOnce: 0,
    deferred: [],
    calls: new Map(),
    res: groups.map((g) => g.resources.map(() => false)),
  };
}

/** Boots the node's hardware: a new generation, nothing running, no calls, its own clock. */
export function powerOn(n: SimNode, now: number, clockBase: number): void {
  n.up = true;
  n.paused = false;
  n.gen += 1;
  n.bootAt = now;
  n.bootTimes[n.gen] = now;
  n.clockBase = clockBase;
  n.deferred = [];
  n.calls = new Map();
  for (const r of n.res) r.fill(false);
  n.token += 1;
}

/** The daemon is gone (power-off or exit): its runtime, its timer, its calls and what waited for it. */
export function powerOff(n: SimNode): void {
  n.up = false;
  n.paused = false;
  n.runtime = null;
  n.state = null;
  n.token += 1;
  n.calls.clear();
  n.deferred = [];
}

/** What the node's core is told of its files, at boot and at a reload. */
export function nodeOptionsOf(n: SimNode, config: SimConfig): Node.NodeOptions {
  const groups = n.cfg.groups.map((id) => config.groups.find((g) => g.id === id)!);
  return {
    me: n.name,
    nodes: config.nodes,
    witnesses: config.witness ? [config.witness] : [],
    ...(config.fencing ? { fencing: { retryMs: config.fencing.retryMs } } : {}),
    ...(config.arbiter ? { arbiter: arbiterTuning(config.arbiter.ttlMs, config.arbiter.stopMs) } : {}),
    ...(config.ping ? { ping: { nodes: config.ping.nodes, deadpingMs: config.ping.deadpingMs, ipfail: config.ping.ipfail } } : {}),
    linkNames: config.links,
    timers: n.cfg.timers,
    groups: groups.map((g) => ({
      id: g.id,
      preferredNode: g.preferredNode,
      resources: [...g.resources],
      ...(g.monitor ? { monitors: g.resources.map((_, resource) => ({ resource, ...g.monitor! })) } : {}),
    })),
    autoFailback: n.cfg.autoFailback,
    digest: n.cfg.digest,
    tuning: config.tuning,
    generation: n.gen,
  };
}

export function senderOf(n: SimNode): Sender {
  return { node: n.name, uuid: SIM_UUID, generation: n.gen, deadtimeMs: n.cfg.timers.deadtimeMs };
}

/** The node's runtime for its current generation, with its haresources and timers. */
export function bootRuntime(n: SimNode, config: SimConfig, port: NodePort, core: Core, now: number): NodeRuntime {
  return new NodeRuntime({ node: nodeOptionsOf(n, config), sender: senderOf(n), port, core }, now);
}

/** Renumbers globalOf and localOf when the core's group list changed (boot, reload); true when it did. */
export function regroup(n: SimNode, gindex: ReadonlyMap<string, number>): boolean {
  const groups = n.state?.ownership.groups ?? null;
  if (groups === n.coreGroups) return false;
  n.coreGroups = groups;
  n.globalOf = (groups ?? []).map((d) => gindex.get(d.id)!);
  n.localOf.fill(-1);
  n.globalOf.forEach((g, l) => (n.localOf[g] = l));
  return true;
}

/** What the trace says of a step of `n`: its view of the nodes and of its groups. */
export function traceLines(n: SimNode, effects: readonly Node.NodeEffect[]): string[] {
  return effects.flatMap((e) => {
    if (e.kind === 'node-status') return [`${n.name}: node ${e.node} ${e.from} -> ${e.to}${e.reason ? ` (${e.reason})` : ''}`];
    if (e.kind === 'group-phase') return [`${n.name}: group "${n.coreGroups?.[e.group]?.id}" ${e.from} -> ${e.to}`];
    if (e.kind === 'fence-node') return [`${n.name}: fencing ${e.node} (attempt ${e.attempt})`];
    return [];
  });
}
