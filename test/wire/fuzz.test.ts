// Seeded fuzzing of decode + verify with random bytes and with mutations of real packets.
// Properties checked on every input:
//   - nothing throws, and the decoder never reports its own bug (E_WIRE_INTERNAL);
//   - whatever decodes re-encodes to exactly the same bytes (one reading per packet);
//   - whatever verifies is byte for byte one of the packets really signed.
// A failure prints the seed and iteration, so it can be replayed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuthKey, AuthKeys } from '../../src/config/types.js';
import { decode, encode, HbMessage, MAX_PACKET_BYTES, sign, verify } from '../../src/wire/index.js';
import { readUdpDatagrams } from '../helpers/pcap.js';
import { intIn, mulberry32, pick, randomBytes, type Rng } from '../helpers/prng.js';
import { fromRoot } from '../helpers/repo.js';

const SEED = 0x4842_7473; // "HBts"
const MUTATIONS = 100_000;
const RANDOM = 20_000;

const SHA1: AuthKey = { index: 1, method: 'sha1', secret: 'anchor-shared-secret' };
const OTHERS: AuthKey[] = [
  { index: 2, method: 'md5', secret: 'md5 secret' },
  { index: 3, method: 'sha256', secret: 'sha256 secret' },
  { index: 4, method: 'sha512', secret: 'sha512 secret' },
  { index: 5, method: 'crc', secret: '' },
];
const KEYS: AuthKeys = { active: SHA1, keys: [SHA1, ...OTHERS] };

function seedPackets(): Buffer[] {
  const captured = readUdpDatagrams(fromRoot('test/fixtures/heartbeat-3.0.6-ucast.pcap')).map((d) => d.payload);
  // Some of our own, so the classic parser and every method get their share.
  const ours: Buffer[] = [];
  for (const [i, packet] of captured.slice(0, 20).entries()) {
    const d = decode(packet);
    assert.ok(d.ok);
    const m = d.message.clone().remove('auth').set('info', 'two\nlines');
    const key = OTHERS[i % OTHERS.length]!;
    ours.push(sign(m, key, 'classic'), sign(m, key, 'netstring'));
  }
  ours.push(sign(HbMessage.of({ t: 'x' }).setBinary('b', Buffer.alloc(0)), SHA1, 'classic'));
  return [...captured, ...ours];
}

const INTERESTING = [0x00, 0x0a, 0x13, 0x28, 0x29, 0x2c, 0x30, 0x31, 0x39, 0x3a, 0x3d, 0x25, 0x23, 0x3e, 0x3c, 0x7f, 0x80, 0xff];
const HUGE = ['99999', '65536', '4294967296', '18446744073709551616', '9'.repeat(40), '-1', '0', '00', '007'];

type Mutator = (rng: Rng, p: Buffer, all: Buffer[]) => Buffer;

const MUTATORS: Record<string, Mutator> = {
  bitFlips(rng, p) {
    const out = Buffer.from(p);
    for (let n = intIn(rng, 1, 9); n > 0 && out.length > 0; n--) out[intIn(rng, 0, out.length)]! ^= 1 << intIn(rng, 0, 8);
    return out;
  },
  setByte(rng, p) {
    const out = Buffer.from(p);
    if (out.length > 0) out[intIn(rng, 0, out.length)] = rng() < 0.5 ? pick(rng, INTERESTING) : intIn(rng, 0, 256);
    return out;
  },
  truncate(rng, p) {
    return p.subarray(0, intIn(rng, 0, p.length + 1));
  },
  duplicateSpan(rng, p) {
    const a = intIn(rng, 0, p.length + 1);
    const b = intIn(rng, a, Math.min(p.length, a + 64) + 1);
    const at = intIn(rng, 0, p.length + 1);
    return Buffer.concat([p.subarray(0, at), p.subarray(a, b), p.subarray(at)]);
  },
  deleteSpan(rng, p) {
    const a = intIn(rng, 0, p.length + 1);
    const b = intIn(rng, a, Math.min(p.length, a + 32) + 1);
    return Buffer.concat([p.subarray(0, a), p.subarray(b)]);
  },
  lengthPrefix(rng, p) {
    return replaceLength(rng, p, (n) => String(Math.max(0, n + intIn(rng, -3, 4))));
  },
  hugeLength(rng, p) {
    return replaceLength(rng, p, () => pick(rng, HUGE));
  },
  splice(rng, p, all) {
    const other = pick(rng, all);
    return Buffer.concat([p.subarray(0, intIn(rng, 0, p.length + 1)), other.subarray(intIn(rng, 0, other.length + 1))]);
  },
  oversize(rng, p) {
    const copies = Math.ceil((MAX_PACKET_BYTES + 1) / Math.max(1, p.length)) + intIn(rng, 0, 2);
    return Buffer.concat(Array(copies).fill(p));
  },
};

/** Rewrite one "<digits>:" netstring length prefix. */
function replaceLength(rng: Rng, p: Buffer, next: (n: number) => string): Buffer {
  const s = p.toString('latin1');
  const prefixes = [...s.matchAll(/(?<=^|,|\n)(\d+):/g)];
  if (prefixes.length === 0) return p;
  const m = pick(rng, prefixes);
  const at = m.index!;
  const digits = m[1]!;
  return Buffer.concat([p.subarray(0, at), Buffer.from(next(Number(digits)), 'latin1'), p.subarray(at + digits.length)]);
}

function randomPacket(rng: Rng): Buffer {
  const body = randomBytes(rng, intIn(rng, 0, 600));
  const start = pick(rng, ['', '', '###\n', '>>>\n']);
  return Buffer.concat([Buffer.from(start), body]);
}

test(`fuzz: ${MUTATIONS + RANDOM} mutated and random packets through decode + verify`, (t) => {
  const rng = mulberry32(SEED);
  const seeds = seedPackets();
  const genuine = new Set(seeds.map((p) => p.toString('latin1')));
  const outcomes: Record<string, number> = {};
  const used: Record<string, number> = {};
  const regular = Object.keys(MUTATORS).filter((name) => name !== 'oversize');
  let roundTrips = 0;
  const started = performance.now();

  for (let i = 0; i < MUTATIONS + RANDOM; i++) {
    let packet: Buffer;
    if (i < MUTATIONS) {
      packet = pick(rng, seeds);
      for (let n = rng() < 0.7 ? 1 : intIn(rng, 2, 4); n > 0; n--) {
        // Oversize is cheap to find and slow to run: keep it rare.
        const name = rng() < 0.002 ? 'oversize' : pick(rng, regular);
        used[name] = (used[name] ?? 0) + 1;
        packet = MUTATORS[name]!(rng, packet, seeds);
      }
    } else {
      packet = randomPacket(rng);
    }

    const where = `seed ${SEED}, iteration ${i}, packet ${packet.toString('hex').slice(0, 200)}`;
    let decoded: ReturnType<typeof decode>;
    let verified: ReturnType<typeof verify>;
    try {
      decoded = decode(packet);
      verified = verify(packet, KEYS);
    } catch (e) {
      assert.fail(`exception escaped at ${where}: ${String(e)}`);
    }
    const outcome = verified.ok ? 'verified' : verified.code;
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    assert.notEqual(decoded.ok ? '' : decoded.code, 'E_WIRE_INTERNAL', where);

    if (decoded.ok) {
      // Classic packets may come without their closing NUL; encode() always adds it.
      const withNul = decoded.format === 'classic' && packet.at(-1) !== 0 ? Buffer.concat([packet, Buffer.from([0])]) : packet;
      assert.ok(encode(decoded).equals(withNul), `decoded but re-encodes differently at ${where}`);
      roundTrips++;
      if (verified.ok) assert.ok(genuine.has(withNul.toString('latin1')), `a packet nobody signed verified at ${where}`);
    }
  }

  const seconds = (performance.now() - started) / 1000;
  const total = MUTATIONS + RANDOM;
  t.diagnostic(`fuzz: ${total} packets (${MUTATIONS} mutated from ${seeds.length} seeds, ${RANDOM} random) in ${seconds.toFixed(1)} s`);
  t.diagnostic(`fuzz mutations applied: ${JSON.stringify(used)}`);
  t.diagnostic(`fuzz outcomes: ${JSON.stringify(outcomes)}`);
  t.diagnostic(`fuzz: ${roundTrips} decoded packets re-encoded byte-identically`);
  assert.equal(Object.values(outcomes).reduce((a, b) => a + b, 0), total);
});
