// What a node runtime needs from the world around it. The daemon implements it with real
// sockets, child processes, timers and logs (src/daemon/); the simulator with a virtual
// network, virtual agents and a virtual clock (src/sim/). Nothing else differs between them.
import type { LogLevel, LogTag, NodeEffect, NodeState } from '../core/node.js';
import type { HbMessage } from '../wire/message.js';
import type { Incoming } from '../wire/messages.js';

/** `monitor`: a status call that checks a running resource (resource monitoring); the port runs the agent's status (an OCF agent's monitor). */
export type AgentAction = 'status' | 'start' | 'stop' | 'monitor';

/**
 * One agent call the core asked for: resource `resource` (index) of group `group` (its index in
 * the core's groups when the call began) whose id is `groupId`. A port hands the call back
 * whole with its answer: a reload may renumber the groups meanwhile, the id stays.
 */
export interface AgentCall {
  group: number;
  groupId: string;
  resource: number;
  action: AgentAction;
}

/** Its answer; `running` only for a status call. */
export interface AgentResult extends AgentCall {
  ok: boolean;
  running?: boolean;
}

export interface NodePort {
  /** Send one message on every link (the port signs and frames it). */
  send(message: HbMessage): void;
  /** Start an agent call; its result comes back through `NodeRuntime.agentDone`. */
  runAgent(call: AgentCall): void;
  /** `tag`: see the core's log effect (ResourceManager's lines). */
  log(level: LogLevel, text: string, tag?: LogTag): void;
  /** Call `NodeRuntime.tick` in `delayMs` ms (null: no timer). Replaces any earlier request. */
  wakeIn(delayMs: number | null): void;
  /** Wall-clock seconds, for Heartbeat's `ts` field only (liveness runs on the monotonic clock). */
  wallSeconds(): number;
  /** The host's load average as /proc/loadavg says it, for Heartbeat's `ld` field (none in the simulator). */
  loadAverage?(): string | undefined;
  /** A message the runtime accepted, before the core steps on it (counters, drift parts, checks). */
  received?(incoming: Extract<Incoming, { kind: 'status' | 'shutdone' }>, link: string, fresh: boolean): void;
  /** After every core step, with all its effects: status views, metrics, the address guard, invariant checks. */
  observe(effects: readonly NodeEffect[], state: NodeState): void;
  /** The core finished its shutdown (groups stopped, goodbye sent): close everything. */
  exit(): void;
}
