// The advert codec is one bijection: for random adverts and haresources that differ between
// sender and receiver, what the receiver reads off the wire is the sender's advert restricted
// to the receiver's groups (and the resources the sender holds, to those of the receiver's
// groups), with times as the wire carries them (whole milliseconds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupAdvert, GroupPhase, PeerAdvert } from '../../src/core/advert.js';
import { GroupKeys, readAdvert, writeAdvert } from '../../src/wire/advert.js';
import { HbMessage, toHex } from '../../src/wire/message.js';
import { chance, int, mulberry32, pick, shuffled, type Rng } from '../../src/sim/prng.js';

const IDS = ['n1 g0r0', 'n2 g1r0 g1r1', 'n3 g2r0', 'n1 g3r0 g3r1 g3r2'];
const PHASES: GroupPhase[] = ['stopped', 'starting', 'running', 'stopping', 'stop-failed'];
const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];

/** The resources of groups, from their ids (the preferred node, then the resources). */
const resourcesOf = (ids: string[]): string[] => ids.flatMap((id) => id.split(' ').slice(1));

function haresources(rng: Rng): string[] {
  return shuffled(rng, IDS).slice(0, int(rng, 1, IDS.length));
}

function advert(rng: Rng, groups: string[]): PeerAdvert {
  const some = () => groups.filter(() => chance(rng, 0.3));
  const quorum = chance(rng, 0.6);
  const group = (): GroupAdvert => ({
    phase: pick(rng, PHASES),
    claim: quorum && chance(rng, 0.4) ? int(rng, 1, 300) : null,
    grant: quorum && chance(rng, 0.5) ? { node: pick(rng, NODES), gen: int(rng, 1, 20), claim: int(rng, 1, 300) } : null,
  });
  const entries = groups.map((id) => [id, group()] as const);
  return {
    groups: Object.fromEntries(entries),
    resources: resourcesOf(entries.filter(([, g]) => g.phase !== 'stopped').map(([id]) => id)),
    standby: some(),
    failed: some(),
    takeover: chance(rng, 0.3) ? { serial: int(rng, 1, 9), groups: some() } : null,
    leaving: chance(rng, 0.1),
    gen: int(rng, 1, 50),
    at: rng() * 1e7,
    deadtimeMs: int(rng, 400, 30_000),
    acks: quorum ? NODES.filter(() => chance(rng, 0.5)).map((node) => ({ node, gen: int(rng, 1, 20), at: rng() * 1e7 })) : [],
  };
}

/** What a receiver with `groups` must read of `a`. */
function expected(a: PeerAdvert, groups: string[]): PeerAdvert {
  const mine = (ids: string[]) => ids.filter((id) => groups.includes(id));
  return {
    groups: Object.fromEntries(Object.entries(a.groups).filter(([id]) => groups.includes(id))),
    standby: mine(a.standby),
    failed: mine(a.failed),
    takeover: a.takeover ? { serial: a.takeover.serial, groups: mine(a.takeover.groups) } : null,
    leaving: a.leaving,
    gen: a.gen,
    at: Math.floor(a.at),
    deadtimeMs: a.deadtimeMs,
    acks: a.acks.map((k) => ({ ...k, at: Math.floor(k.at) })),
    resources: a.resources.filter((r) => resourcesOf(groups).includes(r)),
  };
}

function encode(a: PeerAdvert): HbMessage {
  const m = HbMessage.of([
    ['t', 'status'],
    ['dt', toHex(a.deadtimeMs)],
    ['hg', toHex(a.gen)],
  ]);
  writeAdvert(m, a);
  return m;
}

test('readAdvert(writeAdvert(a)) is a, restricted to the receiver\'s groups', () => {
  const rng = mulberry32(20240607);
  for (let i = 0; i < 2000; i++) {
    const from = haresources(rng);
    const to = haresources(rng);
    const a = advert(rng, from);
    assert.deepEqual(readAdvert(encode(a), new GroupKeys(to, resourcesOf(to))), expected(a, to), `case ${i}`);
  }
});

test('a message without groups or without the sender\'s clock carries no advert', () => {
  const a = advert(mulberry32(7), IDS);
  const m = encode(a);
  assert.notEqual(readAdvert(m, new GroupKeys(IDS)), null);
  const noClock = new HbMessage(m.fields.filter((f) => f.name !== 'hts_at'));
  assert.equal(readAdvert(noClock, new GroupKeys(IDS)), null);
  const heartbeat = HbMessage.of([['t', 'status'], ['dt', '7530'], ['hg', '3']]);
  assert.equal(readAdvert(heartbeat, new GroupKeys(IDS)), null, 'a real Heartbeat node advertises no groups');
});
