import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, HbMessage, ReplayWindow, sequenceOf, type ReplayVerdict } from '../../src/wire/index.js';
import { readUdpDatagrams } from '../helpers/pcap.js';
import { fromRoot } from '../helpers/repo.js';

test('the same packet over a second medium is a duplicate', () => {
  const w = new ReplayWindow();
  assert.equal(w.accept('node1', 100, 1), 'new'); // via eth0
  assert.equal(w.accept('node1', 100, 1), 'duplicate'); // via eth1
  assert.equal(w.accept('node1', 100, 2), 'new');
  assert.equal(w.accept('node1', 100, 2), 'duplicate');
  assert.equal(w.accept('node2', 100, 1), 'new', 'nodes are tracked apart');
});

test('late and reordered packets inside the window are new once, then duplicates', () => {
  const w = new ReplayWindow();
  assert.equal(w.accept('n', 1, 1), 'new');
  assert.equal(w.accept('n', 1, 5), 'new');
  assert.deepEqual([4, 2, 3].map((s) => w.accept('n', 1, s)), ['new', 'new', 'new']);
  assert.deepEqual([1, 2, 3, 4, 5].map((s) => w.accept('n', 1, s)), Array(5).fill('duplicate'));
});

test('an older generation is a replay, whatever its seq', () => {
  const w = new ReplayWindow();
  assert.equal(w.accept('n', 0x6b03a8d6, 3), 'new');
  assert.equal(w.accept('n', 0x6b03a8d5, 3), 'replay-old-generation');
  assert.equal(w.accept('n', 0x6b03a8d5, 999), 'replay-old-generation');
  assert.equal(w.generationOf('n'), 0x6b03a8d6);
});

test('a newer generation is a restart: the window starts over at seq 1', () => {
  const w = new ReplayWindow();
  for (let s = 1; s <= 40; s++) assert.equal(w.accept('node1', 10, s), 'new');
  assert.equal(w.accept('node1', 11, 1), 'new');
  assert.equal(w.accept('node1', 11, 1), 'duplicate');
  assert.equal(w.accept('node1', 11, 2), 'new');
  assert.equal(w.accept('node1', 10, 41), 'replay-old-generation');
});

test('window overflow: what falls below the window is too old, the rest is still tracked', () => {
  const w = new ReplayWindow({ window: 64 });
  assert.equal(w.accept('n', 1, 1), 'new');
  assert.equal(w.accept('n', 1, 64), 'new');
  assert.equal(w.accept('n', 1, 1), 'duplicate', 'still inside: 64 - 1 < 64');
  assert.equal(w.accept('n', 1, 65), 'new');
  assert.equal(w.accept('n', 1, 1), 'too-old');
  assert.equal(w.accept('n', 1, 2), 'new', 'never seen, still inside');
  assert.equal(w.accept('n', 1, 2), 'duplicate');
  // A jump further than the window forgets everything below it.
  assert.equal(w.accept('n', 1, 1000), 'new');
  assert.equal(w.accept('n', 1, 936), 'too-old');
  assert.equal(w.accept('n', 1, 937), 'new');
  assert.equal(w.accept('n', 1, 999), 'new');
  assert.equal(w.accept('n', 1, 1000), 'duplicate');
});

test('slots reused by the ring do not leak old marks', () => {
  const w = new ReplayWindow({ window: 32 });
  for (let s = 1; s <= 32; s++) w.accept('n', 1, s); // every slot marked
  assert.equal(w.accept('n', 1, 40), 'new'); // skips 33..39, whose slots held 1..7
  for (let s = 33; s <= 39; s++) assert.equal(w.accept('n', 1, s), 'new', `seq ${s}`);
  for (let s = 8; s <= 40; s++) assert.equal(w.accept('n', 1, s), s < 9 ? 'too-old' : 'duplicate', `seq ${s}`);
});

test('memory stays bounded: the least recently heard node is forgotten', () => {
  const w = new ReplayWindow({ maxNodes: 3 });
  w.accept('a', 1, 1);
  w.accept('b', 1, 1);
  w.accept('c', 1, 1);
  w.accept('a', 1, 2); // a is now the most recent
  w.accept('d', 1, 1); // b goes
  assert.equal(w.size, 3);
  assert.equal(w.generationOf('b'), undefined);
  assert.equal(w.accept('a', 1, 2), 'duplicate');
  for (let i = 0; i < 10_000; i++) w.accept(`node${i}`, 1, 1);
  assert.equal(w.size, 3);
});

test('bad numbers are a programming error', () => {
  const w = new ReplayWindow();
  assert.throws(() => w.accept('n', 1, 0), RangeError);
  assert.throws(() => w.accept('n', -1, 1), RangeError);
  assert.throws(() => w.accept('n', 1, 1.5), RangeError);
  assert.throws(() => new ReplayWindow({ window: 100 }), RangeError);
});

test('sequenceOf reads src, hg and seq; NS_ messages and bad seqs have none', () => {
  assert.deepEqual(sequenceOf(HbMessage.of({ t: 'status', src: 'node1', seq: '1f', hg: '6b03a8d5' })), {
    src: 'node1',
    generation: 0x6b03a8d5,
    seq: 31,
  });
  assert.deepEqual(sequenceOf(HbMessage.of({ t: 'status', src: 'n', seq: '1' }))?.generation, 0);
  assert.equal(sequenceOf(HbMessage.of({ t: 'NS_ackmsg', src: 'n', ackseq: '9', hg: '1' })), null);
  assert.equal(sequenceOf(HbMessage.of({ t: 'status', src: 'n', seq: '0' })), null);
  assert.equal(sequenceOf(HbMessage.of({ t: 'status', src: 'n', seq: 'x' })), null);
  assert.equal(sequenceOf(HbMessage.of({ t: 'status', seq: '1' })), null);
  assert.equal(sequenceOf(HbMessage.of({ t: 'status', src: 'n', seq: '1', hg: 'zz' })), null);
});

test('the captured conversation: all new, a restart of node1, and every packet again is a duplicate', () => {
  const messages = readUdpDatagrams(fromRoot('test/fixtures/heartbeat-3.0.6-ucast.pcap')).map((d) => {
    const decoded = decode(d.payload);
    assert.ok(decoded.ok);
    return decoded.message;
  });
  const w = new ReplayWindow();
  const run = (): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const m of messages) {
      const s = sequenceOf(m);
      const verdict: ReplayVerdict | 'no-seq' = s ? w.accept(s.src, s.generation, s.seq) : 'no-seq';
      counts[verdict] = (counts[verdict] ?? 0) + 1;
    }
    return counts;
  };
  // 122 sequenced packets: node2 66 (hg 6b03a8d5), node1 36 before its restart (6b03a8d5)
  // and 20 after (6b03a8d6); the 20 NS_ackmsg have no seq.
  assert.deepEqual(run(), { new: 122, 'no-seq': 20 });
  assert.equal(w.generationOf('node1'), 0x6b03a8d6, 'node1 restarted with the next generation');
  assert.equal(w.generationOf('node2'), 0x6b03a8d5);
  assert.deepEqual(run(), { 'replay-old-generation': 36, duplicate: 66 + 20, 'no-seq': 20 });
});
