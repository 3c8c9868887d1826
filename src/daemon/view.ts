// What an operator sees: a status snapshot of the cluster as this node knows it, the recent
// transitions, and counters. Built from the core's state and effects; read by the control
// socket (cl_status, hbctl), and by the HTTP API and metrics.
import type { ClusterConfig } from '../config/types.js';
import type { GroupPhase, NodeEffect, NodeState, NodeStatus } from '../core/node.js';

export interface Transition {
  /** Wall-clock time, ISO 8601: for people. */
  at: string;
  kind: 'node' | 'link' | 'group' | 'drift';
  text: string;
}

export interface NodeView {
  name: string;
  status: NodeStatus;
  self: boolean;
  lastHeardMsAgo: number | null;
  generation: number | null;
  links: { name: string; up: boolean }[];
  digest: string | null;
}

export interface GroupView {
  id: string;
  preferredNode: string;
  resources: string[];
  /** The node running it (phase running), or null. */
  owner: string | null;
  /** Every live node's phase for this group, ours included. */
  phases: Record<string, GroupPhase>;
}

export interface StatusSnapshot {
  node: string;
  status: string;
  digest: string;
  drift: string[];
  settled: boolean;
  nodes: NodeView[];
  groups: GroupView[];
  transitions: Transition[];
  counters: Record<string, number>;
}

export type ViewListener = (effects: NodeEffect[], state: NodeState) => void;

const MAX_TRANSITIONS = 200;

export class ClusterView {
  private state: NodeState | null = null;
  private readonly transitions: Transition[] = [];
  private readonly counters = new Map<string, number>();
  private readonly listeners: ViewListener[] = [];
  readonly agentCalls: { resource: string; action: string; ms: number; ok: boolean }[] = [];
  private agentHook: ((resource: string, action: string, ms: number, ok: boolean) => void) | null = null;
  private nowAtUpdate = 0;

  constructor(
    private readonly config: ClusterConfig,
    readonly me: string,
  ) {}

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

  update(state: NodeState, effects: NodeEffect[], now: number): void {
    this.state = state;
    this.nowAtUpdate = now;
    for (const e of effects) {
      switch (e.kind) {
        case 'node-status':
          this.record('node', `node ${e.node}: ${e.from} -> ${e.to}${e.reason ? ` (${e.reason})` : ''}`);
          break;
        case 'link-status':
          this.record('link', `link ${e.node}:${e.link} ${e.up ? 'up' : 'dead'}`);
          break;
        case 'transition': {
          const g = this.config.groups[e.group];
          const label = g ? g.id : `group ${e.group}`;
          const words: Record<typeof e.what, string> = {
            takeover: `took over ${label}${e.from ? ` from ${e.from}` : ''}`,
            failback: `failback: ${label} returns to its preferred node`,
            acquired: `acquiring ${label}`,
            release: `releasing ${label}`,
            'start-failed': `start of ${label} failed`,
            'stop-failed': `stop of ${label} FAILED`,
            standby: `standby: giving up ${label}`,
          };
          this.record('group', `${this.me}: ${words[e.what]}`);
          this.count(`transitions_${e.what.replace('-', '_')}`);
          break;
        }
        case 'group-phase':
          if (e.to === 'running' || e.to === 'stopped') {
            const g = this.config.groups[e.group];
            this.record('group', `${this.me}: ${g ? g.id : e.group} is ${e.to}`);
          }
          break;
        case 'drift':
          this.record('drift', `node ${e.node} has config digest ${e.digest ?? '(none)'}, ours is ${this.config.digest}`);
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

  count(name: string, ...labels: string[]): void {
    const key = labels.length ? `${name}{${labels.join(',')}}` : name;
    this.counters.set(key, (this.counters.get(key) ?? 0) + 1);
  }

  counter(name: string): number {
    return this.counters.get(name) ?? 0;
  }

  private record(kind: Transition['kind'], text: string): void {
    this.transitions.push({ at: new Date().toISOString(), kind, text });
    if (this.transitions.length > MAX_TRANSITIONS) this.transitions.shift();
  }

  snapshot(now: number = this.nowAtUpdate): StatusSnapshot {
    const s = this.state;
    if (!s) throw new Error('not started');
    const m = s.membership;
    const o = s.ownership;
    const nodes: NodeView[] = this.config.ha.nodes.map((name) => {
      if (name === this.me) {
        return { name, status: m.myStatus === 'active' ? 'active' : m.myStatus, self: true, lastHeardMsAgo: 0, generation: null, links: [], digest: s.digest };
      }
      const p = m.peers[name]!;
      return {
        name,
        status: p.status,
        self: false,
        lastHeardMsAgo: p.lastHeard === null ? null : Math.max(0, Math.round(now - p.lastHeard)),
        generation: p.generation,
        links: Object.entries(p.links).map(([l, st]) => ({ name: l, up: st.up })),
        digest: s.peerDigests[name] ?? null,
      };
    });
    const live = new Set([this.me, ...o.live]);
    const groups: GroupView[] = this.config.groups.map((g, i) => {
      const phases: Record<string, GroupPhase> = {};
      for (const n of this.config.ha.nodes) {
        if (!live.has(n)) continue;
        phases[n] = n === this.me ? o.local[i]!.phase : (o.peers[n]?.phases[i] ?? 'stopped');
      }
      const owner = Object.entries(phases).find(([, ph]) => ph === 'running')?.[0] ?? null;
      return { id: g.id, preferredNode: g.preferredNode, resources: g.resources.map((r) => r.raw), owner, phases };
    });
    const drift = Object.entries(s.peerDigests)
      .filter(([n, d]) => live.has(n) && d !== null && d !== s.digest)
      .map(([n]) => n);
    return {
      node: this.me,
      status: m.myStatus,
      digest: s.digest,
      drift,
      settled: m.settled,
      nodes,
      groups,
      transitions: [...this.transitions],
      counters: Object.fromEntries(this.counters),
    };
  }
}
