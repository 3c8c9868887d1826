// What a simulated world runs on and what a run reports: the events of its queue (one
// timeline for every node's timer, packets, agent calls, faults and checks) and the result.
import type { NodeEffect, NodeState } from '../core/node.js';
import type { Core } from '../runtime/runtime.js';
import type { Packet } from './sim-node.js';
import type { Violation } from './statements.js';

export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export type Ev =
  | { t: number; seq: number; k: 'wake'; node: number; token: number }
  | { t: number; seq: number; k: 'deliver'; node: number; pkt: Packet; link: string }
  | { t: number; seq: number; k: 'agent'; node: number; gen: number; call: number }
  | { t: number; seq: number; k: 'fault'; f: number; end: boolean }
  | { t: number; seq: number; k: 'boot'; node: number }
  | { t: number; seq: number; k: 'check'; what: () => void };

export interface FaultCounts {
  [kind: string]: number;
}

export interface RunResult {
  seed: number;
  violation: Violation | null;
  /** Simulated time covered (ms). */
  simulatedMs: number;
  faults: FaultCounts;
  /** Double ownerships the invariants excuse, by reason (see invariants.ts). */
  excused: Record<string, number>;
  /** How often each check applied. */
  checked: Record<string, number>;
  steps: number;
  trace: string[];
}

export interface WorldOptions {
  core?: Core;
  trace?: boolean;
  /** Every step of every node, in order (bench/sim-digest.ts hashes them to show two builds behave the same). */
  onStep?: (node: string, now: number, effects: readonly NodeEffect[], state: NodeState) => void;
}
