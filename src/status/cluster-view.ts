// The node's record of what happened, beside the core's state: recent transitions, counters,
// and what peers said about their config files. The daemon feeds it the core's effects; the
// control socket, the HTTP API and metrics read it, through the status snapshot.
import type { ClusterConfig, ConfigParts } from '../config/types.js';
import type { NodeEffect, NodeState } from '../core/node.js';
import { driftPartsOf, snapshotOf, type StatusSnapshot, type Transition } from './snapshot.js';

export type ViewListener = (effects: NodeEffect[], state: NodeState) => void;

/** One attempt of a cloud API call by a cloud IP agent (agents/cloud/http.ts), for metrics. */
export interface CloudApiCall {
  provider: string;
  operation: string;
  ms: number;
  /** `ok`, or why it failed (unauthorized, rate_limited, server_error, timeout...). */
  result: string;
}

const MAX_TRANSITIONS = 200;

export class ClusterView {
  private state: NodeState | null = null;
  private readonly transitions: Transition[] = [];
  private readonly counters = new Map<string, number>();
  private readonly listeners: ViewListener[] = [];
  readonly agentCalls: { resource: string; action: string; ms: number; ok: boolean }[] = [];
  private agentHook: ((resource: string, action: string, ms: number, ok: boolean) => void) | null = null;
  private apiHook: ((call: CloudApiCall) => void) | null = null;
  private nowAtUpdate = 0;
  /** Peers' advertised part digests (hts_cfgp), for naming what drifted. */
  private readonly peerParts = new Map<string, ConfigParts | null>();
  /** `node digest` pairs already warned about: one WARN per peer per distinct digest. */
  private readonly driftWarned = new Set<string>();
  /** Nodes whose silence passed warntime: their late heartbeat is counted once. */
  private readonly lateNodes = new Set<string>();
  /** The transitions of the last update, classified as the timeline shows them (for metrics). */
  lastTransitions: { group: number; groupId: string; what: string }[] = [];

  constructor(
    private config: ClusterConfig,
    readonly me: string,
  ) {}

  /** A reload applied a new configuration (its digest is ours now; its groups are in the core's state). */
  setConfig(config: ClusterConfig): void {
    this.config = config;
  }

  attach(state: NodeState, now: number): void {
    this.state = state;
    this.nowAtUpdate = now;
  }

  onUpdate(listener: ViewListener): void {
    this.listeners.push(listener);
  }

  onAgentCall(hook: (resource: string, action: string, ms: number, ok: boolean) => void): void {
    this.agentHook = hook;
  }

  onCloudApiCall(hook: (call: CloudApiCall) => void): void {
    this.apiHook = hook;
  }

  cloudApiCall(call: CloudApiCall): void {
    this.apiHook?.(call);
  }

  update(state: NodeState, effects: NodeEffect[], now: number): void {
    this.state = state;
    // Effects name groups by their number in this state (a reload may renumber them).
    const groupId = (g: number) => state.ownership.groups[g]?.id ?? `group ${g}`;
    this.nowAtUpdate = now;
    this.lastTransitions = [];
    for (const e of effects) {
      switch (e.kind) {
        case 'node-status':
          this.record('node', `node ${e.node}: ${e.from} -> ${e.to}${e.reason ? ` (${e.reason})` : ''}`, `node-${e.to}`);
          this.lateNodes.delete(e.node);
          if (e.to === 'dead') this.count('node_deaths', e.node);
          break;
        case 'link-status':
          this.record('link', `link ${e.node}:${e.link} ${e.up ? 'up' : 'dead'}`, e.up ? 'link-up' : 'link-dead');
          break;
        case 'late-heartbeat':
          // Said while a silence lasts and again when the heartbeat that ends it arrives: count each silence once.
          if (!this.lateNodes.has(e.node)) this.count('late_heartbeats', e.node);
          if (e.arrived) this.lateNodes.delete(e.node);
          else this.lateNodes.add(e.node);
          break;
        case 'transition': {
          const label = groupId(e.group);
          const words: Record<typeof e.what, string> = {
            takeover: `took over ${label}${e.from ? ` from ${e.from}` : ''}`,
            failback: `failback: ${label} returns to its preferred node`,
            acquired: `acquiring ${label}`,
            release: `releasing ${label}`,
            'start-failed': `start of ${label} failed`,
            'stop-failed': `stop of ${label} FAILED`,
            standby: `standby: giving up ${label}`,
          };
          this.record('group', `${this.me}: ${words[e.what]}`, e.what);
          this.count(`transitions_${e.what.replace('-', '_')}`);
          this.lastTransitions.push({ group: e.group, groupId: label, what: e.what });
          break;
        }
        case 'monitor': {
          const label = groupId(e.group);
          const res = e.resource === null ? '' : (state.ownership.groups[e.group]?.resources[e.resource] ?? '?');
          if (e.what === 'failed') this.count('monitor_failures', label, res);
          if (e.what === 'restart') this.count('monitor_restarts', label, res);
          const words = { failed: `monitor of ${res} failed`, recovered: `${res} passes its monitor again`, restart: `restarting ${res} of ${label}`, 'keep-out': `keeps out of ${label} (monitor failures)`, cleared: `${label} cleared`, expired: `keep-out of ${label} over` };
          if (e.what !== 'failed') this.record('group', `${this.me}: ${words[e.what]}`, `monitor-${e.what}`);
          break;
        }
        case 'group-phase':
          if (e.to === 'running' || e.to === 'stopped') this.record('group', `${this.me}: ${groupId(e.group)} is ${e.to}`, e.to);
          break;
        case 'drift':
          this.record('drift', `node ${e.node}: config digest ${(e.digest ?? '(none)').slice(0, 12)} differs from ours, ${this.config.digest.slice(0, 12)}${this.describeDrift(e.node)}`, 'drift');
          break;
        default:
          break;
      }
    }
    for (const l of this.listeners) l(effects, state);
  }

  agentCall(resource: string, action: string, ms: number, ok: boolean): void {
    this.agentCalls.push({ resource, action, ms, ok });
    if (this.agentCalls.length > 100) this.agentCalls.shift();
    this.agentHook?.(resource, action, ms, ok);
  }

  /** What a peer advertised about its config files (hts_cfgp), noted before its status is stepped. */
  notePeerConfig(node: string, parts: ConfigParts | null): void {
    this.peerParts.set(node, parts);
  }

  /** The files that differ between this node's config and `node`'s; empty when it cannot tell. */
  driftPartsOf(node: string): string[] {
    return driftPartsOf(this.config, this.peerParts, node);
  }

  private describeDrift(node: string): string {
    const parts = this.driftPartsOf(node);
    return parts.length ? ` (${parts.join(', ')} ${parts.length > 1 ? 'differ' : 'differs'})` : '';
  }

  /** The WARN line for a drift effect, or null when this peer's digest was already reported. */
  driftWarning(node: string, digest: string | null): string | null {
    const key = `${node} ${digest ?? ''} ${this.config.digest}`;
    if (this.driftWarned.has(key)) return null;
    this.driftWarned.add(key);
    const parts = this.driftPartsOf(node);
    const what = parts.length ? `${parts.join(', ')} ${parts.length > 1 ? 'differ' : 'differs'}` : 'the configurations differ';
    return `Configuration drift between nodes ${this.me} and ${node}: ${what} (config digest ${(digest ?? '(none)').slice(0, 16)} on ${node}, ${this.config.digest.slice(0, 16)} on ${this.me}). The ha.cf, authkeys and haresources files should be identical on every node.`;
  }

  count(name: string, ...labels: string[]): void {
    const key = labels.length ? `${name}{${labels.join(',')}}` : name;
    this.counters.set(key, (this.counters.get(key) ?? 0) + 1);
  }

  counter(name: string): number {
    return this.counters.get(name) ?? 0;
  }

  private record(kind: Transition['kind'], text: string, tag?: string): void {
    this.transitions.push({ at: new Date().toISOString(), kind, text, ...(tag ? { tag } : {}) });
    if (this.transitions.length > MAX_TRANSITIONS) this.transitions.shift();
  }

  /** Throws until the daemon attaches its first state: callers answer "still starting". */
  snapshot(now: number = this.nowAtUpdate): StatusSnapshot {
    if (!this.state) throw new Error('not started');
    return snapshotOf(this.state, this.config, this.me, now, { transitions: this.transitions, counters: this.counters, peerParts: this.peerParts });
  }
}
