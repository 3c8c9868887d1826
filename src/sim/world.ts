// The simulated world: N nodes, each the very node runtime the daemon runs
// (src/runtime/runtime.ts, around the real core), on a virtual clock, a virtual network and
// virtual resource agents, with faults injected from a schedule. The world is only the
// runtime's port: it delivers the messages the runtime builds (the same HbMessage objects the
// daemon signs and sends) to the other runtimes, runs agent calls with the daemon's timeouts,
// and fires each node's one timer when asked. Nothing here reads a real clock or does I/O.
import type * as Node from '../core/node.js';
import { NodeRuntime, realCore, type Core } from '../runtime/runtime.js';
import type { NodePort } from '../runtime/port.js';
import type { HbMessage } from '../wire/message.js';
import { EventHeap } from './heap.js';
import { Checker, type Violation } from './invariants.js';
import { derive, mulberry32, type Rng } from './prng.js';
import { boundsOf, describeFault, faultEnd, nodeConfigs, type Bounds, type Fault, type NodeCfg, type Schedule } from './schedule.js';

export { realCore, type Core };

/** One message on its way: the runtime's own, plus what the checker needs to know of it. */
export interface Packet {
  message: HbMessage;
  src: number;
  /** Global time it was sent. */
  sentAt: number;
}

export interface Call {
  id: number;
  gen: number;
  /** Local group index on its node, and the group's id. */
  g: number;
  gid: string;
  r: number;
  action: 'status' | 'start' | 'stop';
  outcome: 'ok' | 'fail' | 'hang';
  startedAt: number;
  timeoutMs: number;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

type Ev =
  | { t: number; seq: number; k: 'wake'; node: number; token: number }
  | { t: number; seq: number; k: 'deliver'; node: number; pkt: Packet; link: string }
  | { t: number; seq: number; k: 'agent'; node: number; gen: number; call: number }
  | { t: number; seq: number; k: 'fault'; f: number; end: boolean }
  | { t: number; seq: number; k: 'boot'; node: number }
  | { t: number; seq: number; k: 'check'; what: () => void };

type Command = Parameters<NodeRuntime['command']>[0];
type Deferred = { k: 'deliver'; pkt: Packet; link: string } | { k: 'agent'; call: number } | { k: 'event'; event: Command };

/** Every simulated node's uuid (nothing reads it but the wire format). */
const SIM_UUID = Buffer.alloc(16);
/** The wall clock of the simulated world at time 0 (Heartbeat's `ts` field only). */
const SIM_EPOCH_S = 1_700_000_000;

export interface SimNode {
  idx: number;
  name: string;
  cfg: NodeCfg;
  /** Global group index of each local group. */
  globalOf: number[];
  /** Local group index of each global group, or -1. */
  localOf: number[];
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
}

export class World {
  readonly nodes: SimNode[];
  readonly bounds: Bounds;
  readonly checker: Checker;
  now = 0;
  steps = 0;
  private readonly heap = new EventHeap<Ev>();
  private seqNo = 0;
  private callNo = 0;
  private readonly core: Core;
  private readonly netRng: Rng;
  private readonly agentRng: Rng;
  private readonly miscRng: Rng;
  readonly trace: string[] | null;
  private readonly counts: FaultCounts = {};
  // Active network faults.
  private readonly active: { loss: Set<number>; delay: Set<number>; dup: Set<number>; partition: Set<number>; agent: Set<number> } = {
    loss: new Set(),
    delay: new Set(),
    dup: new Set(),
    partition: new Set(),
    agent: new Set(),
  };
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
    this.netRng = mulberry32(derive(schedule.seed, 2));
    this.agentRng = mulberry32(derive(schedule.seed, 3));
    this.miscRng = mulberry32(derive(schedule.seed, 4));
    const cfgs = nodeConfigs(config, schedule.faults);
    this.bounds = boundsOf(config, cfgs);
    const gindex = new Map(config.groups.map((g, i) => [g.id, i]));
    this.nodes = config.nodes.map((name, idx) => {
      const cfg = cfgs[idx]!;
      const globalOf = cfg.groups.map((id) => gindex.get(id)!);
      const localOf = config.groups.map((g) => cfg.groups.indexOf(g.id));
      return {
        idx,
        name,
        cfg,
        globalOf,
        localOf,
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
        res: config.groups.map((g) => g.resources.map(() => false)),
      };
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

  // ---- plumbing --------------------------------------------------------------------------

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

  private count(kind: string): void {
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
      case 'boot':
        this.boot(this.nodes[e.node]!);
        return;
      case 'fault':
        this.fault(e.f, e.end);
        return;
      case 'check':
        e.what();
        return;
    }
  }

  // ---- nodes -----------------------------------------------------------------------------

  private boot(n: SimNode): void {
    const { config } = this.schedule;
    n.up = true;
    n.paused = false;
    n.gen += 1;
    n.bootAt = this.now;
    n.bootTimes[n.gen] = this.now;
    // Each run of the daemon has its own monotonic clock, unrelated to the others'.
    n.clockBase = Math.floor(this.miscRng() * 1e6);
    n.deferred = [];
    n.calls = new Map();
    n.res = config.groups.map((g) => g.resources.map(() => false));
    n.token += 1;
    const groups = n.cfg.groups.map((id) => config.groups.find((g) => g.id === id)!);
    n.runtime = new NodeRuntime(
      {
        node: {
          me: n.name,
          nodes: config.nodes,
          linkNames: config.links,
          timers: n.cfg.timers,
          groups: groups.map((g) => ({ id: g.id, preferredNode: g.preferredNode, resources: [...g.resources] })),
          autoFailback: n.cfg.autoFailback,
          digest: n.cfg.digest,
          tuning: config.tuning,
          generation: n.gen,
        },
        sender: { node: n.name, uuid: SIM_UUID, generation: n.gen, deadtimeMs: n.cfg.timers.deadtimeMs },
        port: this.portOf(n),
        core: this.core,
      },
      this.local(n),
    );
    n.state = n.runtime.nodeState;
    this.log(`${n.name} boots (generation ${n.gen})`);
    this.checker.onBoot(n);
    n.runtime.tick(this.local(n));
  }

  /** Power-off: the node, its agent calls and its resources are gone. */
  private crash(n: SimNode): void {
    if (!n.up) return;
    n.up = false;
    n.paused = false;
    n.runtime = null;
    n.state = null;
    n.calls.clear();
    n.deferred = [];
    n.token += 1;
    for (const r of n.res) r.fill(false);
    this.log(`${n.name} crashes`);
    this.checker.onDown(n);
  }

  /** The node's port: what its runtime asks of this world. */
  private portOf(n: SimNode): NodePort {
    return {
      send: (message) => this.broadcast(n, message),
      runAgent: (call) => this.startCall(n, call.group, call.resource, call.action),
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
        if (this.trace) this.traceStep(n, effects);
        this.checker.afterStep(n, [...effects]);
      },
      exit: () => {
        this.log(`${n.name} exits (shutdown complete)`);
        n.up = false;
        n.runtime = null;
        n.state = null;
        n.token += 1;
        n.calls.clear();
        this.checker.onDown(n);
      },
    };
  }

  private traceStep(n: SimNode, effects: readonly Node.NodeEffect[]): void {
    for (const e of effects) {
      if (e.kind === 'node-status') this.log(`${n.name}: node ${e.node} ${e.from} -> ${e.to}${e.reason ? ` (${e.reason})` : ''}`);
      else if (e.kind === 'group-phase') this.log(`${n.name}: group "${n.cfg.groups[e.group]}" ${e.from} -> ${e.to}`);
    }
  }

  // ---- network ---------------------------------------------------------------------------

  private broadcast(n: SimNode, message: HbMessage): void {
    const { config } = this.schedule;
    const pkt: Packet = { message, src: n.idx, sentAt: this.now };
    let loss = 0;
    let dup = 0;
    let extra = 0;
    for (const i of this.active.loss) loss = Math.max(loss, (this.schedule.faults[i] as Extract<Fault, { kind: 'loss' }>).rate);
    for (const i of this.active.dup) dup = Math.max(dup, (this.schedule.faults[i] as Extract<Fault, { kind: 'dup' }>).rate);
    for (const i of this.active.delay) extra = Math.max(extra, (this.schedule.faults[i] as Extract<Fault, { kind: 'delay' }>).extraMs);
    const rng = this.netRng;
    for (const to of this.nodes) {
      if (to === n) continue;
      for (const link of config.links) {
        if (this.blocked(n, to, link)) continue;
        const copies = dup > 0 && rng() < dup ? 2 : 1;
        for (let c = 0; c < copies; c++) {
          if (loss > 0 && rng() < loss) continue;
          const delay = config.net.minMs + rng() * (config.net.maxMs - config.net.minMs) + (extra > 0 ? rng() * extra : 0);
          this.push({ t: this.now + delay, k: 'deliver', node: to.idx, pkt, link });
        }
      }
    }
  }

  private blocked(from: SimNode, to: SimNode, link: string): boolean {
    for (const i of this.active.partition) {
      const f = this.schedule.faults[i] as Extract<Fault, { kind: 'partition' }>;
      if (f.link !== null && f.link !== link) continue;
      const other = (n: SimNode) => (f.others ? f.others.includes(n.name) : !f.side.includes(n.name));
      if (f.side.includes(from.name) && other(to)) return true;
      if (!f.oneWay && f.side.includes(to.name) && other(from)) return true;
    }
    return false;
  }

  /** Whether packets from `from` to `to` currently get through on some link (ignoring loss). */
  connected(from: SimNode, to: SimNode): boolean {
    return this.schedule.config.links.some((l) => !this.blocked(from, to, l));
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

  // ---- agents ----------------------------------------------------------------------------

  private startCall(n: SimNode, g: number, r: number, action: Call['action']): void {
    const { agent, groups } = this.schedule.config;
    const gi = n.globalOf[g]!;
    const gid = groups[gi]!.id;
    let outcome: Call['outcome'] = 'ok';
    for (const i of this.active.agent) {
      const f = this.schedule.faults[i] as Extract<Fault, { kind: 'agent' }>;
      if (f.node !== n.name || f.action !== action || (f.group !== null && f.group !== gid)) continue;
      if (this.agentRng() < f.rate) outcome = f.mode;
    }
    const timeoutMs = agent.timeoutMs[action];
    const dur = agent.minMs + this.agentRng() * (agent.maxMs - agent.minMs);
    const call: Call = { id: ++this.callNo, gen: n.gen, g, gid, r, action, outcome, startedAt: this.now, timeoutMs };
    n.calls.set(call.id, call);
    if (outcome !== 'ok') this.count(`agent-${outcome}`);
    if (this.trace) this.log(`${n.name}: ${groups[gi]!.resources[r]} ${action}${outcome !== 'ok' ? ` (will ${outcome})` : ''}`);
    this.checker.onCallStart(n, call);
    this.push({ t: this.now + (outcome === 'hang' ? timeoutMs : dur), k: 'agent', node: n.idx, gen: n.gen, call: call.id });
  }

  private complete(n: SimNode, id: number): void {
    const call = n.calls.get(id)!;
    n.calls.delete(id);
    let outcome = call.outcome;
    // Frozen past its timeout: the daemon's timer fires before the child's exit is read.
    if (outcome !== 'hang' && this.now - call.startedAt > call.timeoutMs) outcome = 'hang';
    const res = n.res[n.globalOf[call.g]!]!;
    const coin = () => this.agentRng() < 0.5;
    if (call.action === 'start') res[call.r] = outcome === 'ok' ? true : coin();
    else if (call.action === 'stop') {
      if (outcome === 'ok') res[call.r] = false;
      else if (outcome === 'hang' && coin()) res[call.r] = false;
    }
    const ok = outcome === 'ok';
    this.checker.onCallDone(n, call, ok);
    const running = call.action === 'status' ? ok && res[call.r]! : undefined;
    n.runtime?.agentDone({ group: call.g, resource: call.r, action: call.action, ok, ...(running !== undefined ? { running } : {}) }, this.local(n));
  }

  // ---- faults ----------------------------------------------------------------------------

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
      case 'agent':
        if (end) this.active[f.kind].delete(i);
        else this.active[f.kind].add(i);
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
      case 'config':
        return;
    }
  }

  private manual(n: SimNode, event: Command): void {
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
      } else n.runtime?.command(d.event, this.local(n));
    }
  }

  node(name: string): SimNode {
    return this.nodes.find((n) => n.name === name)!;
  }
}

export function runSchedule(schedule: Schedule, opts: WorldOptions = {}): RunResult {
  return new World(schedule, opts).run();
}
