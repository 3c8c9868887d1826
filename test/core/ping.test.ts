// Ping nodes in the pure core (core/ping.ts) and ipfail in the policy (core/policy.ts):
// Heartbeat's log lines, deadping, the hysteresis of a returning ping node, and a node that
// reaches fewer ping nodes than its peer being no candidate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Pg from '../../src/core/ping.js';
import { desiredOwner, type PolicyView } from '../../src/core/policy.js';
import type { PeerAdvert } from '../../src/core/advert.js';

const P = '10.0.0.254';
const texts = (effects: Pg.PingEffect[]) => effects.flatMap((e) => (e.kind === 'log' ? [e.text] : []));

test('a ping node answers, then falls silent for deadping: Heartbeat\'s lines, and ipfail\'s with ipfail on', () => {
  let s = Pg.initPing([P], 2000, true, 0);
  assert.equal(Pg.reachable(s, 0), null, 'not yet heard, deadping not over: undecided, so nothing to compare (not 0)');
  let r = Pg.stepPing(s, { kind: 'reply', node: P }, 100);
  s = r.state;
  assert.deepEqual(texts(r.effects), [`Link ${P}:${P} up.`, `Status update for node ${P}: status ping`, `Status update: Node ${P} now has status ping`]);
  assert.equal(Pg.reachable(s, 100), 1, 'a first answer counts at once (no hysteresis at start)');
  r = Pg.stepPing(s, { kind: 'tick' }, 2100);
  assert.deepEqual(texts(r.effects), [], 'exactly deadping of silence is not yet dead');
  r = Pg.stepPing(s, { kind: 'tick' }, 2101);
  s = r.state;
  assert.deepEqual(texts(r.effects), [`Link ${P}:${P} dead.`, `node ${P}: is dead`, `Status update: Node ${P} now has status dead`]);
  assert.equal(s.nodes[P]!.status, 'dead');
  assert.equal(Pg.reachable(s, 2101), 0);
});

test('a ping node back from dead counts only after answering for stableMs; the deadline wakes the node', () => {
  let s = Pg.initPing([P], 1000, false, 0);
  s = Pg.stepPing(s, { kind: 'tick' }, 1001).state;
  assert.equal(s.nodes[P]!.status, 'dead', 'never answered: dead after deadping from start');
  s = Pg.stepPing(s, { kind: 'reply', node: P }, 5000).state;
  assert.equal(s.nodes[P]!.status, 'ping');
  assert.equal(Pg.reachable(s, 5000), 0, 'back, but not yet stable');
  assert.ok(Pg.pingDeadlines(s).some((d) => d.name === 'ping-stable' && d.since === 6000), 'a wake when it becomes stable');
  s = Pg.stepPing(s, { kind: 'reply', node: P }, 5800).state;
  s = Pg.stepPing(s, { kind: 'tick' }, 6000).state;
  assert.equal(Pg.reachable(s, 6000), 1, 'stable after answering for stableMs');
  // A flapping route: dead again, back for less than stableMs, dead again: it never counts.
  s = Pg.stepPing(s, { kind: 'tick' }, 6801).state;
  assert.equal(s.nodes[P]!.status, 'dead');
  s = Pg.stepPing(s, { kind: 'reply', node: P }, 7000).state;
  assert.equal(Pg.reachable(s, 7500), 0);
  s = Pg.stepPing(s, { kind: 'tick' }, 8001).state;
  assert.equal(s.nodes[P]!.status, 'dead');
  assert.equal(Pg.reachable(s, 8001), 0);
});

test('a ping group is one ping node: any of its addresses answering keeps it up', () => {
  let s = Pg.initPing(['routers'], 1000, false, 0);
  s = Pg.stepPing(s, { kind: 'reply', node: 'routers' }, 10).state;
  s = Pg.stepPing(s, { kind: 'reply', node: 'unknown-name' }, 20).state;
  assert.deepEqual(Object.keys(s.nodes), ['routers']);
  assert.equal(Pg.reachable(s, 20), 1);
});

function advert(phase: 'running' | 'stopped', pings: number | undefined): PeerAdvert {
  return { groups: { 'n1 vip': { phase, claim: null, grant: null } }, standby: [], failed: [], takeover: null, leaving: false, gen: 1, at: 0, deadtimeMs: 1000, acks: [], resources: [], ...(pings === undefined ? {} : { pings }) };
}

function view(me: string, mine: { phase: 'running' | 'stopped'; pings?: number }, peer: PeerAdvert, ipfail: boolean, autoFailback: 'on' | 'off' = 'off'): PolicyView {
  const other = me === 'n1' ? 'n2' : 'n1';
  return {
    me,
    nodes: ['n1', 'n2'],
    witnesses: [],
    group: { id: 'n1 vip', preferredNode: 'n1', resources: ['vip'] },
    live: [other],
    since: { [other]: 0 },
    heardAt: { [other]: 100_000 },
    peers: { [other]: peer },
    mine: { phase: mine.phase, standby: false, standbySince: undefined, failed: false, leaving: false, ...(mine.pings === undefined ? {} : { pings: mine.pings }) },
    autoFailback,
    lostAt: {},
    hold: { quickFailbackMs: 300, failbackDelayMs: 1000, flapWindowMs: 300_000 },
    ipfail,
    now: 100_000,
  };
}

test('ipfail: the holder that lost its ping nodes while its peer reaches them hands the group over', () => {
  assert.equal(desiredOwner(view('n1', { phase: 'running', pings: 0 }, advert('stopped', 1), true)), 'n2', 'n1 reaches none, n2 one: n2');
  assert.equal(desiredOwner(view('n2', { phase: 'stopped', pings: 1 }, advert('running', 0), true)), 'n2', 'n2 agrees');
  assert.equal(desiredOwner(view('n1', { phase: 'running', pings: 0 }, advert('stopped', 1), false)), 'n1', 'ipfail off: placement ignores ping nodes');
  assert.equal(desiredOwner(view('n1', { phase: 'running', pings: 0 }, advert('stopped', 0), true)), 'n1', 'both lost them (the ping node is down): nothing moves');
  assert.equal(desiredOwner(view('n1', { phase: 'running', pings: 0 }, advert('stopped', undefined), true)), 'n1', 'a peer that does not say is not compared');
  assert.equal(desiredOwner(view('n1', { phase: 'running', pings: 1 }, advert('running', 1), true, 'off')), 'n1', 'equal reach, auto_failback off: the first holder keeps it');
});

test('a witness is never a candidate, even reaching more ping nodes', () => {
  const v = view('n1', { phase: 'stopped', pings: 0 }, advert('stopped', 1), true);
  assert.equal(desiredOwner({ ...v, witnesses: ['n2'] }), 'n1');
});

test('two ping nodes: the count is undecided until each has answered or been silent for deadping', () => {
  let s = Pg.initPing([P, 'gw2'], 1000, true, 0);
  s = Pg.stepPing(s, { kind: 'reply', node: P }, 50).state;
  assert.equal(Pg.reachable(s, 50), null, 'gw2 has not answered yet, and may still');
  s = Pg.stepPing(s, { kind: 'tick' }, 1001).state;
  assert.equal(s.nodes.gw2!.status, 'dead');
  assert.equal(Pg.reachable(s, 1001), 1);
});
