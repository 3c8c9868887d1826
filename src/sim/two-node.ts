// The 2-node safety rule: without a quorum source two owners may exist, but only while the two
// nodes cannot hear each other; once each has received a status heartbeat the other sent
// during the double ownership, after its last change of what decides the owner, it must end
// within resolveMs (see statements.ts).
//
// What decides which of the two keeps the group is in each node's adverts: the lines it has,
// its standby, its takeover request, its failed-start or monitor hold, its leaving, the ping
// nodes it reaches. When one of them changes on a node (an operator's hb_takeover, a reload),
// the way out may turn round: the node that was to yield now keeps, and the other learns that
// only from a heartbeat sent after the change (seeds 1784012, 1796630). Its phase is not part
// of it: going from holding to stopping is the way out, never a turn.
import { advertOf } from '../core/ownership.js';
import type { Packet, SimNode, World } from './world.js';

interface Conflict {
  a: number;
  b: number;
  since: number;
  /** heard[0]: a has heard b; heard[1]: b has heard a (heartbeats sent after after[] of the sender). */
  heard: [boolean, boolean];
  /** Per owner (a, b): a heartbeat of it counts when sent at or after this (its last change of what decides). */
  after: [number, number];
  /** Per owner: what decides, as its advert says it (see decisive). */
  basis: [string, string];
  /** Counts the changes of basis: a judgement armed before one is void. */
  epoch: number;
}

/** What the 2-node rule needs from the checker. */
export interface CheckerContext {
  /** Node i has trouble stopping group g (or a group sharing a resource with it). */
  stopTroubled(i: number, g: number): boolean;
  excuse(reason: string): void;
  note(what: string): void;
  name(i: number): string;
  gid(g: number): string;
  /** Per group, the groups sharing a resource with it, itself included. */
  readonly related: readonly (readonly number[])[];
}

export class TwoNodeSafety {
  private readonly conflicts: (Conflict | null)[];

  constructor(
    private readonly w: World,
    private readonly c: CheckerContext,
  ) {
    this.conflicts = w.schedule.config.groups.map(() => null);
  }

  /** The owners of group g changed. */
  owners(g: number, owners: number[]): void {
    const c = this.conflicts[g];
    if (owners.length < 2) {
      this.conflicts[g] = null;
      return;
    }
    if (c && c.a === owners[0] && c.b === owners[1]) return;
    this.c.note('2-node double ownerships');
    const [a, b] = [owners[0]!, owners[1]!];
    const now = this.w.now;
    this.conflicts[g] = { a, b, since: now, heard: [false, false], after: [now, now], basis: [this.decisive(a, g), this.decisive(b, g)], epoch: 0 };
  }

  /** Node n stepped: a change of what decides makes its earlier heartbeats stale. */
  stepped(n: SimNode): void {
    for (let g = 0; g < this.conflicts.length; g++) {
      const c = this.conflicts[g];
      const side = c ? [c.a, c.b].indexOf(n.idx) : -1;
      if (!c || side < 0) continue;
      const basis = this.decisive(n.idx, g);
      if (basis === c.basis[side]) continue;
      this.c.note('2-node double ownerships turned by a change of what decides');
      c.basis[side] = basis;
      c.after[side] = this.w.now;
      c.heard[1 - side] = false; // the other has not heard this yet
      c.epoch += 1;
    }
  }

  /** A fresh status from `from` reached `to`. */
  heard(to: SimNode, from: SimNode, pkt: Packet): void {
    for (let g = 0; g < this.conflicts.length; g++) {
      const c = this.conflicts[g];
      if (!c) continue;
      if (c.a === to.idx && c.b === from.idx && pkt.sentAt >= c.after[1]) c.heard[0] = true;
      else if (c.b === to.idx && c.a === from.idx && pkt.sentAt >= c.after[0]) c.heard[1] = true;
      else continue;
      if (c.heard[0] && c.heard[1]) {
        c.heard = [false, false]; // deadline set once
        this.c.note('2-node double ownerships heard out');
        const epoch = c.epoch;
        this.w.at(this.w.now + this.w.bounds.resolveMs, () => this.judge(g, c, epoch));
      }
    }
  }

  /**
   * What in node i's advert decides who keeps group g (and the groups sharing its resources):
   * which of them it has lines for, standby, failed, its takeover request, leaving, pings.
   */
  private decisive(i: number, g: number): string {
    const n = this.w.nodes[i]!;
    if (!n.state) return '';
    const ids = this.c.related[g]!.map((h) => this.w.schedule.config.groups[h]!.id);
    const a = advertOf(n.state.ownership, this.w.now);
    const mine = (list: readonly string[]) => list.filter((id) => ids.includes(id));
    const takeover = a.takeover && mine(a.takeover.groups).length > 0 ? a.takeover.serial : null;
    return JSON.stringify([mine(Object.keys(a.groups)), mine(a.standby), mine(a.failed), takeover, a.leaving, a.pings ?? null]);
  }

  private judge(g: number, c: Conflict, epoch: number): void {
    if (this.conflicts[g] !== c || c.epoch !== epoch) return;
    if ([c.a, c.b].some((i) => this.c.stopTroubled(i, g))) {
      this.c.excuse('stop-failed');
      return;
    }
    this.w.fail({
      invariant: 'safety',
      message: `2 nodes: "${this.c.gid(g)}" owned by ${this.c.name(c.a)} and ${this.c.name(c.b)} since ${c.since.toFixed(1)}; both heard the other during it, yet it lasted past resolveMs (${this.w.bounds.resolveMs} ms) after that`,
    });
  }
}
