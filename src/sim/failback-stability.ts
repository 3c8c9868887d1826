// The failback half of the no-flap rule (statements.ts): a group released by a live node to its
// preferred node only goes there if the run of that node the releaser had heard had been up
// for the hold-down when it let go, the hold-down growing with the runs of that node the
// releaser had heard end within the flap window (flap damping). The checker tells it of each
// release, each start, each step and each node going down.
import type { SimNode, World } from './world.js';
import { viewOf } from '../core/membership.js';
import { desiredOwner } from '../core/ownership.js';
import { arbiterView } from '../core/ownership-arbiter.js';
import { failbackHoldMs } from '../core/policy.js';

interface Release {
  node: number;
  gen: number;
  at: number;
  /** The run (generation) of the preferred node the releaser knew. */
  knownGen: number | null;
  /** The hold-down the releaser owed the preferred node then, and the one after a single loss. */
  holdMs: number;
  firstHoldMs: number;
  /** The preferred node held the group too (a double ownership ending): no failback. */
  preferredHeld: boolean;
}

export class FailbackStability {
  /** The last handoff release of each group. */
  private readonly lastRelease: (Release | null)[];
  /** When a manual standby or takeover happened: failbacks near them are the operator's. */
  private readonly manualAt: number[] = [];
  /** ended[node][generation]: when that run of the node ended (the world's truth). */
  private readonly ended: number[][];
  /** heard[node]: `peer/generation` of the runs of its peers whose adverts its current run read, and when it first did. */
  private readonly heard: Map<string, number>[];

  constructor(
    private readonly w: World,
    private readonly note: (what: string) => void,
  ) {
    this.lastRelease = w.schedule.config.groups.map(() => null);
    for (const f of w.schedule.faults) if (f.kind === 'standby' || f.kind === 'takeover') this.manualAt.push(f.at);
    this.ended = w.nodes.map(() => []);
    this.heard = w.nodes.map(() => new Map());
  }

  /** Node n took a step: the runs of its peers it has read an advert of. */
  stepped(n: SimNode): void {
    const peers = n.state?.ownership.peers;
    if (!peers) return;
    const heard = this.heard[n.idx]!;
    for (const name in peers) {
      const run = `${name}/${peers[name]!.gen}`;
      if (!heard.has(run)) heard.set(run, this.w.now);
    }
  }

  /** Node n's current run ended (a crash, a shutdown, a fence); its next run knows nothing. */
  down(n: SimNode): void {
    this.ended[n.idx]![n.gen] = this.w.now;
    this.heard[n.idx]!.clear();
  }

  /**
   * The hold-down the releaser owed node p at time `at`: from the runs of p it had read an
   * advert of and that ended within the flap window (it saw each of them lost, at that time or
   * later: a timeout, a goodbye, a restart). It may have seen more losses (a cut is one): the
   * hold-down checked is a lower bound of the one it applies.
   */
  private owedHoldMs(b: SimNode, p: SimNode, at: number, knownGen: number | null): number {
    const hold = b.state!.ownership.config;
    const losses: number[] = [];
    // Only runs before the one it knows: the end of that one may not have reached it yet.
    this.ended[p.idx]!.forEach((end, gen) => {
      if (end !== undefined && knownGen !== null && gen < knownGen && at - end < hold.flapWindowMs && this.heard[b.idx]!.has(`${p.name}/${gen}`)) losses.push(end);
    });
    return failbackHoldMs(losses, at, hold);
  }

  /** Node n began a handoff release of group g. */
  released(n: SimNode, g: number, preferredHeld: boolean): void {
    const preferred = this.w.schedule.config.groups[g]!.preferredNode;
    const knownGen = n.state?.membership.peers[preferred]?.generation ?? null;
    const why = this.noFailback(n, g, preferred, knownGen);
    if (why) {
      this.lastRelease[g] = null;
      this.note(why);
      return;
    }
    const holdMs = n.state ? this.owedHoldMs(n, this.w.node(preferred), this.w.now, knownGen) : 0;
    const firstHoldMs = n.state ? failbackHoldMs([], 0, n.state.ownership.config) : 0;
    this.lastRelease[g] = { node: n.idx, gen: n.gen, at: this.w.now, knownGen, preferredHeld, holdMs, firstHoldMs };
  }

  /**
   * Why node n's release of group g is no failback to the preferred node (the note counting
   * it), or null when it is one. `knownGen`: the preferred node's run n knows.
   */
  private noFailback(n: SimNode, g: number, preferred: string, knownGen: number | null): string | null {
    const o = n.state?.ownership;
    const l = n.localOf[g]!;
    // Where the releaser meant it to go: from its view, as its ownership step saw it (under the
    // etcd arbiter, a peer whose lease is gone from etcd is no candidate).
    const to = o && n.state && l >= 0 ? desiredOwner(o, arbiterView(o, viewOf(n.state.membership)), l, this.w.local(n)) : null;
    // ipfail: a holder that reaches fewer ping nodes than a peer lets go for that, not to fail
    // back; and a holder that lets go to another node than the preferred one (ipfail left the
    // preferred node out) fails nothing back. Where the group goes next is ordinary placement.
    if (o?.ipfail && (Object.values(o.peers).some((a) => (a.pings ?? -1) > (o.pings ?? -1)) || to !== preferred)) return 'ipfail releases';
    // A hand-off to another node than the preferred one that is active in the releaser's view (a
    // monitor keep-out, ipfail or the preferred node's absence put it first) fails nothing back.
    // Should that node not take the group after all (cut from the etcd arbiter, say), a later run
    // of the preferred node that finds it unheld places it as at a start. A hand-off to a node
    // still joining stays judged (seed 1608881: a standby holder yielded to one).
    if (to !== null && to !== preferred && n.state?.membership.peers[to]?.status === 'active') return 'hand-offs to another active node';
    // An operator's switch: a holder asked to stand by for the group (its own hb_standby, or a
    // peer's hb_takeover, however late a partition delivered it) after it had heard the
    // preferred node's run lets go because it was asked to, at once, as Heartbeat's hb_takeover
    // does: no failback to damp. (A standby from before that run stays judged: seed 1608881.)
    const standbySince = o && l >= 0 && o.switches.standby.has(l) ? o.switches.standbySince[l] : undefined;
    const heardAt = this.heard[n.idx]!.get(`${preferred}/${knownGen}`);
    if (standbySince !== undefined && heardAt !== undefined && standbySince >= heardAt) return 'releases for a standby asked for after the preferred node was heard';
    // Likewise a holder that lets go while it sees the preferred node dead: it lets go to another
    // node, and a later run of the preferred node that finds the group free places it as at a
    // start. (A restart is not a death: the restart step sees the new run up, and is judged.)
    if (n.state?.membership.peers[preferred]?.status === 'dead') return 'releases while the preferred node is dead';
    return null;
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
    this.note(rel.holdMs > rel.firstHoldMs ? 'failback hold-downs grown by repeated losses' : 'failback first returns');
    if (up < rel.holdMs) {
      w.fail({
        invariant: 'no-flap',
        message: `"${def.id}" fails back from ${b.name} to ${p.name}, released when ${p.name} had been up only ${Math.round(up)} ms (hold-down ${Math.round(rel.holdMs)} ms)`,
      });
    }
  }
}
