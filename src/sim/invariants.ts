// The checker that watches a World for the invariants stated in statements.ts.
import type { NodeEffect } from '../core/node.js';
import type { GroupPhase } from '../core/ownership.js';
import type { Fault } from './schedule.js';
import { quietPeriods } from './bounds.js';
import type { Call, Packet, SimNode, World } from './world.js';
import type { Violation } from './statements.js';
import { TwoNodeSafety } from './two-node.js';
import { FailbackStability } from './failback-stability.js';
import { ReloadViews } from './reload-views.js';
import { MonitorChecks } from './monitor-checks.js';
import { expectedOwner } from './placement.js';

export { INVARIANTS, type InvariantName, type Violation } from './statements.js';

const holds = (p: GroupPhase | null): boolean => p !== null && p !== 'stopped';

export class Checker {
  readonly excused: Record<string, number> = {};
  /** How often each check applied (so a summary shows the invariants were exercised). */
  readonly checked: Record<string, number> = {};
  private readonly G: number;
  /** phase[node][global group], null where the node lacks the group or is down. */
  private readonly phase: (GroupPhase | null)[][];
  private readonly owners: number[][];
  /** A stop call of the node's current stop of the group failed, timed out or is hung. */
  readonly stopTrouble: boolean[][];
  /** End (global time) of a failed-start hold per node and group. */
  private readonly holdUntil: number[][];
  /** 2-node clusters: double ownerships and whether both sides have heard each other since. */
  private readonly twoNode: TwoNodeSafety | null;
  private readonly failback: FailbackStability;
  private quiet: { from: number; to: number } | null = null;
  private steady = false;
  private readonly steadyOwner: (number | null)[];
  private readonly sequence: number[][];
  private readonly quorum: boolean;
  private readonly majority: number;
  private readonly reloads: ReloadViews;
  readonly related: number[][];
  readonly monitor: MonitorChecks;

  constructor(private readonly w: World) {
    const { config } = w.schedule;
    this.G = config.groups.length;
    const N = config.nodes.length;
    // A witness (a third voter), fencing (a lost peer powered off, a live one consenting to a
    // start: core/lease.ts) or the etcd arbiter: with any, two nodes get the strict rule too.
    this.quorum = N >= 3 || config.fencing !== undefined || config.arbiter !== undefined;
    this.majority = config.arbiter ? 1 : Math.floor(N / 2) + 1;
    this.twoNode = this.quorum ? null : new TwoNodeSafety(w, this);
    this.phase = config.nodes.map(() => config.groups.map(() => null));
    this.owners = config.groups.map(() => []);
    this.stopTrouble = config.nodes.map(() => config.groups.map(() => false));
    this.holdUntil = config.nodes.map(() => config.groups.map(() => -Infinity));
    this.failback = new FailbackStability(w, (what) => this.note(what));
    this.steadyOwner = config.groups.map(() => null);
    this.sequence = config.groups.map(() => []);
    this.reloads = new ReloadViews(w);
    this.related = this.reloads.related;
    this.monitor = new MonitorChecks(w, (i, g, until) => (this.holdUntil[i]![g] = Math.max(this.holdUntil[i]![g]!, until)), (what) => this.note(what));
    if (!w.bounds.livenessPromised) this.note('no liveness promise (timers differ)');
    if (config.witness) this.note('2 nodes + witness');
  }

  excuse(reason: string): void {
    this.excused[reason] = (this.excused[reason] ?? 0) + 1;
  }

  note(what: string): void {
    this.checked[what] = (this.checked[what] ?? 0) + 1;
  }

  name(i: number): string {
    return this.w.nodes[i]!.name;
  }

  gid(g: number): string {
    return this.w.schedule.config.groups[g]!.id;
  }

  // ---- hooks from the world ----------------------------------------------------------

  onBoot(n: SimNode): void {
    for (let g = 0; g < this.G; g++) {
      this.phase[n.idx]![g] = n.localOf[g]! >= 0 ? 'stopped' : null;
      this.stopTrouble[n.idx]![g] = false;
      this.holdUntil[n.idx]![g] = -Infinity;
    }
    this.monitor.reset(n);
    this.refreshAll();
  }

  onDown(n: SimNode): void {
    this.failback.down(n);
    for (let g = 0; g < this.G; g++) this.phase[n.idx]![g] = null;
    this.monitor.reset(n);
    this.refreshAll();
  }

  /** The node's core has other groups now (a reload): those it no longer has are not held there. */
  onRegroup(n: SimNode): void {
    if (!n.up) return;
    for (let g = 0; g < this.G; g++) {
      const has = n.localOf[g]! >= 0;
      if (has === (this.phase[n.idx]![g] !== null)) continue;
      this.phase[n.idx]![g] = has ? 'stopped' : null;
      this.refreshRelated(g);
    }
  }

  /** Node i has trouble stopping group g, or a group sharing a resource with it. */
  stopTroubled(i: number, g: number): boolean {
    return this.related[g]!.some((h) => this.stopTrouble[i]![h]);
  }

  /** A pause (or its end) changes who counts as an owner: a frozen node runs nothing. */
  onPause = (_n: SimNode): void => this.refreshAll();
  onResume = (n: SimNode): void => this.onPause(n);

  onFault(f: Fault, end: boolean): void {
    if (!end) {
      if (f.kind === 'crash') this.planFailover(f);
      this.quiet = null; // any fault ends the quiet period it falls into
      this.steady = false;
    }
  }

  /** A fence powered `n` off; it boots at `bootAt`. A quiet period it falls in begins again from then. */
  onFenced(_n: SimNode, bootAt: number): void {
    this.note('fence resets');
    const q = this.quiet;
    this.quiet = null;
    this.steady = false;
    if (q && bootAt < q.to) this.w.at(bootAt, () => this.beginQuiet(bootAt, q.to));
  }

  /** A fresh status from `from` reached `to` (2 nodes: the double-ownership clock). */
  onHeard(to: SimNode, from: SimNode, pkt: Packet): void {
    this.twoNode?.heard(to, from, pkt);
  }

  onCallStart(n: SimNode, call: Call): void {
    const g = call.global;
    this.monitor.onCallStart(n, call);
    if (call.action === 'stop' && call.outcome !== 'ok') this.stopTrouble[n.idx]![g] = true;
    if (call.action !== 'start' || !this.quorum) return;
    for (const y of this.w.nodes) {
      if (y === n || !y.up) continue;
      for (const c of y.calls.values()) {
        if (c.action !== 'stop' || !this.related[g]!.includes(c.global)) continue;
        if (y.paused || this.w.now - y.resumedAt <= this.w.bounds.stopBudgetMs) {
          this.excuse('pause');
          continue;
        }
        if (this.stopTroubled(y.idx, g) || c.outcome !== 'ok') {
          this.excuse('stop-failed');
          continue;
        }
        this.w.fail({
          invariant: 'start-during-stop',
          message: `${n.name} starts ${this.w.schedule.config.groups[g]!.resources[call.r]} of "${this.gid(g)}" while ${y.name} is still stopping it`,
        });
      }
    }
  }

  onCallDone(n: SimNode, call: Call, ok: boolean): void {
    const g = call.global;
    this.monitor.onCallDone(n, call, ok);
    if (call.action === 'stop' && !ok) this.stopTrouble[n.idx]![g] = true;
    if (call.action === 'start' && !ok) {
      const hold = this.w.schedule.config.tuning.failedStartHoldMs ?? 60_000;
      this.holdUntil[n.idx]![g] = this.w.now + hold;
    }
  }

  afterStep(n: SimNode, effects: NodeEffect[]): void {
    if (!n.state) return;
    this.failback.stepped(n);
    this.monitor.afterStep(n, effects);
    const local = n.state.ownership.local;
    const changed: number[] = [];
    // Stops first: a group that stopped in this step was not owned in between, even when it or
    // another line of its resources (a reload) started again in it (seed 1784012).
    for (const e of effects) {
      if (e.kind !== 'group-phase' || e.to !== 'stopped') continue;
      const g = n.globalOf[e.group]!;
      if (this.phase[n.idx]![g] !== 'stopped' && this.phase[n.idx]![g] !== null) {
        this.phase[n.idx]![g] = 'stopped';
        this.stopTrouble[n.idx]![g] = false;
        this.refreshRelated(g);
      }
    }
    for (let l = 0; l < local.length; l++) {
      const g = n.globalOf[l]!;
      const run = local[l]!.run;
      const before = this.phase[n.idx]![g]!;
      const p = run.phase;
      if (p === before) continue;
      this.phase[n.idx]![g] = p;
      changed.push(g);
      if (run.phase === 'stopping' && (before === 'running' || before === 'starting')) {
        // A new stop: its trouble so far is its first call's, issued in this same step.
        this.stopTrouble[n.idx]![g] = [...n.calls.values()].some((c) => c.action === 'stop' && c.global === g && c.outcome !== 'ok');
        this.note(`stops (${run.reason})`);
        if (run.reason === 'release') this.failback.released(n, g, holds(this.phase[this.w.node(this.w.schedule.config.groups[g]!.preferredNode).idx]![g]!));
      }
      if (p === 'stopped') this.stopTrouble[n.idx]![g] = false;
      if (p === 'starting') this.failback.starting(n, g);
    }
    // Never half-started.
    for (let l = 0; l < local.length; l++) {
      const p = local[l]!.run.phase;
      if (p !== 'running' && p !== 'stopped') continue;
      const g = n.globalOf[l]!;
      const res = n.res[g]!;
      const want = p === 'running';
      if (res.some((r, i) => r !== want && !(want && this.monitor.isDead(n.idx, g, i)))) {
        this.w.fail({
          invariant: 'half-started',
          message: `${n.name}: "${this.gid(g)}" is ${p} but its resources are [${res.map((r) => (r ? 'running' : 'stopped')).join(', ')}]`,
        });
      }
    }
    for (const g of changed) this.refreshRelated(g);
    this.twoNode?.stepped(n);
    if (this.steady && effects.length > 0) for (let g = 0; g < this.G; g++) this.checkSteady(g);
  }

  // ---- owners and safety -------------------------------------------------------------

  private refreshAll(): void {
    for (let g = 0; g < this.G; g++) this.refresh(g);
    if (this.steady) for (let g = 0; g < this.G; g++) this.checkSteady(g);
  }

  private refreshRelated(g: number): void {
    for (const h of this.related[g]!) this.refresh(h);
  }

  private refresh(g: number): void {
    const owners = this.w.nodes.filter((n) => n.up && !n.paused && this.related[g]!.some((h) => holds(this.phase[n.idx]![h]!))).map((n) => n.idx);
    const prev = this.owners[g]!;
    if (owners.length === prev.length && owners.every((o, i) => o === prev[i])) return;
    this.owners[g] = owners;
    if (this.w.trace && (owners.length > 1 || prev.length > 1)) this.w.log(`owners of "${this.gid(g)}": [${owners.map((o) => this.name(o)).join(', ')}]`);
    if (this.quorum) this.safetyQuorum(g);
    else this.twoNode?.owners(g, owners);
    // The single running owner, for flapping.
    if (this.quiet && owners.length === 1 && this.phase[owners[0]!]![g] === 'running') {
      const o = owners[0]!;
      const seq = this.sequence[g]!;
      if (seq[seq.length - 1] !== o) {
        if (seq.includes(o)) {
          this.w.fail({ invariant: 'no-flap', message: `"${this.gid(g)}" returns to ${this.name(o)} in a quiet period (owners since it began: ${[...seq, o].map((i) => this.name(i)).join(' -> ')})` });
        }
        seq.push(o);
      }
    }
  }

  private safetyQuorum(g: number): void {
    const owners = this.owners[g]!;
    if (owners.length < 2) return;
    const budget = this.w.bounds.stopBudgetMs;
    const plain: number[] = [];
    let recheckAt = Infinity;
    for (const o of owners) {
      const n = this.w.nodes[o]!;
      if (this.w.now - n.resumedAt <= budget) {
        this.excuse('pause');
        recheckAt = Math.min(recheckAt, n.resumedAt + budget + 0.001);
      } else if (this.stopTroubled(o, g)) {
        this.excuse('stop-failed');
      } else plain.push(o);
    }
    if (plain.length > 1) {
      this.w.fail({
        invariant: 'safety',
        message: `"${this.gid(g)}" has ${owners.length} owners: ${owners.map((o) => `${this.name(o)} (${this.phase[o]![g]})`).join(', ')}`,
      });
      return;
    }
    if (Number.isFinite(recheckAt)) this.w.at(recheckAt, () => this.safetyQuorum(g));
  }

  // ---- quiet periods: liveness, failback, flapping -----------------------------------

  /** The quiet periods of the schedule, and the checks in them. */
  planQuietPeriods(): void {
    for (const [from, to] of quietPeriods(this.w.schedule)) this.w.at(from, () => this.beginQuiet(from, to));
  }

  private beginQuiet(from: number, to: number): void {
    this.quiet = { from, to };
    this.steady = false;
    for (let g = 0; g < this.G; g++) {
      const o = this.owners[g]!;
      this.sequence[g] = o.length === 1 && this.phase[o[0]!]![g] === 'running' ? [o[0]!] : [];
      this.steadyOwner[g] = null;
    }
    const at = from + this.w.bounds.settleMs;
    if (at >= Math.min(to, this.w.schedule.config.durationMs)) return;
    this.w.at(at, () => {
      if (!this.quiet || this.quiet.from !== from) return;
      this.steady = true;
      for (let g = 0; g < this.G; g++) this.checkSteady(g);
    });
  }

  /** Nodes that may run group g now: up, with the group, not in a failed-start hold, no witness. */
  private eligible(g: number): SimNode[] {
    const witness = this.w.schedule.config.witness;
    return this.w.nodes.filter((n) => n.up && n.name !== witness && this.reloads.hasGroup(n, g) && this.holdUntil[n.idx]![g]! <= this.w.now);
  }

  private checkSteady(g: number): void {
    if (!this.steady || !this.quiet) return;
    if (!this.reloads.livenessPromised()) return;
    const w = this.w;
    const withGroup = w.nodes.filter((n) => this.reloads.hasGroup(n, g));
    if (withGroup.length === 0 || (this.quorum && withGroup.length < this.majority)) return;
    // A failed-start hold that ends inside the period starts the clock again for this group.
    const holdEnd = Math.max(...withGroup.map((n) => this.holdUntil[n.idx]![g]!));
    const from = Math.max(this.quiet.from, holdEnd) + w.bounds.settleMs;
    if (w.now < from) {
      if (from < this.quiet.to) {
        const q = this.quiet;
        w.at(from, () => {
          if (this.quiet === q) this.checkSteady(g);
        });
      }
      return;
    }
    const eligible = this.eligible(g);
    if (eligible.length === 0 || this.reloads.waitsForReload(g)) return;
    this.note('liveness checks');
    const owners = this.owners[g]!;
    const id = this.gid(g);
    // The owner may run it under another line of the same resources (the files differ after a partial reload): the resources then run once, which is what liveness asks; no placement rule applies.
    const runs = (o: number) => this.related[g]!.some((h) => this.phase[o]![h] === 'running');
    if (owners.length !== 1 || !runs(owners[0]!)) {
      w.fail({
        invariant: 'liveness',
        message: `"${id}" has ${owners.length === 0 ? 'no owner' : `owners ${owners.map((o) => `${this.name(o)} (${this.phase[o]![g]})`).join(', ')}`} ${Math.round(w.now - this.quiet.from)} ms into a quiet period (settleMs ${w.bounds.settleMs} ms)`,
      });
      return;
    }
    const owner = owners[0]!;
    if (this.phase[owner]![g] !== 'running') return;
    const modes = new Set(withGroup.map((n) => n.cfg.autoFailback));
    if (modes.size !== 1) return; // nodes disagree on auto_failback: no single rule to check
    if (modes.has('on')) {
      const expected = expectedOwner(this.w.schedule.config, g, eligible);
      if (expected !== null && owner !== expected.idx) {
        w.fail({ invariant: 'failback', message: `auto_failback on: "${id}" runs on ${this.name(owner)}, not on ${expected.name} (its first eligible node), ${Math.round(w.now - this.quiet.from)} ms into a quiet period` });
      }
    } else {
      const first = this.steadyOwner[g] ?? null;
      if (first === null) this.steadyOwner[g] = owner;
      else if (first !== owner) {
        w.fail({ invariant: 'failback', message: `auto_failback off: "${id}" moved from ${this.name(first)} to ${this.name(owner)} in a quiet period with no failure and no manual request` });
      }
    }
  }

  /** A crash of the running owner in a settled quiet period: a new owner within failoverMs. */
  private planFailover(f: Extract<Fault, { kind: 'crash' }>): void {
    if (!this.steady || !this.reloads.livenessPromised()) return;
    const w = this.w;
    const y = w.node(f.node);
    const t = w.now;
    const deadline = t + w.bounds.failoverMs;
    if (f.at + f.downMs <= deadline) return;
    const next = Math.min(...w.schedule.faults.filter((x) => x !== f && x.kind !== 'config' && x.at > t).map((x) => x.at));
    if (next <= deadline) return;
    for (let g = 0; g < this.G; g++) {
      if (this.owners[g]!.length !== 1 || this.owners[g]![0] !== y.idx || this.phase[y.idx]![g] !== 'running') continue;
      const others = this.eligible(g).filter((n) => n !== y);
      if (others.length === 0) continue;
      if (this.quorum && w.nodes.filter((n) => n !== y && this.reloads.hasGroup(n, g)).length < this.majority) continue;
      this.note('failover checks');
      w.at(deadline, () => {
        const o = this.owners[g]!;
        if (o.length === 1 && o[0] !== y.idx && this.phase[o[0]!]![g] === 'running') return;
        w.fail({
          invariant: 'failover',
          message: `${y.name}, the owner of "${this.gid(g)}", crashed at ${t.toFixed(1)}; ${w.bounds.failoverMs} ms (failoverMs) later its owners are [${o.map((i) => `${this.name(i)} (${this.phase[i]![g]})`).join(', ')}]`,
        });
      });
    }
  }

  /** End of the run: nothing pending to judge (deadlines past the end are not violations). */
  finish(): void {
    if (this.steady) for (let g = 0; g < this.G; g++) this.checkSteady(g);
  }
}
