// The simulator's network decodes adverts exactly as the daemon's shell does: for random
// adverts and haresources that differ between sender and receiver, decodeAdvert() equals
// statusMessage() -> readIncoming() of src/daemon/packets.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupKey, readIncoming, statusMessage } from '../../src/daemon/packets.js';
import type { GroupPhase, PeerAdvert } from '../../src/core/ownership.js';
import { chance, int, mulberry32, pick, shuffled, type Rng } from '../../src/sim/prng.js';
import { timersFor, type NodeCfg } from '../../src/sim/schedule.js';
import { decodeAdvert } from '../../src/sim/world.js';

const IDS = ['n1 g0r0', 'n2 g1r0 g1r1', 'n3 g2r0', 'n1 g3r0 g3r1 g3r2'];
const PHASES: GroupPhase[] = ['stopped', 'starting', 'running', 'stopping', 'stop-failed'];
const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];

function cfg(rng: Rng): NodeCfg {
  const groups = shuffled(rng, IDS).slice(0, int(rng, 1, IDS.length));
  const k = pick(rng, [100, 150, 200]);
  return { timers: timersFor(k, k * int(rng, 4, 8)), autoFailback: 'on', groups, groupsKey: groups.join('|'), digest: 'x' };
}

function advert(rng: Rng, c: NodeCfg): PeerAdvert {
  const idx = c.groups.map((_, i) => i);
  const some = () => idx.filter(() => chance(rng, 0.3));
  const quorum = chance(rng, 0.6);
  return {
    phases: idx.map(() => pick(rng, PHASES)),
    standby: some(),
    failed: some(),
    takeover: chance(rng, 0.3) ? { serial: int(rng, 1, 9), groups: some() } : null,
    leaving: chance(rng, 0.1),
    gen: 0,
    at: rng() * 1e7,
    deadtimeMs: c.timers.deadtimeMs,
    ...(quorum
      ? {
          acks: NODES.filter(() => chance(rng, 0.5)).map((node) => ({ node, gen: int(rng, 1, 20), at: rng() * 1e7 })),
          claims: idx.map(() => (chance(rng, 0.4) ? int(rng, 1, 300) : null)),
          grants: idx.map(() => (chance(rng, 0.5) ? { node: pick(rng, NODES), gen: int(rng, 1, 20), claim: int(rng, 1, 300) } : null)),
        }
      : {}),
  };
}

test('decodeAdvert() is what the daemon reads off the wire', () => {
  const rng = mulberry32(20240607);
  for (let i = 0; i < 2000; i++) {
    const from = cfg(rng);
    const to = cfg(rng);
    const a = advert(rng, from);
    const gen = int(rng, 1, 50);
    const sender = { node: 'n2', uuid: Buffer.alloc(16), generation: gen, deadtimeMs: from.timers.deadtimeMs };
    const msg = statusMessage(sender, i + 1, 1_700_000_000, { st: 'active', advert: a, digest: 'd' }, from.groups.map(groupKey));
    const inc = readIncoming(msg, to.groups.map(groupKey));
    assert.equal(inc.kind, 'status');
    if (inc.kind !== 'status') return;
    assert.deepEqual(decodeAdvert(a, gen, from, to), inc.advert, `case ${i}`);
  }
});
