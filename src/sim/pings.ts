// Ping nodes in the simulator (core/ping.ts): every node that runs gets an echo reply from each
// ping node every `intervalMs` (the daemon's pinger), unless a `ping-loss` fault took its route
// to that ping node away. With ipfail on, a node that lost its ping nodes while a peer reaches
// them hands its groups over; the invariants check that this never runs a group twice, and
// that once the routes are back (and the hysteresis has passed) the cluster settles.
import { chance, derive, int, mulberry32, pick, uniform } from './prng.js';
import type { Fault, SimConfig } from './schedule.js';
import type { SimNode } from './sim-node.js';

export interface SimPing {
  nodes: string[];
  deadpingMs: number;
  intervalMs: number;
  ipfail: boolean;
}

type PingLoss = Extract<Fault, { kind: 'ping-loss' }>;

export interface PingWorld {
  readonly now: number;
  readonly nodes: readonly SimNode[];
  at(t: number, what: () => void): void;
  manual(n: SimNode, event: { kind: 'ping-reply'; node: string }): void;
}

export class SimPings {
  private readonly lost = new Set<PingLoss>();

  constructor(
    private readonly w: PingWorld,
    private readonly cfg: SimPing,
  ) {
    w.at(cfg.intervalMs, () => this.round());
  }

  toggle(f: PingLoss, on: boolean): void {
    if (on) this.lost.add(f);
    else this.lost.delete(f);
  }

  /** One echo round: each running, unfrozen node hears from each ping node it has a route to. */
  private round(): void {
    for (const n of this.w.nodes) {
      if (!n.up || n.paused || !n.runtime) continue;
      for (const target of this.cfg.nodes) {
        if ([...this.lost].some((f) => f.node === n.name && (f.target === null || f.target === target))) continue;
        this.w.manual(n, { kind: 'ping-reply', node: target });
      }
    }
    this.w.at(this.w.now + this.cfg.intervalMs, () => this.round());
  }
}

/** Ping nodes (one or two, ipfail on) and 0..3 ping-node losses, with probability `probability`: a stream of their own. */
export function drawPings(seed: number, config: SimConfig, windowMs: number, probability: number): { ping: SimPing; faults: Fault[] } | null {
  const rng = mulberry32(derive(seed, 14));
  if (!chance(rng, probability)) return null;
  const dead = config.timers.deadtimeMs;
  const nodes = Array.from({ length: int(rng, 1, 2) }, (_, i) => `p${i + 1}`);
  const deadpingMs = Math.floor(uniform(rng, dead / 2, 2 * dead));
  const ping: SimPing = { nodes, deadpingMs, intervalMs: Math.max(20, Math.floor(deadpingMs / 5)), ipfail: true };
  const faults: Fault[] = [];
  for (let k = int(rng, 0, 3); k > 0; k--) {
    const at = Math.floor(uniform(rng, 0, windowMs));
    const durMs = Math.max(1, Math.min(windowMs - at, Math.floor(uniform(rng, deadpingMs / 2, 6 * deadpingMs))));
    faults.push({ kind: 'ping-loss', at, durMs, node: pick(rng, config.nodes), target: chance(rng, 0.7) ? null : pick(rng, nodes) });
  }
  return { ping, faults };
}
