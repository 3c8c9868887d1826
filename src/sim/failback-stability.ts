// The failback half of the no-flap rule (statements.ts): a group released by a live node to its
// preferred node only goes there if the run of that node the releaser had heard had been up
// for failbackDelay when it let go. The checker tells it of each release and each start.
import type { SimNode, World } from './world.js';
import { viewOf } from '../core/membership.js';
import { desiredOwner } from '../core/ownership.js';

interface Release {
  node: number;
  gen: number;
  at: number;
  /** The run (generation) of the preferred node the releaser knew. */
  knownGen: number | null;
  /** The preferred node held the group too (a double ownership ending): no failback. */
  preferredHeld: boolean;
}

export class FailbackStability {
  /** The last handoff release of each group. */
  private readonly lastRelease: (Release | null)[];
  /** When a manual standby or takeover happened: failbacks near them are the operator's. */
  private readonly manualAt: number[] = [];

  constructor(
    private readonly w: World,
    private readonly note: (what: string) => void,
  ) {
    this.lastRelease = w.schedule.config.groups.map(() => null);
    for (const f of w.schedule.faults) if (f.kind === 'standby' || f.kind === 'takeover') this.manualAt.push(f.at);
  }

  /** Node n began a handoff release of group g. */
  released(n: SimNode, g: number, preferredHeld: boolean): void {
    // ipfail: a holder that reaches fewer ping nodes than a peer lets go for that, not to fail
    // back; and a holder that lets go to another node than the preferred one (ipfail left the
    // preferred node out, the releaser's view) fails nothing back. Where the group goes next is
    // ordinary placement (a group no node holds).
    const o = n.state?.ownership;
    const l = n.localOf[g]!;
    const to = o && n.state && l >= 0 ? desiredOwner(o, viewOf(n.state.membership), l, this.w.local(n)) : null;
    if (o?.ipfail && (Object.values(o.peers).some((a) => (a.pings ?? -1) > (o.pings ?? -1)) || to !== this.w.schedule.config.groups[g]!.preferredNode)) {
      this.lastRelease[g] = null;
      this.note('ipfail releases');
      return;
    }
    const preferred = this.w.schedule.config.groups[g]!.preferredNode;
    this.lastRelease[g] = { node: n.idx, gen: n.gen, at: this.w.now, knownGen: n.state?.membership.peers[preferred]?.generation ?? null, preferredHeld };
  }

  /** Node p begins to start group g: a failback needs a stable preferred node. */
  starting(p: SimNode, g: number): void {
    const def = this.w.schedule.config.groups[g]!;
    if (def.preferredNode !== p.name) return;
    const rel = this.lastRelease[g];
    const w = this.w;
    if (!rel || rel.node === p.idx || rel.preferredHeld) return;
    const window = 2 * w.bounds.maxDeadtimeMs + w.bounds.stopBudgetMs + 4 * w.bounds.maxKeepaliveMs;
    if (w.now - rel.at > window) return;
    const b = w.nodes[rel.node]!;
    if (!b.up || b.gen !== rel.gen) return;
    if (this.manualAt.some((t) => t >= rel.at - window && t <= w.now)) return;
    // Judge the releaser on what it knew: the run of p it had heard (p may have crashed and
    // booted again since, unknown to it yet).
    const boot = rel.knownGen === null ? undefined : p.bootTimes[rel.knownGen];
    if (boot === undefined || rel.at < boot) return;
    this.note('failback stability checks');
    const up = rel.at - boot;
    const delay = w.schedule.config.tuning.failbackDelayMs ?? w.bounds.maxDeadtimeMs;
    if (up < delay) {
      w.fail({
        invariant: 'no-flap',
        message: `"${def.id}" fails back from ${b.name} to ${p.name}, released when ${p.name} had been up only ${Math.round(up)} ms (failbackDelay ${delay} ms)`,
      });
    }
  }
}
