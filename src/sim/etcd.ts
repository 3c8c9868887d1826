// The etcd arbiter in the simulator (core/arbiter.ts): a modelled lease service of three
// members, and on each node the shell the daemon's daemon/arbiter-etcd.ts is, behind the same
// news and effects. The service grants leases, renews them on keep-alives, expires them TTL after
// the last one it served (only while it has a quorum: a leader revokes them), gives each lease
// a fresh TTL when it regains its quorum (a new leader does), and serves a node's requests only
// while that node reaches a member of the quorum side. Requests and answers take a drawn time
// each way; a request not served is never answered. Faults (kind `etcd`): a node cut from every
// member, a member down or partitioned from the others, the quorum lost (two members down).
// Its invariants: a key goes (expiry or resignation) only while its holder runs nothing of the
// group; a start happens only under the group's key on the starting node's lease; the revision
// agents get never goes back, and grows with every new owner.
import type * as Node from '../core/node.js';
import { arbiterTuning, type ArbiterNews } from '../core/arbiter.js';
import { chance, derive, int, mulberry32, pick, uniform, type Rng } from './prng.js';
import type { Fault, SimConfig } from './schedule.js';
import type { Command, SimNode } from './sim-node.js';
import type { Violation } from './statements.js';

/** The arbiter of a schedule: the lease TTL, the stop time the nodes were told, etcd's latency each way. */
export interface SimArbiter {
  ttlMs: number;
  stopMs: number;
  minMs: number;
  maxMs: number;
}

export type EtcdFault = Extract<Fault, { kind: 'etcd' }>;

/** What the lease service needs of the world. */
export interface EtcdWorld {
  readonly now: number;
  readonly nodes: SimNode[];
  readonly trace: string[] | null;
  readonly schedule: { config: SimConfig };
  readonly bounds: { stopBudgetMs: number };
  readonly checker: { stopTroubled(i: number, g: number): boolean; note(what: string): void; excuse(why: string): void };
  at(t: number, what: () => void): void;
  log(text: string): void;
  local(n: SimNode): number;
  fail(v: Omit<Violation, 'at'>): void;
  manual(n: SimNode, event: Command): void;
}

interface LeaseRec {
  node: number;
  gen: number;
  expiresAt: number;
}

interface KeyRec {
  lease: number;
  create: number;
}

/** One node's run, as the daemon's shell of it. */
interface Shell {
  n: SimNode;
  gen: number;
  lease: number | null;
  granting: boolean;
  campaigns: Set<string>;
  held: Map<string, number>;
  /** Keys of ours given back (resigned) and not yet seen gone: not ours to take again until then. */
  giving: Set<string>;
  present: string;
  newest: number;
}

type Snapshot = { rev: number; nodes: string[]; groups: Map<string, KeyRec> };

export class SimEtcd {
  private readonly rng: Rng;
  /** Per member, how many faults keep it down, or cut from the other members and the nodes (they overlap). */
  private readonly down = [0, 0, 0];
  private readonly apart = [0, 0, 0];
  private readonly cut = new Map<string, number>();
  private rev = 1;
  private nextLease = 1;
  private readonly leases = new Map<number, LeaseRec>();
  private readonly nodeKeys = new Map<string, number>();
  private readonly keys = new Map<string, KeyRec>();
  private readonly shells = new Map<number, Shell>();
  /** Per global group: the revision and run of its last start, for the fencing-token check. */
  private readonly lastStart = new Map<number, { rev: number; who: string }>();
  private readonly keepaliveMs: number;

  constructor(
    private readonly w: EtcdWorld,
    private readonly cfg: SimArbiter,
    seed: number,
  ) {
    this.rng = mulberry32(derive(seed, 15));
    this.keepaliveMs = arbiterTuning(cfg.ttlMs, cfg.stopMs).keepaliveMs;
  }

  // ---- the service -------------------------------------------------------------------

  private quorate(): boolean {
    return this.down.filter((d, m) => d === 0 && this.apart[m] === 0).length >= 2;
  }

  private served(node: string): boolean {
    return this.quorate() && !this.cut.get(node);
  }

  /** A request from `s`'s run: applied at the service after a drawn delay if served, answered after another. */
  private request<R>(s: Shell, op: () => R, answer: (r: R) => void): void {
    const there = this.w.now + uniform(this.rng, this.cfg.minMs, this.cfg.maxMs);
    this.w.at(there, () => {
      if (!this.served(s.n.name)) return;
      this.expireDue();
      const r = op();
      this.w.at(this.w.now + uniform(this.rng, this.cfg.minMs, this.cfg.maxMs), () => {
        if (this.live(s)) answer(r);
      });
    });
  }

  private live(s: Shell): boolean {
    return s.n.up && s.n.gen === s.gen && this.shells.get(s.n.idx) === s;
  }

  /** The leader revokes the leases whose TTL ran out (none without a quorum: no leader). */
  private expireDue(): void {
    if (!this.quorate()) return;
    for (const [id, l] of this.leases) if (l.expiresAt <= this.w.now) this.revoke(id, 'expired');
  }

  private revoke(id: number, why: string): void {
    const l = this.leases.get(id);
    if (!l) return;
    this.leases.delete(id);
    this.rev += 1;
    for (const [node, lease] of this.nodeKeys) if (lease === id) this.nodeKeys.delete(node);
    for (const [gid, k] of this.keys) if (k.lease === id) this.deleteKey(gid, l, why);
    this.w.log(`etcd: lease ${id} of ${this.w.nodes[l.node]!.name} ${why}`);
    this.watchers();
  }

  private deleteKey(gid: string, l: LeaseRec, why: string): void {
    this.keys.delete(gid);
    this.checkGone(gid, l, why);
  }

  /** A watch: every shell looks again soon after a key is gone. */
  private watchers(): void {
    for (const s of this.shells.values()) this.w.at(this.w.now + uniform(this.rng, this.cfg.minMs, this.cfg.maxMs), () => this.round(s));
  }

  private scheduleExpiry(at: number): void {
    this.w.at(at, () => this.expireDue());
  }

  /** A new leader gives every lease a fresh TTL. */
  private refreshAll(): void {
    for (const l of this.leases.values()) {
      l.expiresAt = Math.max(l.expiresAt, this.w.now + this.cfg.ttlMs);
      this.scheduleExpiry(l.expiresAt);
    }
  }

  toggle(f: EtcdFault, on: boolean): void {
    const before = this.quorate();
    const d = on ? 1 : -1;
    if (f.what === 'cut') this.cut.set(f.node!, (this.cut.get(f.node!) ?? 0) + d);
    else if (f.what === 'quorum') for (const m of [0, 1]) this.down[m]! += d;
    else if (f.what === 'member-down') this.down[f.member!]! += d;
    else this.apart[f.member!]! += d;
    const after = this.quorate();
    // A leader change (the quorum back, or the old leader gone): every lease gets a fresh TTL.
    if (after && (!before || (on && f.what !== 'cut' && chance(this.rng, 0.5)))) this.refreshAll();
    if (after && !before) this.watchers();
  }

  // ---- each node's shell --------------------------------------------------------------

  onBoot(n: SimNode): void {
    const s: Shell = { n, gen: n.gen, lease: null, granting: false, campaigns: new Set(), held: new Map(), giving: new Set(), present: '', newest: 0 };
    this.shells.set(n.idx, s);
    const tick = () => {
      if (!this.live(s)) return;
      this.round(s);
      this.w.at(this.w.now + this.keepaliveMs, tick);
    };
    tick();
  }

  /** The node's core asks for a campaign or a resignation. */
  effect(n: SimNode, e: Node.NodeEffect, state: Node.NodeState): void {
    if (e.kind !== 'arbiter-campaign' && e.kind !== 'arbiter-resign') return;
    const s = this.shells.get(n.idx);
    const id = e.id;
    if (!s || !this.live(s)) return;
    if (e.kind === 'arbiter-campaign') s.campaigns.add(id);
    else {
      s.campaigns.delete(id);
      if (s.held.delete(id)) s.giving.add(id);
    }
    this.round(s);
  }

  private tell(s: Shell, news: ArbiterNews): void {
    this.w.manual(s.n, { kind: 'arbiter', news });
  }

  private round(s: Shell): void {
    if (!this.live(s) || s.n.paused) return;
    const sentAt = this.w.local(s.n);
    if (s.lease === null) {
      if (s.granting) return;
      s.granting = true;
      this.w.at(this.w.now + this.keepaliveMs, () => (s.granting = false));
      this.request(s, () => this.grant(s), (id) => {
        s.granting = false;
        if (s.lease !== null) return;
        s.lease = id;
        this.tell(s, { kind: 'renewed', sentAt });
      });
      return;
    }
    const lease = s.lease;
    this.request(s, () => this.keepalive(lease), (ok) => {
      if (s.lease !== lease) return;
      if (ok) this.tell(s, { kind: 'renewed', sentAt });
      else {
        s.lease = null;
        s.held.clear();
        s.giving.clear();
        s.campaigns.clear();
        this.tell(s, { kind: 'lost' });
      }
    });
    this.request(s, () => this.snapshot(), (snap) => this.read(s, lease, snap));
  }

  private grant(s: Shell): number {
    const id = this.nextLease++;
    const l = { node: s.n.idx, gen: s.gen, expiresAt: this.w.now + this.cfg.ttlMs };
    this.leases.set(id, l);
    this.nodeKeys.set(s.n.name, id);
    this.rev += 1;
    this.scheduleExpiry(l.expiresAt);
    return id;
  }

  private keepalive(id: number): boolean {
    const l = this.leases.get(id);
    if (!l) return false;
    l.expiresAt = this.w.now + this.cfg.ttlMs;
    this.scheduleExpiry(l.expiresAt);
    return true;
  }

  private snapshot(): Snapshot {
    return { rev: this.rev, nodes: [...this.nodeKeys.keys()].sort(), groups: new Map(this.keys) };
  }

  /** What the daemon's read does: presence, keys lost, keys to take, keys to give back. */
  private read(s: Shell, lease: number, snap: Snapshot): void {
    // Answers cross on the way: a snapshot older than one already read is old news.
    if (s.lease !== lease || snap.rev < s.newest) return;
    s.newest = snap.rev;
    const present = snap.nodes.join(' ');
    if (present !== s.present) {
      s.present = present;
      this.tell(s, { kind: 'present', nodes: snap.nodes });
    }
    for (const id of [...s.held.keys()]) {
      if (snap.groups.get(id)?.lease === lease) continue;
      s.held.delete(id);
      this.tell(s, { kind: 'key', group: id, revision: null });
    }
    for (const id of s.giving) if (snap.groups.get(id)?.lease !== lease) s.giving.delete(id);
    for (const [gid, k] of snap.groups) {
      if (k.lease === lease && !s.held.has(gid) && (s.giving.has(gid) || !s.campaigns.has(gid))) this.request(s, () => this.resign(gid, lease, k.create), (rev) => (s.newest = Math.max(s.newest, rev)));
    }
    for (const id of s.campaigns) {
      if (s.held.has(id) || s.giving.has(id)) continue;
      const k = snap.groups.get(id);
      if (!k) this.request(s, () => this.create(id, lease), (r) => this.won(s, id, lease, r));
      else if (k.lease === lease) this.won(s, id, lease, { rev: snap.rev, create: k.create });
    }
  }

  private create(gid: string, lease: number): { rev: number; create: number | null } {
    if (this.keys.has(gid) || !this.leases.has(lease)) return { rev: this.rev, create: this.keys.get(gid)?.lease === lease ? this.keys.get(gid)!.create : null };
    this.rev += 1;
    this.keys.set(gid, { lease, create: this.rev });
    return { rev: this.rev, create: this.rev };
  }

  /** Deletes the key only as it was read (its create revision): a late delete must not take a key taken again since. */
  private resign(gid: string, lease: number, create: number): number {
    const k = this.keys.get(gid);
    const l = this.leases.get(lease);
    if (!k || k.lease !== lease || k.create !== create || !l) return this.rev;
    this.rev += 1;
    this.deleteKey(gid, l, 'resigned');
    this.watchers();
    return this.rev;
  }

  private won(s: Shell, id: string, lease: number, r: { rev: number; create: number | null }): void {
    s.newest = Math.max(s.newest, r.rev);
    if (r.create === null || s.lease !== lease || !s.campaigns.has(id) || s.held.has(id)) return;
    s.held.set(id, r.create);
    this.tell(s, { kind: 'key', group: id, revision: r.create });
  }

  // ---- invariants ---------------------------------------------------------------------

  private gindex(gid: string): number {
    return this.w.schedule.config.groups.findIndex((g) => g.id === gid);
  }

  /** The key of `gid` is gone: its holder's run must hold nothing of the group by now. */
  private checkGone(gid: string, l: LeaseRec, why: string): void {
    const n = this.w.nodes[l.node]!;
    const g = this.gindex(gid);
    const local = n.localOf[g] ?? -1;
    if (!n.up || n.gen !== l.gen || !n.state || local < 0) return;
    const phase = n.state.ownership.local[local]?.run.phase ?? 'stopped';
    this.w.checker.note('arbiter key gone');
    if (phase === 'stopped') return;
    if (n.paused || this.w.now - n.resumedAt <= this.w.bounds.stopBudgetMs) return this.w.checker.excuse('pause');
    if (this.w.checker.stopTroubled(n.idx, g)) return this.w.checker.excuse('stop-failed');
    this.w.fail({ invariant: 'arbiter-lease', message: `etcd let go of the key of "${gid}" (${why}) while ${n.name} still has it ${phase}` });
  }

  /** After a node's step: a group that began to start did so under its key, with a revision that never goes back. */
  afterStep(n: SimNode, effects: readonly Node.NodeEffect[], state: Node.NodeState): void {
    for (const e of effects) {
      if (e.kind !== 'group-phase' || e.to !== 'starting') continue;
      const gid = state.ownership.groups[e.group]!.id;
      const g = this.gindex(gid);
      const k = this.keys.get(gid);
      const l = k ? this.leases.get(k.lease) : undefined;
      const rev = state.ownership.arbiter?.held[gid];
      this.w.checker.note('arbiter starts');
      if (!k || !l || l.node !== n.idx || l.gen !== n.gen || rev !== k.create) {
        this.w.fail({ invariant: 'arbiter-key', message: `${n.name} starts "${gid}" (revision ${rev}) but etcd has its key ${k && l ? `on ${this.w.nodes[l.node]!.name}'s lease at revision ${k.create}` : 'nowhere'}` });
        return;
      }
      const last = this.lastStart.get(g);
      const who = `${n.name}/${n.gen}`;
      if (last && (rev < last.rev || (rev === last.rev && who !== last.who))) {
        this.w.fail({ invariant: 'fencing-token', message: `${who} starts "${gid}" at revision ${rev} after ${last.who} started it at revision ${last.rev}` });
        return;
      }
      this.lastStart.set(g, { rev, who });
    }
  }
}

/** The arbiter for a schedule, with probability `probability`, and 0..3 etcd faults: from a stream of their own. */
export function drawArbiter(seed: number, config: SimConfig, windowMs: number, probability: number): { arbiter: SimArbiter; faults: Fault[] } | null {
  const rng = mulberry32(derive(seed, 14));
  // Not with reloads: hbd refuses a reload that changes a group's line under the arbiter (core/reload.ts).
  if (config.witness || config.fencing || config.groups.some((g) => g.fromReload) || !chance(rng, probability)) return null;
  const a = config.agent.timeoutMs;
  const maxRes = Math.max(...config.groups.map((g) => g.resources.length));
  const stopMs = Math.max(a.start, a.status) + maxRes * a.stop;
  // The TTL the start-up check accepts (core/arbiter.ts budget: TTL > stop + 1% + 250 ms + 2/5 TTL), in whole seconds.
  const ttlMs = (Math.ceil((stopMs + 260) / 0.59 / 1000) + int(rng, 0, 2)) * 1000;
  const minMs = uniform(rng, 0.2, 2);
  const arbiter: SimArbiter = { ttlMs, stopMs, minMs, maxMs: minMs + uniform(rng, 0, 20) };
  const faults: Fault[] = [];
  for (let k = int(rng, 0, 3); k > 0; k--) {
    const at = Math.floor(uniform(rng, 0, windowMs));
    const durMs = Math.max(1, Math.min(windowMs - at, Math.floor(uniform(rng, ttlMs / 4, 3 * ttlMs))));
    const what = pick(rng, ['cut', 'cut', 'member-down', 'member-partitioned', 'quorum'] as const);
    if (what === 'cut') faults.push({ kind: 'etcd', at, durMs, what, node: pick(rng, config.nodes) });
    else if (what === 'quorum') faults.push({ kind: 'etcd', at, durMs, what });
    else faults.push({ kind: 'etcd', at, durMs, what, member: int(rng, 0, 2) });
  }
  return { arbiter, faults };
}

export function describeEtcdFault(f: EtcdFault): string {
  const who = f.what === 'cut' ? ` ${f.node} from etcd` : f.member !== undefined ? ` member ${f.member}` : '';
  return `etcd ${f.what}${who} for ${f.durMs} ms`;
}
