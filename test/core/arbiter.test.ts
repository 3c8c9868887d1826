// The etcd arbiter in the core (core/arbiter.ts, ownership-arbiter.ts): the start-up budget, a
// group started only under its key and a lease that leaves time for its stop, the stop when the
// lease runs short or the key is lost, the fence, a peer gone from etcd is no candidate, and
// failback keeping its damping under the arbiter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OwnershipNode } from '../helpers/ownership-node.js';
import { arbiterTuning, budget, type ArbiterNews } from '../../src/core/arbiter.js';
import { initOwnership, type OwnershipEffect, type PeerAdvert } from '../../src/core/ownership.js';

const G = { id: 'a IPaddr::10.0.0.10', preferredNode: 'a', resources: ['IPaddr::10.0.0.10'] };
const TUNING = arbiterTuning(10_000, 2000); // margin 350 ms, keep-alive every 2 s

function advert(phase: PeerAdvert['groups'][string]['phase']): PeerAdvert {
  return { groups: { [G.id]: { phase, claim: null, grant: null } }, standby: [], failed: [], takeover: null, leaving: false, gen: 0, at: 0, deadtimeMs: 30_000, acks: [], resources: phase === 'stopped' ? [] : G.resources };
}

class Node extends OwnershipNode {
  constructor(me: string, autoFailback: 'on' | 'off' = 'on') {
    super(initOwnership(me, ['a', 'b'], [G], autoFailback, { failbackDelayMs: 5000 }, { deadtimeMs: 30_000, arbiter: TUNING }));
  }
  news(news: ArbiterNews): OwnershipEffect[] {
    return this.on({ kind: 'arbiter', news });
  }
  /** Answers every agent call ok (status: not running) until none is pending; their actions. */
  runAgents(): string[] {
    return this.answerAgents().map((p) => p.action);
  }
  tick(at: number): OwnershipEffect[] {
    this.now = at;
    return this.on({ kind: 'tick' });
  }
  phase(): string {
    return this.state.local[0]!.run.phase;
  }
  kinds(): string[] {
    return this.effects.map((e) => e.kind);
  }
}

/** Node `me`, alone in etcd with peer b heard and stopped, its lease renewed at 0. */
function started(me = 'a'): Node {
  const n = new Node(me);
  n.news({ kind: 'present', nodes: ['a', 'b'] });
  n.membership(['b']);
  n.on({ kind: 'advert', node: 'b', advert: advert('stopped') });
  n.news({ kind: 'renewed', sentAt: 0 });
  return n;
}

test('the start-up check explains its numbers in one line, and refuses a TTL that cannot cover the stop', () => {
  const ok = budget(TUNING, 'group a: 1 resource, stop timeout 2 s');
  assert.equal(ok.ok, true);
  assert.equal(ok.line, 'arbiter etcd: lease TTL 10 s > stop time 2 s (group a: 1 resource, stop timeout 2 s) + clock-rate margin 0.35 s (1% of the TTL + 250 ms) + 2 keep-alive intervals of 2 s = 6.35 s: a node that cannot renew its lease begins its stops 7.65 s after its last answered keep-alive and is done 0.35 s before etcd can give its groups to another node.');
  const bad = budget(arbiterTuning(5000, 60_000), 'group a: 1 resource, stop timeout 60 s');
  assert.equal(bad.ok, false);
  assert.match(bad.line, /^arbiter etcd: lease TTL 5 s <= stop time 60 s .* = 62.3 s: raise arbiter_ttl above 62.3 s, or shorten the stop \(hbd --agent-timeout stop=…,start=…\)\.$/);
  assert.ok(!bad.line.includes('\n'));
});

test('the desired owner campaigns for the key and starts only once it holds it', () => {
  const a = started();
  assert.ok(a.kinds().includes('arbiter-campaign'));
  assert.ok(!a.kinds().includes('agent'), 'no start before the key');
  assert.equal(a.phase(), 'stopped');
  a.effects = [];
  a.news({ kind: 'key', group: G.id, revision: 42 });
  assert.deepEqual(a.runAgents(), ['status', 'start']);
  assert.equal(a.phase(), 'running');
});

test('no campaign, and no start, without a lease that leaves time for the stop', () => {
  const a = new Node('a');
  a.news({ kind: 'present', nodes: ['a', 'b'] });
  a.membership(['b']);
  a.on({ kind: 'advert', node: 'b', advert: advert('stopped') });
  assert.ok(!a.kinds().includes('arbiter-campaign'), 'no lease yet');
  a.news({ kind: 'renewed', sentAt: 0 }); // good until 9650, stop by 7650
  assert.ok(a.kinds().includes('arbiter-campaign'));
  a.effects = [];
  a.tick(7650);
  assert.ok(a.kinds().includes('arbiter-resign'), 'the lease is too short to start and stop in time: the campaign ends');
  a.effects = [];
  a.news({ kind: 'key', group: G.id, revision: 3 }); // won just before the resignation reached etcd
  assert.ok(!a.kinds().includes('agent'), 'no start');
  assert.ok(a.kinds().includes('arbiter-resign'), 'and the key is given back');
});

test('a lease not renewed in time: the stop begins at validUntil - stop time, the fence at validUntil', () => {
  const a = started();
  a.news({ kind: 'key', group: G.id, revision: 42 });
  a.runAgents();
  a.effects = [];
  a.tick(7649);
  assert.equal(a.phase(), 'running');
  a.tick(7650); // 10 000 - 350 - 2000
  assert.equal(a.phase(), 'stopping');
  assert.ok(a.effects.some((e) => e.kind === 'log' && /our etcd lease was not renewed in time/.test(e.text)));
  assert.ok(!a.kinds().includes('fence'));
  a.tick(9650); // the stop call still runs: the addresses go now
  assert.ok(a.kinds().includes('fence'));
  a.runAgents();
  assert.equal(a.phase(), 'stopped');
  assert.ok(a.kinds().includes('arbiter-resign'), 'stopped and no candidate: the key is given up');
});

test('a renewed lease keeps the group running; a lost key or a lost lease stops it, fencing at once', () => {
  const a = started();
  a.news({ kind: 'key', group: G.id, revision: 42 });
  a.runAgents();
  for (let t = 2000; t <= 30_000; t += 2000) {
    a.news({ kind: 'renewed', sentAt: t - 10 });
    a.tick(t);
  }
  assert.equal(a.phase(), 'running');
  a.effects = [];
  a.news({ kind: 'lost' });
  assert.equal(a.phase(), 'stopping');
  assert.ok(a.kinds().includes('fence'), 'without a lease the key may be another node\'s already');
  const b = started();
  b.news({ kind: 'key', group: G.id, revision: 7 });
  b.runAgents();
  b.effects = [];
  b.news({ kind: 'key', group: G.id, revision: null });
  assert.equal(b.phase(), 'stopping');
  assert.ok(b.effects.some((e) => e.kind === 'log' && /the etcd key of .* is not ours/.test(e.text)));
});

test('a peer gone from etcd is no candidate: the next node campaigns without waiting for the deadtime', () => {
  const b = new Node('b', 'off');
  b.news({ kind: 'present', nodes: ['a', 'b'] });
  b.membership(['a']);
  b.on({ kind: 'advert', node: 'a', advert: advert('running') });
  b.news({ kind: 'renewed', sentAt: 0 });
  assert.ok(!b.kinds().includes('arbiter-campaign'), 'a runs it and is in etcd');
  b.news({ kind: 'present', nodes: ['b'] }); // a's lease expired: it died, or lost etcd
  assert.ok(b.kinds().includes('arbiter-campaign'), 'a still heard, but gone from etcd');
  b.news({ kind: 'key', group: G.id, revision: 50 });
  assert.deepEqual(b.runAgents(), ['status', 'start']);
});

test('auto_failback under the arbiter: the holder lets go after the same damping, then resigns the key for the preferred node', () => {
  const b = new Node('b', 'on');
  b.news({ kind: 'present', nodes: ['b'] });
  b.membership([]);
  b.news({ kind: 'renewed', sentAt: 0 });
  b.news({ kind: 'key', group: G.id, revision: 9 });
  b.runAgents();
  assert.equal(b.phase(), 'running');
  b.effects = [];
  b.now = 1000;
  b.news({ kind: 'present', nodes: ['a', 'b'] });
  b.membership(['a']);
  b.on({ kind: 'advert', node: 'a', advert: advert('stopped') });
  b.news({ kind: 'renewed', sentAt: 1000 });
  assert.equal(b.phase(), 'running', 'a has not been heard for failbackDelayMs yet');
  b.now = 6500;
  b.news({ kind: 'renewed', sentAt: 6500 });
  b.on({ kind: 'advert', node: 'a', advert: advert('stopped') });
  assert.equal(b.phase(), 'stopping');
  assert.ok(!b.kinds().includes('arbiter-resign'), 'the key is kept until the stop is done');
  b.runAgents();
  assert.equal(b.phase(), 'stopped');
  assert.ok(b.kinds().includes('arbiter-resign'));
  assert.equal(b.state.arbiter!.held[G.id], undefined);
});
