// The simulated world: N nodes, each the very node runtime the daemon runs
// (src/runtime/runtime.ts, around the real core), on a virtual clock, a virtual network and
// virtual resource agents, with faults injected from a schedule. The world is only the
// runtime's port: it delivers the messages the runtime builds (the same HbMessage objects the
// daemon signs and sends) to the other runtimes, runs agent calls with the daemon's timeouts,
// and fires each node's one timer when asked. Nothing here reads a real clock or does I/O.
import type * as Node from '../core/node.js';
import { realCore, type Core } from '../runtime/runtime.js';
import type { AgentCall, NodePort } from '../runtime/port.js';
import type { HbMessage } from '../wire/message.js';
import { EventHeap } from './heap.js';
import { Checker, type Violation } from './invariants.js';
import { derive, mulberry32, type Rng } from './prng.js';
import { VirtualNetwork } from './network.js';
import { VirtualAgents, type Call } from './agents.js';
import { bootRuntime, traceLines, newSimNode, nodeOptionsOf, powerOff, powerOn, regroup, senderOf, SIM_EPOCH_S, type Command, type Packet, type SimNode } from './sim-node.js';
import { describeFault, faultEnd, type Fault, type Schedule } from './schedule.js';
import { allConfigs, boundsOf, nodeConfigs, reloadedCfg, type Bounds } from './bounds.js';
import { SimFencer } from './fencing.js';
import { SimPings } from './pings.js';
import { SimEtcd } from './etcd.js';
import type { DistributiveOmit, Ev, FaultCounts, RunResult, WorldOptions } from './world-types.js';

export { realCore, type Core };
export type { Call };
export type { Packet, SimNode };

export type { FaultCounts, RunResult, WorldOptions } from './world-types.js';

export class World {
  readonly nodes: SimNode[];
  readonly bounds: Bounds;
  readonly checker: Checker;
  now = 0;
  steps = 0;
  private readonly heap = new EventHeap<Ev>();
  private seqNo = 0;
  private readonly core: Core;
  private readonly network: VirtualNetwork;
  private readonly agents: VirtualAgents;
  private readonly fencer: SimFencer | null;
  private readonly pings: SimPings | null;
  private readonly etcd: SimEtcd | null;
  private readonly miscRng: Rng;
  /** The global index of each group id. */
  private readonly gindex: ReadonlyMap<string, number>;
  readonly trace: string[] | null;
  private readonly onStep: WorldOptions['onStep'];
  private readonly counts: FaultCounts = {};
  private violation: Violation | null = null;
  /** The packet being handed to a runtime, for the checker's note of fresh heartbeats. */
  private delivering: Packet | null = null;

  constructor(
    readonly schedule: Schedule,
    opts: WorldOptions = {},
  ) {
    const { config } = schedule;
    this.core = opts.core ?? realCore;
    this.trace = opts.trace ? [] : null;
    this.onStep = opts.onStep;
    this.network = new VirtualNetwork(schedule, mulberry32(derive(schedule.seed, 2)));
    this.agents = new VirtualAgents(schedule, mulberry32(derive(schedule.seed, 3)));
    this.miscRng = mulberry32(derive(schedule.seed, 4));
    this.fencer = config.fencing ? new SimFencer(this, config.fencing, schedule) : null;
    this.pings = config.ping ? new SimPings(this, config.ping) : null;
    this.etcd = config.arbiter ? new SimEtcd(this, config.arbiter, schedule.seed) : null;
    const cfgs = nodeConfigs(config, schedule.faults);
    this.bounds = boundsOf(config, allConfigs(config, schedule.faults));
    const gindex = new Map(config.groups.map((g, i) => [g.id, i]));
    this.gindex = gindex;
    this.nodes = config.nodes.map((name, idx) => {
      const cfg = cfgs[idx]!;
      const globalOf = cfg.groups.map((id) => gindex.get(id)!);
      const localOf = config.groups.map((g) => cfg.groups.indexOf(g.id));
      return newSimNode(idx, name, cfg, globalOf, localOf, config.groups);
    });
    this.checker = new Checker(this);
    config.bootAt.forEach((t, node) => this.push({ t, k: 'boot', node }));
    schedule.faults.forEach((f, i) => {
      if (f.kind === 'config') {
        this.count('config');
        return;
      }
      this.push({ t: f.at, k: 'fault', f: i, end: false });
      const end = faultEnd(f);
      if (end > f.at || f.kind === 'crash' || f.kind === 'shutdown' || f.kind === 'pause') this.push({ t: end, k: 'fault', f: i, end: true });
    });
    this.checker.planQuietPeriods();
  }

  private push(e: DistributiveOmit<Ev, 'seq'>): void {
    (e as Ev).seq = this.seqNo++;
    this.heap.push(e as Ev);
  }

  /** Runs `what` at time t (checks of the invariants). */
  at(t: number, what: () => void): void {
    this.push({ t, k: 'check', what });
  }

  log(text: string): void {
    if (this.trace) this.trace.push(`${this.now.toFixed(1).padStart(9)} ${text}`);
  }

  count(kind: string): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
  }

  fail(v: Omit<Violation, 'at'>): void {
    if (this.violation) return;
    this.violation = { ...v, at: this.now };
    this.log(`VIOLATION ${v.invariant}: ${v.message}`);
  }

  /** The node's own monotonic clock (performance.now() of its process). */
  local(n: SimNode, t = this.now): number {
    return t - n.bootAt + n.clockBase;
  }

  run(): RunResult {
    const end = this.schedule.config.durationMs;
    for (;;) {
      const e = this.heap.peek();
      if (!e || e.t > end || this.violation) break;
      this.heap.pop();
      this.now = e.t;
      this.handle(e);
    }
    if (!this.violation) {
      this.now = Math.max(this.now, end);
      this.checker.finish();
    }
    return {
      seed: this.schedule.seed,
      violation: this.violation,
      simulatedMs: this.violation ? this.violation.at : end,
      faults: { ...this.counts },
      excused: { ...this.checker.excused },
      checked: { ...this.checker.checked },
      steps: this.steps,
      trace: this.trace ?? [],
    };
  }

  private handle(e: Ev): void {
    switch (e.k) {
      case 'wake': {
        const n = this.nodes[e.node]!;
        if (!n.up || n.paused || !n.runtime || e.token !== n.token) return;
        if (e.t === n.lastWakeAt) {
          if (++n.wakesAtOnce > 1000) {
            this.fail({ invariant: 'busy-loop', message: `${n.name} was woken by its timer more than 1000 times at ${e.t.toFixed(1)} ms` });
            return;
          }
        } else {
          n.lastWakeAt = e.t;
          n.wakesAtOnce = 0;
        }
        n.runtime.tick(this.local(n));
        return;
      }
      case 'deliver':
        this.receive(this.nodes[e.node]!, e.pkt, e.link);
        return;
      case 'agent': {
        const n = this.nodes[e.node]!;
        if (!n.up || n.gen !== e.gen || !n.calls.has(e.call)) return;
        if (n.paused) n.deferred.push({ k: 'agent', call: e.call });
        else this.complete(n, e.call);
        return;
      }
      case 'boot': // already running: a crash or shutdown fault's end before it was its first boot
        if (!this.nodes[e.node]!.up) this.boot(this.nodes[e.node]!);
        return;
      case 'fault':
        this.fault(e.f, e.end);
        return;
      case 'check':
        e.what();
        return;
    }
  }

  boot(n: SimNode): void {
    if (n.up) throw new Error(`sim: ${n.name} booted while running (generation ${n.gen}): a new run without the old one ending (seed 1765551)`);
    const { config } = this.schedule;
    // Each run of the daemon has its own monotonic clock, unrelated to the others'.
    powerOn(n, this.now, Math.floor(this.miscRng() * 1e6));
    n.runtime = bootRuntime(n, config, this.portOf(n), this.core, this.local(n));
    n.state = n.runtime.nodeState;
    regroup(n, this.gindex);
    this.log(`${n.name} boots (generation ${n.gen})`);
    this.checker.onBoot(n);
    this.etcd?.onBoot(n);
    n.runtime.tick(this.local(n));
  }

  /** Power-off: the node, its agent calls and its resources are gone. */
  crash(n: SimNode): void {
    if (!n.up) return;
    powerOff(n);
    for (const r of n.res) r.fill(false);
    this.log(`${n.name} crashes`);
    this.checker.onDown(n);
  }

  /** The node's port: what its runtime asks of this world. */
  private portOf(n: SimNode): NodePort {
    return {
      send: (message) => this.broadcast(n, message),
      runAgent: (call) => this.startCall(n, call),
      log: (level, text) => {
        if (this.trace && (level === 'warn' || level === 'crit' || level === 'error')) this.log(`${n.name}: ${level.toUpperCase()} ${text}`);
      },
      wakeIn: (delayMs) => {
        n.token += 1;
        if (delayMs !== null) this.push({ t: this.now + delayMs, k: 'wake', node: n.idx, token: n.token });
      },
      wallSeconds: () => SIM_EPOCH_S + Math.floor(this.now / 1000),
      received: (incoming, _link, fresh) => {
        if (fresh && incoming.kind === 'status' && this.delivering) this.checker.onHeard(n, this.nodes[this.delivering.src]!, this.delivering);
      },
      observe: (effects, state) => {
        this.steps += 1;
        n.state = state;
        this.onStep?.(n.name, this.now, effects, state);
        if (regroup(n, this.gindex)) this.checker.onRegroup(n);
        if (this.trace) for (const line of traceLines(n, effects)) this.log(line);
        this.checker.afterStep(n, [...effects]);
        this.etcd?.afterStep(n, effects, state);
        for (const e of effects) if (e.kind === 'fence-node') this.fencer?.request(n, e.node);
        else this.etcd?.effect(n, e, state);
      },
      exit: () => {
        this.log(`${n.name} exits (shutdown complete)`);
        powerOff(n);
        this.checker.onDown(n);
      },
    };
  }

  private broadcast(n: SimNode, message: HbMessage): void {
    const pkt: Packet = { message, src: n.idx, sentAt: this.now };
    for (const to of this.nodes) {
      if (to === n) continue;
      for (const link of this.schedule.config.links) {
        for (const delay of this.network.copies(n.name, to.name, link)) this.push({ t: this.now + delay, k: 'deliver', node: to.idx, pkt, link });
      }
    }
  }

  /** A packet reaches a node: its runtime decides what it means (after the signature check, which the simulator leaves out). */
  private receive(n: SimNode, pkt: Packet, link: string): void {
    if (!n.up || !n.runtime) return;
    if (n.paused) {
      // The NIC's buffer: what arrives while frozen is read after the resume, up to a point.
      if (n.deferred.length < 256) n.deferred.push({ k: 'deliver', pkt, link });
      return;
    }
    this.delivering = pkt;
    try {
      n.runtime.receive(pkt.message, link, this.local(n));
    } finally {
      this.delivering = null;
    }
  }

  private startCall(n: SimNode, { group, groupId, resource: r, action }: AgentCall): void {
    const { groups } = this.schedule.config;
    const gi = this.gindex.get(groupId)!;
    const { call, endsAt } = this.agents.begin(n.name, n.gen, group, groupId, gi, r, action, this.now);
    n.calls.set(call.id, call);
    if (call.outcome !== 'ok') this.count(`agent-${call.outcome}`);
    if (this.trace) this.log(`${n.name}: ${groups[gi]!.resources[r]} ${action}${call.outcome !== 'ok' ? ` (will ${call.outcome})` : ''}`);
    this.checker.onCallStart(n, call);
    this.push({ t: endsAt, k: 'agent', node: n.idx, gen: n.gen, call: call.id });
  }

  private complete(n: SimNode, id: number): void {
    const call = n.calls.get(id)!;
    n.calls.delete(id);
    const result = this.agents.finish(call, this.now, n.res[call.global]!);
    this.checker.onCallDone(n, call, result.ok);
    n.runtime?.agentDone({ group: call.g, groupId: call.gid, resource: call.r, action: call.action, ...result }, this.local(n));
  }

  private fault(i: number, end: boolean): void {
    const f = this.schedule.faults[i]!;
    if (!end) {
      this.count(f.kind);
      this.log(`FAULT ${describeFault(f)}`);
    }
    this.checker.onFault(f, end);
    switch (f.kind) {
      case 'loss':
      case 'delay':
      case 'dup':
      case 'partition':
        this.network.toggle(f, !end);
        return;
      case 'agent':
        this.agents.toggle(f, !end);
        return;
      case 'fence':
        this.fencer?.toggle(f, !end);
        return;
      case 'ping-loss':
        this.pings?.toggle(f, !end);
        return;
      case 'etcd':
        this.etcd?.toggle(f, !end);
        return;
      case 'crash': {
        const n = this.node(f.node);
        if (!end) this.crash(n);
        else if (!n.up) this.boot(n);
        return;
      }
      case 'shutdown': {
        const n = this.node(f.node);
        if (!end) this.manual(n, { kind: 'shutdown' });
        else {
          // Still not gone (a stop that keeps failing): the operator pulls the plug.
          if (n.up) this.crash(n);
          this.boot(n);
        }
        return;
      }
      case 'pause': {
        const n = this.node(f.node);
        if (!end) {
          if (!n.up || n.paused) return;
          n.paused = true;
          n.pausedAt = this.now;
          n.token += 1; // its timer fires only when it resumes (see resume)
          this.checker.onPause(n);
        } else {
          if (!n.up || !n.paused) return;
          this.resume(n);
        }
        return;
      }
      case 'standby':
      case 'takeover':
        this.manual(this.node(f.node), { kind: f.kind, scope: f.scope });
        return;
      case 'reload':
        this.reload(this.node(f.node), f);
        return;
      case 'monitor':
        if (!end) for (let k = 0; k < f.kills; k++) this.at(this.now + k * f.everyMs, () => this.checker.monitor.kill(f));
        return;
      case 'config':
        return;
    }
  }

  /** New files on the node (for its next boot too) and, if hbd runs, its SIGHUP. */
  private reload(n: SimNode, f: Extract<Fault, { kind: 'reload' }>): void {
    n.cfg = reloadedCfg(n.cfg, f);
    if (!n.up) return;
    if (n.paused) n.deferred.push({ k: 'reload' });
    else n.runtime?.reconfigure(nodeOptionsOf(n, this.schedule.config), senderOf(n), this.local(n));
  }

  /** A command to the node's runtime (an operator's, a fence's answer); a paused node reads it when it resumes. */
  manual(n: SimNode, event: Command): void {
    if (!n.up) return;
    if (n.paused) n.deferred.push({ k: 'event', event });
    else n.runtime?.command(event, this.local(n));
  }

  private resume(n: SimNode): void {
    n.paused = false;
    n.resumedAt = this.now;
    this.log(`${n.name} resumes after ${Math.round(this.now - n.pausedAt)} ms`);
    this.checker.onResume(n);
    // The timers are overdue: they fire first, then what waited in the sockets and pipes.
    n.runtime?.tick(this.local(n));
    const waiting = n.deferred;
    n.deferred = [];
    for (const d of waiting) {
      if (!n.up || n.paused) break;
      if (d.k === 'deliver') this.receive(n, d.pkt, d.link);
      else if (d.k === 'agent') {
        if (n.calls.has(d.call)) this.complete(n, d.call);
      } else if (d.k === 'reload') n.runtime?.reconfigure(nodeOptionsOf(n, this.schedule.config), senderOf(n), this.local(n));
      else n.runtime?.command(d.event, this.local(n));
    }
  }

  node(name: string): SimNode {
    return this.nodes.find((n) => n.name === name)!;
  }
}

export function runSchedule(schedule: Schedule, opts: WorldOptions = {}): RunResult {
  return new World(schedule, opts).run();
}
