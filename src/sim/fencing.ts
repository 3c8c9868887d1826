// Fence devices in the simulator (core/node-fencing.ts): a fence-node effect of a node's core is
// carried out after a drawn delay: success powers the target off (a reset: it boots again after
// `rebootMs`) and only then answers ok; a failure answers not ok; a hang answers not ok at the
// daemon's timeout. `fence` faults make a node's fence calls fail or hang for a while.
import { chance, derive, mulberry32, uniform, type Rng } from './prng.js';
import type { Fault, Schedule } from './schedule.js';
import type { SimNode } from './sim-node.js';

/** The fence devices of a schedule: how long a fence takes, the daemon's timeout, the retry, the reset. */
export interface SimFencing {
  minMs: number;
  maxMs: number;
  timeoutMs: number;
  retryMs: number;
  /** A fenced node boots again this long after it was powered off. */
  rebootMs: number;
}

type FenceFault = Extract<Fault, { kind: 'fence' }>;

/** What the fencer needs of the world. */
export interface FenceWorld {
  readonly now: number;
  at(t: number, what: () => void): void;
  log(text: string): void;
  count(kind: string): void;
  node(name: string): SimNode;
  crash(n: SimNode): void;
  boot(n: SimNode): void;
  manual(n: SimNode, event: { kind: 'fence-done'; node: string; ok: boolean }): void;
  readonly checker: { onFenced(n: SimNode, bootAt: number): void };
}

export class SimFencer {
  private readonly rng: Rng;
  private readonly active = new Set<FenceFault>();

  constructor(
    private readonly w: FenceWorld,
    private readonly cfg: SimFencing,
    schedule: Schedule,
  ) {
    this.rng = mulberry32(derive(schedule.seed, 12));
  }

  toggle(f: FenceFault, on: boolean): void {
    if (on) this.active.add(f);
    else this.active.delete(f);
  }

  /** `fencer` asks for `target` to be powered off. */
  request(fencer: SimNode, target: string): void {
    const fault = [...this.active].find((f) => (f.node === null || f.node === fencer.name) && chance(this.rng, f.rate));
    const gen = fencer.gen;
    const took = uniform(this.rng, this.cfg.minMs, this.cfg.maxMs);
    this.w.count(fault ? `fence-${fault.mode}` : 'fence-ok');
    this.w.log(`${fencer.name}: fence ${target}${fault ? ` (will ${fault.mode})` : ''}`);
    if (fault?.mode === 'hang') {
      this.w.at(this.w.now + this.cfg.timeoutMs, () => this.answer(fencer, gen, target, false));
      return;
    }
    this.w.at(this.w.now + took, () => {
      if (!fault) {
        const t = this.w.node(target);
        if (t.up) this.reset(t);
      }
      this.answer(fencer, gen, target, !fault);
    });
  }

  /** The device powers `n` off; it boots again after rebootMs (a reset). */
  private reset(n: SimNode): void {
    const bootAt = this.w.now + this.cfg.rebootMs;
    this.w.crash(n);
    this.w.checker.onFenced(n, bootAt);
    this.w.at(bootAt, () => !n.up && this.w.boot(n));
  }

  /** The answer goes to the run of the node that asked, if it still runs. */
  private answer(fencer: SimNode, gen: number, target: string, ok: boolean): void {
    if (fencer.up && fencer.gen === gen) this.w.manual(fencer, { kind: 'fence-done', node: target, ok });
  }
}

/** Fence devices and their faults for a schedule, with probability `probability`: drawn from a stream of their own. */
export function drawFencing(seed: number, nodes: readonly string[], deadtimeMs: number, windowMs: number, probability: number): { fencing: SimFencing; faults: Fault[] } | null {
  const rng = mulberry32(derive(seed, 13));
  if (!chance(rng, probability)) return null;
  const maxMs = Math.floor(uniform(rng, 5, deadtimeMs / 2));
  const fencing: SimFencing = { minMs: 1, maxMs, timeoutMs: maxMs + Math.floor(deadtimeMs / 2), retryMs: Math.floor(uniform(rng, deadtimeMs / 2, 2 * deadtimeMs)), rebootMs: Math.floor(uniform(rng, deadtimeMs / 2, 3 * deadtimeMs)) };
  const faults: Fault[] = [];
  const count = Math.floor(uniform(rng, 0, 3));
  for (let k = 0; k < count; k++) {
    const at = Math.floor(uniform(rng, 0, windowMs));
    const durMs = Math.max(1, Math.min(windowMs - at, Math.floor(uniform(rng, 500, 6000))));
    const node = chance(rng, 0.5) ? nodes[Math.floor(rng() * nodes.length)]! : null;
    faults.push({ kind: 'fence', at, durMs, node, mode: chance(rng, 0.5) ? 'fail' : 'hang', rate: uniform(rng, 0.5, 1) });
  }
  return { fencing, faults };
}
