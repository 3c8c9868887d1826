// The membership state machine, stepped by hand with a virtual clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initMembership, nextWake, step, type MembershipEffect, type MembershipEvent, type MembershipState } from '../../src/core/membership.js';

const TIMERS = { keepaliveMs: 100, warntimeMs: 300, deadtimeMs: 500, initdeadMs: 2000 };

class Run {
  state: MembershipState;
  effects: MembershipEffect[] = [];
  constructor(readonly now0 = 0) {
    this.state = initMembership('a', ['a', 'b', 'c'], ['eth0', 'eth1'], TIMERS, now0);
  }
  on(ev: MembershipEvent, now: number): MembershipEffect[] {
    const r = step(this.state, ev, now);
    this.state = r.state;
    this.effects.push(...r.effects);
    return r.effects;
  }
  heard(node: string, now: number, link = 'eth0', generation = 7, fresh = true): MembershipEffect[] {
    return this.on({ kind: 'heard', node, link, generation, status: 'active', fresh }, now);
  }
  /** Ticks at every wake-up until `until`, as the daemon's single timer does. */
  runUntil(until: number, feed?: (now: number) => void): void {
    for (let now = 0; now <= until; now += 10) {
      feed?.(now);
      if (nextWake(this.state, now) <= now) this.on({ kind: 'tick' }, now);
    }
  }
  logs(): string[] {
    return this.effects.flatMap((e) => (e.kind === 'log' ? [e.text] : []));
  }
}

test('sends a heartbeat every keepalive, init first, then up, then active once settled', () => {
  const r = new Run();
  r.runUntil(450, (now) => {
    if (now % 100 === 0 && now > 0) {
      r.heard('b', now);
      r.heard('c', now);
    }
  });
  const sends = r.effects.filter((e) => e.kind === 'send-heartbeat') as Extract<MembershipEffect, { kind: 'send-heartbeat' }>[];
  assert.equal(sends[0]!.status, 'init');
  assert.ok(sends.some((s) => s.status === 'up'));
  assert.equal(sends[sends.length - 1]!.status, 'active');
  assert.ok(sends.length >= 5 && sends.length <= 7, `${sends.length} heartbeats in 450 ms at keepalive 100`);
  assert.ok(r.effects.some((e) => e.kind === 'settled'));
});

test('a silent peer: late warning after warntime, dead after deadtime, its links dead too', () => {
  const r = new Run();
  r.heard('b', 0, 'eth0');
  r.heard('b', 0, 'eth1', 7, false);
  r.heard('c', 0);
  r.runUntil(1000, (now) => {
    if (now % 100 === 0) r.heard('c', now);
  });
  const logs = r.logs();
  const late = logs.findIndex((l) => /node b: is late/.test(l));
  const dead = logs.findIndex((l) => l === 'node b: is dead');
  assert.ok(late >= 0 && dead > late, 'late warning before death');
  assert.ok(logs.includes('Link b:eth0 dead.') && logs.includes('Link b:eth1 dead.'));
  const died = r.effects.find((e) => e.kind === 'node-status' && e.node === 'b' && e.to === 'dead');
  assert.deepEqual(died, { kind: 'node-status', node: 'b', from: 'active', to: 'dead', reason: 'timeout' });
  assert.equal(r.state.peers.c!.status, 'active');
});

test('death comes only after deadtime of silence, never earlier', () => {
  const r = new Run();
  r.heard('b', 0);
  r.heard('c', 0);
  // The shell wakes us at least every keepalive (our own heartbeats); a longer gap is a stall.
  for (let now = 100; now < 500; now += 100) r.heard('c', now);
  r.on({ kind: 'tick' }, 500);
  assert.equal(r.state.peers.b!.status, 'active', 'exactly deadtime: not yet');
  r.on({ kind: 'tick' }, 501);
  assert.equal(r.state.peers.b!.status, 'dead');
});

test('a never-heard peer is declared dead after initdead, not deadtime', () => {
  const r = new Run();
  r.runUntil(1900, (now) => {
    if (now % 100 === 0) r.heard('c', now);
  });
  assert.equal(r.state.peers.b!.status, 'init');
  assert.equal(r.state.settled, false, 'cannot decide ownership while b is unknown');
  r.runUntil(2100, (now) => {
    if (now % 100 === 0) r.heard('c', now);
  });
  assert.equal(r.state.peers.b!.status, 'dead');
  assert.equal(r.state.settled, true);
});

test('a link dies alone while the node lives on another link', () => {
  const r = new Run();
  r.runUntil(1000, (now) => {
    if (now % 100 !== 0) return;
    r.heard('c', now);
    r.heard('b', now, 'eth1');
    if (now < 300) r.heard('b', now, 'eth0', 7, false);
  });
  assert.ok(r.logs().includes('Link b:eth0 dead.'));
  assert.equal(r.state.peers.b!.links.eth0!.up, false);
  assert.equal(r.state.peers.b!.links.eth1!.up, true);
  assert.equal(r.state.peers.b!.status, 'active');
});

test('a goodbye makes the peer dead at once; its late heartbeats of that run do not revive it', () => {
  const r = new Run();
  r.heard('b', 0);
  r.heard('c', 0);
  r.on({ kind: 'peer-left', node: 'b', generation: 7 }, 50);
  assert.equal(r.state.peers.b!.status, 'dead');
  assert.equal(r.state.peers.b!.deadReason, 'shutdown');
  r.heard('b', 60, 'eth0', 7);
  assert.equal(r.state.peers.b!.status, 'dead', 'a reordered heartbeat of the same run');
  r.heard('b', 70, 'eth0', 8);
  assert.equal(r.state.peers.b!.status, 'active', 'the next run (new generation) is welcome');
});

test('last words (its guard says its hbd died): dead at once, reason crash, and the next run is welcome', () => {
  const r = new Run();
  r.heard('b', 0);
  r.heard('c', 0);
  r.on({ kind: 'peer-left', node: 'b', generation: 7, crashed: true }, 50);
  assert.equal(r.state.peers.b!.status, 'dead');
  assert.equal(r.state.peers.b!.deadReason, 'crash');
  assert.ok(r.logs().includes('hbd on b died: its address guard removed its addresses and said so.'));
  assert.ok(!r.logs().some((l) => l.includes('shutdown notice')), 'not logged as a clean shutdown');
  r.heard('b', 60, 'eth0', 7);
  assert.equal(r.state.peers.b!.status, 'dead', 'a late heartbeat of the dead run');
  r.heard('b', 70, 'eth0', 8);
  assert.equal(r.state.peers.b!.status, 'active');
});

test('a restart faster than deadtime is noticed through the generation', () => {
  const r = new Run();
  r.heard('b', 0, 'eth0', 7);
  r.heard('c', 0);
  const eff = r.heard('b', 200, 'eth0', 8);
  assert.ok(eff.some((e) => e.kind === 'node-restarted' && e.node === 'b' && e.generation === 8));
});

test('after leave: one goodbye, no more heartbeats', () => {
  const r = new Run();
  r.on({ kind: 'leave' }, 10);
  r.runUntil(1000);
  assert.equal(r.effects.filter((e) => e.kind === 'send-leave').length, 1);
  const after = r.effects.slice(r.effects.findIndex((e) => e.kind === 'send-leave'));
  assert.equal(after.filter((e) => e.kind === 'send-heartbeat').length, 0);
  assert.equal(nextWake(r.state, 1000) === Infinity || nextWake(r.state, 1000) > 0, true);
});

test('a late tick after a long stall does not send a burst of catch-up heartbeats', () => {
  const r = new Run();
  r.heard('b', 0);
  r.heard('c', 0);
  const eff = r.on({ kind: 'tick' }, 5000);
  assert.equal(eff.filter((e) => e.kind === 'send-heartbeat').length, 1);
  assert.ok(r.state.nextHeartbeatAt > 5000);
});
