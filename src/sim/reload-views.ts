// What the checker needs to know of reloads: which groups share resources (a line a reload
// changed, and the old line), which groups a node's files list now, which wait for another
// node's reload, and whether the nodes' timers, as their files say now, let leases last.
import { leasesFeasible } from './bounds.js';
import type { SimNode, World } from './world.js';

export class ReloadViews {
  /** Each group's groups sharing a resource with it, itself included: their holders own it too. */
  readonly related: number[][];

  constructor(private readonly w: World) {
    const groups = w.schedule.config.groups;
    this.related = groups.map((g) => groups.flatMap((h, i) => (h.resources.some((r) => g.resources.includes(r)) ? [i] : [])));
  }

  /** The node's files list the group (it may run it). */
  hasGroup(n: SimNode, g: number): boolean {
    return n.cfg.groups.includes(this.w.schedule.config.groups[g]!.id);
  }

  /** A reload added group g on a node that waits for an up node lacking it (that node's own reload). */
  waitsForReload(g: number): boolean {
    const waits = (n: SimNode) => n.state?.ownership.local[n.localOf[g]!]?.waitsForPeers === true;
    return this.w.nodes.some((n) => n.up && !this.hasGroup(n, g)) && this.w.nodes.some((n) => n.up && waits(n));
  }

  /**
   * Liveness is promised while the nodes' timers, as their files say now, let a lease last 3
   * keepalives (bounds.ts leasesFeasible; without reloads, the schedule's livenessPromised).
   */
  livenessPromised(): boolean {
    return this.w.nodes.length < 3 || leasesFeasible(this.w.nodes.map((n) => n.cfg));
  }
}
