// The 2-node safety rule: without a quorum source two owners may exist, but only while the two
// nodes cannot hear each other; once each has received a status heartbeat the other sent
// during the double ownership, it must end within resolveMs (see statements.ts).
import type { Packet, SimNode, World } from './world.js';

interface Conflict {
  a: number;
  b: number;
  since: number;
  heard: [boolean, boolean];
}

/** What the 2-node rule needs from the checker. */
export interface CheckerContext {
  /** Node i has trouble stopping group g (or a group sharing a resource with it). */
  stopTroubled(i: number, g: number): boolean;
  excuse(reason: string): void;
  note(what: string): void;
  name(i: number): string;
  gid(g: number): string;
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
    this.conflicts[g] = { a: owners[0]!, b: owners[1]!, since: this.w.now, heard: [false, false] };
  }

  /** A fresh status from `from` reached `to`. */
  heard(to: SimNode, from: SimNode, pkt: Packet): void {
    for (let g = 0; g < this.conflicts.length; g++) {
      const c = this.conflicts[g];
      if (!c || pkt.sentAt < c.since) continue;
      if (c.a === to.idx && c.b === from.idx) c.heard[0] = true;
      else if (c.b === to.idx && c.a === from.idx) c.heard[1] = true;
      else continue;
      if (c.heard[0] && c.heard[1]) {
        c.heard = [false, false]; // deadline set once
        this.c.note('2-node double ownerships heard out');
        this.w.at(this.w.now + this.w.bounds.resolveMs, () => this.judge(g, c));
      }
    }
  }

  private judge(g: number, c: Conflict): void {
    if (this.conflicts[g] !== c) return;
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
