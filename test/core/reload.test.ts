// A reload of a running node (core/reload.ts), stepped by hand: each mapping rule of the new
// configuration onto the running state, with a virtual clock and answered agent calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initNode, nextWake, refusals, step, type GroupDef, type NodeEffect, type NodeEvent, type NodeOptions, type NodeState, type PeerAdvert } from '../../src/core/node.js';
import { advertOf } from '../../src/core/ownership.js';

const TIMERS = { keepaliveMs: 100, warntimeMs: 300, deadtimeMs: 1000, initdeadMs: 2000 };
const A: GroupDef = { id: 'a IPaddr::10.0.0.10 apache2', preferredNode: 'a', resources: ['IPaddr::10.0.0.10', 'apache2'] };
const B: GroupDef = { id: 'b IPaddr::10.0.0.20', preferredNode: 'b', resources: ['IPaddr::10.0.0.20'] };
const C: GroupDef = { id: 'a IPaddr::10.0.0.30', preferredNode: 'a', resources: ['IPaddr::10.0.0.30'] };
/** A's line changed: the same resources and one more, so another group (another id). */
const A2: GroupDef = { id: 'a IPaddr::10.0.0.10 apache2 mysql', preferredNode: 'a', resources: ['IPaddr::10.0.0.10', 'apache2', 'mysql'] };

const ALL = [A, B, C, A2];

type Phase = PeerAdvert['groups'][string]['phase'];

function options(me: string, nodes: string[], groups: GroupDef[], over: Partial<NodeOptions> = {}): NodeOptions {
  return { me, nodes, linkNames: ['eth0'], timers: TIMERS, groups, autoFailback: 'on', digest: 'd1', generation: 1, ...over };
}

/** One node of the core, stepped by hand: its peers are simulated by the test. */
class Node {
  state: NodeState;
  effects: NodeEffect[] = [];
  now = 0;
  readonly gens: Record<string, number> = {};

  constructor(readonly opts: NodeOptions) {
    this.state = initNode(opts, 0);
  }

  on(ev: NodeEvent): NodeEffect[] {
    const r = step(this.state, ev, this.now);
    this.state = r.state;
    this.effects.push(...r.effects);
    return r.effects;
  }

  /** A fresh status heartbeat from `peer`, its advert listing `groups` with these phases (and the resources of those it holds). */
  hear(peer: string, groups: Record<string, Phase>, extra: Partial<PeerAdvert> = {}): NodeEffect[] {
    const held = Object.entries(groups).filter(([, phase]) => phase !== 'stopped');
    const advert: PeerAdvert = {
      groups: Object.fromEntries(Object.entries(groups).map(([id, phase]) => [id, { phase, claim: null, grant: null }])),
      standby: [],
      failed: [],
      takeover: null,
      leaving: false,
      gen: this.gens[peer] ?? 1,
      at: this.now,
      deadtimeMs: TIMERS.deadtimeMs,
      acks: [],
      resources: held.flatMap(([id]) => ALL.find((g) => g.id === id)!.resources),
      ...extra,
    };
    return this.on({ kind: 'status', from: peer, link: 'eth0', generation: advert.gen, fresh: true, st: 'active', advert, digest: 'd1' });
  }

  /** Time passes to `t`, the node woken at each of its wake-ups, as the daemon's single timer does. */
  until(t: number, feed?: () => void): void {
    while (this.now < t) {
      this.now = Math.min(t, Math.max(this.now + 1, nextWake(this.state, this.now)));
      feed?.();
      if (nextWake(this.state, this.now) <= this.now) this.on({ kind: 'tick' });
    }
  }

  /** Answers the agent calls asked for so far (and those they lead to); returns them as "resource action". */
  runAgents(answer: (e: Extract<NodeEffect, { kind: 'agent' }>) => { ok: boolean; running?: boolean } = () => ({ ok: true, running: false })): string[] {
    const calls: string[] = [];
    for (let guard = 0; guard < 100; guard++) {
      const pending = this.effects.filter((e): e is Extract<NodeEffect, { kind: 'agent' }> => e.kind === 'agent');
      this.effects = this.effects.filter((e) => e.kind !== 'agent');
      if (pending.length === 0) break;
      for (const p of pending) {
        calls.push(`${this.state.ownership.groups[p.group]!.resources[p.resource]} ${p.action}`);
        this.on({ kind: 'agent-done', group: p.group, resource: p.resource, action: p.action, ...answer(p) });
      }
    }
    return calls;
  }

  reload(over: Partial<NodeOptions>): NodeEffect[] {
    return this.on({ kind: 'reconfigure', options: { ...this.opts, digest: 'd2', ...over } });
  }

  index(def: GroupDef): number {
    return this.state.ownership.groups.findIndex((g) => g.id === def.id);
  }

  phase(def: GroupDef): string | null {
    const g = this.index(def);
    return g < 0 ? null : this.state.ownership.local[g]!.run.phase;
  }

  logs(): string[] {
    return this.effects.flatMap((e) => (e.kind === 'log' ? [e.text] : []));
  }

  advert(): PeerAdvert {
    return advertOf(this.state.ownership, this.now);
  }
}

/** Node a of a two-node cluster {a, b}, running A (its preferred node), b running nothing of A's. */
function runningA(groups: GroupDef[] = [A, B]): Node {
  const a = new Node(options('a', ['a', 'b'], groups));
  a.hear('b', Object.fromEntries(groups.map((g) => [g.id, 'stopped'])));
  a.runAgents();
  assert.equal(a.phase(A), 'running');
  a.effects = [];
  return a;
}

test('an unchanged group keeps its whole local state: no agent call, no phase change, still running', () => {
  const a = runningA();
  const before = a.state.ownership.local[a.index(A)]!;
  a.reload({ groups: [C, A, B] });
  assert.equal(a.phase(A), 'running');
  assert.deepEqual(a.state.ownership.local[a.index(A)], before, 'its local state is carried over as it was');
  const aEffects = a.effects.filter((e) => 'group' in e && e.group === a.index(A));
  assert.deepEqual(aEffects, [], 'nothing is done to A: no stop, no status call, no address dropped');
  assert.equal(a.advert().groups[A.id]!.phase, 'running');
});

test('a removed group running here is stopped right to left, as a release, then forgotten', () => {
  const a = runningA();
  a.reload({ groups: [B] });
  assert.ok(a.logs().includes(`reload: resource group ${A.id} removed (stopping it here)`));
  assert.equal(a.phase(A), 'stopping');
  assert.ok(a.effects.some((e) => e.kind === 'transition' && e.what === 'release'));
  assert.equal(a.advert().groups[A.id]?.phase, 'stopping', 'peers still see it held while it stops: none starts it meanwhile');
  assert.deepEqual(a.runAgents(), ['apache2 stop', 'IPaddr::10.0.0.10 stop']);
  assert.equal(a.advert().groups[A.id], undefined, 'once stopped it is no longer advertised');
  a.on({ kind: 'tick' });
  assert.equal(a.index(A), -1, 'and the next step forgets it');
  assert.deepEqual(a.state.ownership.groups.map((g) => g.id), [B.id]);
});

test('a removed group not running here is forgotten at once', () => {
  const a = runningA();
  const r = a.reload({ groups: [A] });
  assert.ok(a.logs().includes(`reload: resource group ${B.id} removed (not running here)`));
  assert.equal(a.index(B), -1);
  assert.deepEqual(r.filter((e) => e.kind === 'agent'), []);
});

test('an added group waits until every live node has it (their own reload), then starts as at start', () => {
  const a = runningA([A]);
  a.reload({ groups: [A, C] });
  assert.ok(a.logs().some((l) => l.startsWith(`reload: resource group ${C.id} added`)));
  assert.equal(a.phase(C), 'stopped');
  assert.ok(a.state.ownership.local[a.index(C)]!.waitsForPeers);
  a.hear('b', { [A.id]: 'stopped' });
  assert.deepEqual(a.runAgents(), [], 'b lacks C (it has not reloaded): a does not start it');
  a.hear('b', { [A.id]: 'stopped', [C.id]: 'stopped' });
  assert.deepEqual(a.runAgents(), ['IPaddr::10.0.0.30 status', 'IPaddr::10.0.0.30 start'], 'b has it now: its preferred node starts it');
  assert.equal(a.phase(C), 'running');
  assert.equal(a.phase(A), 'running');
});

test('a group added with no live peer starts at once', () => {
  const a = new Node(options('a', ['a', 'b'], [A]));
  a.until(2500); // initdead: b is dead
  a.runAgents();
  assert.equal(a.phase(A), 'running');
  a.reload({ groups: [A, C] });
  assert.deepEqual(a.runAgents(), ['IPaddr::10.0.0.30 status', 'IPaddr::10.0.0.30 start']);
});

test('a changed line: the old group stops first, its resources advertised as held meanwhile, then the new one starts', () => {
  const a = runningA([A]);
  a.hear('b', { [A2.id]: 'stopped' }); // b has reloaded already
  a.reload({ groups: [A2] });
  assert.equal(a.phase(A), 'stopping');
  assert.equal(a.phase(A2), 'stopped');
  assert.deepEqual(a.advert().resources, A.resources, "they still run here under the old line: b, which knows only the new one, must not start it");
  const calls = a.runAgents();
  assert.deepEqual(calls, [
    'apache2 stop',
    'IPaddr::10.0.0.10 stop',
    'IPaddr::10.0.0.10 status',
    'IPaddr::10.0.0.10 start',
    'apache2 status',
    'apache2 start',
    'mysql status',
    'mysql start',
  ]);
  assert.equal(a.phase(A2), 'running');
  a.on({ kind: 'tick' });
  assert.equal(a.index(A), -1);
});

test('a peer that has not reloaded runs the old line: the new line waits for it', () => {
  const b = new Node(options('b', ['a', 'b'], [A]));
  b.hear('a', { [A.id]: 'running' });
  b.runAgents();
  assert.equal(b.phase(A), 'stopped');
  b.reload({ groups: [A2] });
  b.hear('a', { [A.id]: 'running' });
  assert.deepEqual(b.runAgents(), [], 'a knows only the old line and runs its resources: b starts nothing');
  assert.equal(b.phase(A2), 'stopped');
});

test('a node does not start a group whose resources a peer holds under another line (their haresources differ)', () => {
  // b started with the new line while a, not reloaded yet, runs the old one: b's group does
  // not wait for a reload of its own, and a, lacking the new line, is no candidate for it.
  const b = new Node(options('b', ['a', 'b'], [A2]));
  b.hear('a', { [A.id]: 'running' });
  assert.deepEqual(b.runAgents(), [], "a holds A2's resources under A's line");
  b.hear('a', { [A.id]: 'stopped' });
  assert.deepEqual(b.runAgents().slice(0, 1), ['IPaddr::10.0.0.10 status'], 'once a has stopped them, b takes the group');
});

test('timers take effect at once: a longer deadtime delays the death of a silent peer, a shorter one hastens it', () => {
  const longer = runningA();
  longer.reload({ timers: { ...TIMERS, deadtimeMs: 3000 } });
  assert.ok(longer.logs().includes('reload: deadtime 1000 ms -> 3000 ms'));
  longer.until(2500);
  assert.equal(longer.state.membership.peers.b!.status, 'active', 'b silent for 2.5 s: alive under the new 3 s deadtime');
  longer.until(3200);
  assert.equal(longer.state.membership.peers.b!.status, 'dead');

  const shorter = runningA();
  shorter.until(400);
  shorter.reload({ timers: { ...TIMERS, deadtimeMs: 500 } });
  shorter.until(450);
  assert.equal(shorter.state.membership.peers.b!.status, 'active');
  shorter.until(600);
  assert.equal(shorter.state.membership.peers.b!.status, 'dead', 'silent for more than the new 500 ms');
  assert.equal(shorter.state.membership.promisedDeadtime, null, 'two nodes: no lease rests on the old deadtime');
});

test('a shorter keepalive applies to the next heartbeat; the advert carries the new deadtime', () => {
  const a = runningA();
  a.reload({ timers: { ...TIMERS, keepaliveMs: 50, deadtimeMs: 800 } });
  assert.ok(a.state.membership.nextHeartbeatAt <= (a.state.membership.lastSentAt ?? 0) + 50);
  assert.equal(a.advert().deadtimeMs, 800);
});

test('quorum: a lowered deadtime keeps the promise our heartbeats made for one old deadtime', () => {
  const a = new Node(options('a', ['a', 'b', 'c'], [A]));
  a.hear('b', { [A.id]: 'stopped' });
  a.hear('c', { [A.id]: 'stopped' });
  a.until(100, () => a.hear('c', { [A.id]: 'stopped' }));
  a.now = 100;
  a.hear('b', { [A.id]: 'stopped' });
  a.reload({ timers: { ...TIMERS, deadtimeMs: 500 } });
  assert.deepEqual(a.state.membership.promisedDeadtime, { ms: 1000, until: 1100 });
  assert.ok(a.logs().some((l) => l.includes('is still declared dead only after 1000 ms of silence')));
  a.until(1050, () => a.hear('c', { [A.id]: 'stopped' }));
  assert.equal(a.state.membership.peers.b!.status, 'active', 'b, heard at 100, is not dead 950 ms later: we promised 1000');
  a.until(1150, () => a.hear('c', { [A.id]: 'stopped' }));
  assert.equal(a.state.membership.peers.b!.status, 'dead');
});

test('quorum: nobody grants an added group for a deadtime after the reload', () => {
  const a = new Node(options('a', ['a', 'b', 'c'], [A]));
  const feed = () => {
    a.hear('b', { [A.id]: 'stopped', [C.id]: 'stopped' });
    a.hear('c', { [A.id]: 'stopped', [C.id]: 'stopped' });
  };
  a.until(1500, feed); // grants open after our first deadtime
  a.reload({ groups: [A, C] });
  a.until(1600, feed);
  const c = a.index(C);
  assert.equal(a.state.ownership.local[c]!.grant, null, 'no grant yet: one of ours on it may still count in a lease');
  a.until(2600, feed);
  assert.notEqual(a.state.ownership.local[c]!.grant, null, 'a deadtime later it is granted (to our own claim)');
});

test('standby of a kept group follows it to its new number; that of a removed group goes', () => {
  const a = runningA([A, B]);
  a.on({ kind: 'standby', scope: 'all' });
  a.reload({ groups: [C, B] });
  const sw = a.state.ownership.switches;
  assert.deepEqual([...sw.standby].map((g) => a.state.ownership.groups[g]!.id), [B.id]);
  assert.deepEqual(a.advert().standby, [B.id]);
});

test('auto_failback changes at once', () => {
  const a = runningA();
  a.reload({ autoFailback: 'off' });
  assert.equal(a.state.ownership.autoFailback, 'off');
  assert.ok(a.logs().includes('reload: auto_failback on -> off'));
});

test('a changed node list is refused whole: nothing of the reload is applied, and the log says why', () => {
  const a = runningA();
  const before = a.state;
  const next = { ...a.opts, nodes: ['a', 'b', 'c'], groups: [B], timers: { ...TIMERS, deadtimeMs: 5000 }, digest: 'd2' };
  assert.match(refusals(a.state, next).join('\n'), /the node list changed \(a b -> a b c\): the peers' membership and quorum would change/);
  const effects = a.on({ kind: 'reconfigure', options: next });
  assert.ok(effects.some((e) => e.kind === 'log' && e.level === 'error' && /^reload refused: the node list changed .*restart hbd on every node/.test(e.text)));
  assert.deepEqual(a.state, before, 'the running configuration stays entirely as it was');
});

test('a reload during shutdown is refused', () => {
  const a = runningA();
  a.on({ kind: 'shutdown' });
  assert.deepEqual(refusals(a.state, { ...a.opts, groups: [A] }), ['hbd is shutting down']);
});

test('peers are judged for drift against the new digest', () => {
  const a = runningA();
  a.reload({});
  assert.equal(a.state.digest, 'd2');
  const eff = a.hear('b', { [A.id]: 'stopped', [B.id]: 'stopped' });
  assert.ok(eff.some((e) => e.kind === 'drift' && e.node === 'b'), 'b still has the old configuration: drift');
});
