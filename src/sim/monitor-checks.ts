// The simulator's resource-monitoring faults and checks: a running resource killed behind a
// healthy node (a monitor fault), and the two promises monitoring makes (statements.ts):
// monitor-recovery (the node restarts the resource or lets go of the group within a bound)
// and keep-out (a node that keeps out of a group never starts it until cleared or timed out).
import type { NodeEffect } from '../core/node.js';
import type { Call } from './agents.js';
import { faultEnd, type Fault } from './schedule.js';
import type { SimNode, World } from './world.js';

type MonitorFault = Extract<Fault, { kind: 'monitor' }>;

export class MonitorChecks {
  /** died[node][group][resource]: killed by a fault and not started again since. */
  private readonly died: boolean[][][];
  /** When the node last started the resource again, or its group left running there. */
  private readonly recoveredAt: number[][][];
  private readonly keptOut: boolean[][];

  constructor(
    private readonly w: World,
    /** The node is no candidate for the group until `until` (global time): liveness waits for it. */
    private readonly hold: (node: number, g: number, until: number) => void,
    private readonly note: (what: string) => void,
  ) {
    const { nodes, groups } = w.schedule.config;
    this.died = nodes.map(() => groups.map((g) => g.resources.map(() => false)));
    this.recoveredAt = nodes.map(() => groups.map((g) => g.resources.map(() => -Infinity)));
    this.keptOut = nodes.map(() => groups.map(() => false));
  }

  /** The resource died behind its node (not a failure of the core: half-started excuses it). */
  isDead(node: number, g: number, r: number): boolean {
    return this.died[node]![g]![r]!;
  }

  /** A fault's kill number `k`, at its time: only a resource running in a running group dies. */
  kill(f: MonitorFault): void {
    const w = this.w;
    const n = w.node(f.node);
    const g = w.schedule.config.groups.findIndex((x) => x.id === f.group);
    const l = n.localOf[g] ?? -1;
    if (!n.up || n.paused || l < 0 || n.state?.ownership.local[l]?.run.phase !== 'running' || !n.res[g]![f.resource]) return;
    n.res[g]![f.resource] = false;
    this.died[n.idx]![g]![f.resource] = true;
    w.log(`${n.name}: resource ${f.resource} of "${f.group}" dies (monitor fault)`);
    this.planRecovery(n, g, f.resource);
  }

  /** Nothing else happening until then, the node restarts the resource or lets go of the group within the bound. */
  private planRecovery(n: SimNode, g: number, r: number): void {
    const w = this.w;
    const m = w.schedule.config.groups[g]!.monitor;
    if (!m) return;
    const b = w.bounds;
    const maxRes = Math.max(...w.schedule.config.groups.map((x) => x.resources.length));
    const bound = (m.failures + 1) * (m.intervalMs + maxRes * b.maxCallMs) + b.stopBudgetMs + b.startBudgetMs + 2 * b.maxKeepaliveMs + 10;
    const t = w.now;
    const deadline = t + bound;
    const busy = w.schedule.faults.some((x) => x.kind !== 'config' && x.kind !== 'monitor' && x.at <= deadline && faultEnd(x) >= t);
    if (busy) return;
    const gen = n.gen;
    this.note('monitor-recovery checks');
    w.at(deadline, () => {
      if (!n.up || n.gen !== gen || n.paused) return;
      const l = n.localOf[g] ?? -1;
      const phase = l >= 0 ? n.state?.ownership.local[l]?.run.phase : 'stopped';
      if (phase !== 'running' || this.recoveredAt[n.idx]![g]![r]! > t) return;
      w.fail({ invariant: 'monitor-recovery', message: `${n.name}: resource ${r} of "${w.schedule.config.groups[g]!.id}" died at ${t.toFixed(1)}; ${Math.round(bound)} ms later it is neither restarted nor is the group let go (phase ${phase})` });
    });
  }

  onCallStart(n: SimNode, call: Call): void {
    if (call.action !== 'start' || !this.keptOut[n.idx]![call.global]) return;
    this.w.fail({ invariant: 'keep-out', message: `${n.name} starts a resource of "${call.gid}" while it keeps out of that group` });
  }

  onCallDone(n: SimNode, call: Call, ok: boolean): void {
    if (call.action !== 'start' || !ok) return;
    this.died[n.idx]![call.global]![call.r] = false;
    this.recoveredAt[n.idx]![call.global]![call.r] = this.w.now;
  }

  afterStep(n: SimNode, effects: readonly NodeEffect[]): void {
    for (const e of effects) {
      const g = n.globalOf[e.kind === 'monitor' || e.kind === 'group-phase' ? e.group : -1];
      if (g === undefined) continue;
      if (e.kind === 'group-phase' && e.from === 'running') this.recoveredAt[n.idx]![g]!.fill(this.w.now);
      if (e.kind !== 'monitor') continue;
      if (e.what === 'restart') this.note('monitor restarts');
      if (e.what === 'keep-out') {
        this.note('monitor keep-outs');
        this.keptOut[n.idx]![g] = true;
        // The node's own clock to ours: the keep-out ends at the same distance from now.
        this.hold(n.idx, g, e.until === undefined || !Number.isFinite(e.until) ? Infinity : this.w.now + (e.until - this.w.local(n)));
      }
      if (e.what === 'cleared' || e.what === 'expired') this.keptOut[n.idx]![g] = false;
    }
  }

  /** Boot or crash: nothing runs, nothing is kept out (a new run of hbd forgets). */
  reset(n: SimNode): void {
    for (const d of this.died[n.idx]!) d.fill(false);
    this.keptOut[n.idx]!.fill(false);
  }
}
