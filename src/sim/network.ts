// The simulated LAN: which copies of a broadcast reach which node over which link, and after
// what delay, under the network faults in effect (loss, delay, duplication, partitions).
import type { Rng } from './prng.js';
import type { Fault, Schedule } from './schedule.js';

type NetworkFault = Extract<Fault, { kind: 'loss' | 'delay' | 'dup' | 'partition' }>;

export class VirtualNetwork {
  private readonly active = new Set<NetworkFault>();

  constructor(
    private readonly schedule: Schedule,
    private readonly rng: Rng,
  ) {}

  /** A network fault begins or ends. */
  toggle(f: NetworkFault, on: boolean): void {
    if (on) this.active.add(f);
    else this.active.delete(f);
  }

  /** The delays (ms) of the copies of one packet from `from` to `to` on `link` that arrive (none: lost or cut). */
  copies(from: string, to: string, link: string): number[] {
    if (this.blocked(from, to, link)) return [];
    const { net } = this.schedule.config;
    let loss = 0;
    let dup = 0;
    let extra = 0;
    for (const f of this.active) {
      if (f.kind === 'loss') loss = Math.max(loss, f.rate);
      else if (f.kind === 'dup') dup = Math.max(dup, f.rate);
      else if (f.kind === 'delay') extra = Math.max(extra, f.extraMs);
    }
    const rng = this.rng;
    const delays: number[] = [];
    const n = dup > 0 && rng() < dup ? 2 : 1;
    for (let c = 0; c < n; c++) {
      if (loss > 0 && rng() < loss) continue;
      delays.push(net.minMs + rng() * (net.maxMs - net.minMs) + (extra > 0 ? rng() * extra : 0));
    }
    return delays;
  }

  /** Whether a partition in effect drops packets from `from` to `to` on `link`. */
  blocked(from: string, to: string, link: string): boolean {
    for (const f of this.active) {
      if (f.kind !== 'partition' || (f.link !== null && f.link !== link)) continue;
      const other = (n: string) => (f.others ? f.others.includes(n) : !f.side.includes(n));
      if (f.side.includes(from) && other(to)) return true;
      if (!f.oneWay && f.side.includes(to) && other(from)) return true;
    }
    return false;
  }
}
