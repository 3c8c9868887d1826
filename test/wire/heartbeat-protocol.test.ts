// Heartbeat's protocol around the heartbeats (wire/heartbeat-protocol.ts): the node list
// answered, acks as Heartbeat sends them, retransmission asked for and answered, and each
// message's fields in the order Heartbeat 3.0.6 puts them on the wire (the capture in
// shared/heartbeat-wire-samples.txt).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HbMessage, toHex } from '../../src/wire/message.js';
import { HeartbeatProtocol, readNegotiation, type Outgoing } from '../../src/wire/heartbeat-protocol.js';
import { shutdoneMessage, stampMessage, statusMessage, type Sender } from '../../src/wire/messages.js';
import { advertOf, initOwnership } from '../../src/core/ownership.js';

const US: Sender = { node: 'node2', uuid: Buffer.alloc(16, 2), generation: 0x6b03a8d5, deadtimeMs: 5000 };
const PEER_UUID = Buffer.alloc(16, 1);

function fromPeer(type: string, seq: number | null, extra: [string, string][] = [], hg = 0x6b03a8d5): HbMessage {
  const m = HbMessage.of([['t', type], ...extra, ['src', 'node1']]);
  m.setBinary('srcuuid', PEER_UUID);
  if (seq !== null) m.set('seq', toHex(seq));
  m.set('hg', toHex(hg));
  return m;
}

const names = (m: HbMessage) => m.fields.map((f) => f.name);
const types = (out: Outgoing[]) => out.map((o) => `${o.kind}:${o.message.getString('t')}`);

function heartbeatPeer(): HeartbeatProtocol {
  const p = new HeartbeatProtocol('node2', ['node1', 'node2']);
  p.notePeerKind('node1', true);
  return p;
}

test('reqnodes is answered with repnodes: the fields and order of Heartbeat 3.0.6', () => {
  const p = heartbeatPeer();
  const out = p.receive(fromPeer('reqnodes', 4, [['dest', 'node2']]));
  assert.deepEqual(types(out), ['sequenced:repnodes']);
  const m = stampMessage(out[0]!.message, US, 6, 0x6b03a8d5, PEER_UUID, '0.23 0.31 0.24 2/117 13518');
  // Sample #11 of the capture (the auth field comes last when it is signed).
  assert.deepEqual(names(m), ['dest', 't', 'nodelist', 'delnodelist', 'destuuid', 'src', 'srcuuid', 'seq', 'hg', 'ts', 'ld', 'ttl']);
  assert.equal(m.getString('nodelist'), 'node1 node2 ');
  assert.equal(m.getString('delnodelist'), ' ');
  assert.deepEqual(m.getBinary('destuuid'), PEER_UUID);
  // Not ours to answer: a reqnodes directed to another node.
  assert.deepEqual(p.receive(fromPeer('reqnodes', 5, [['dest', 'node3']])), []);
});

test('acks: one per ten messages, up to the first gap; the NS_ackmsg layout of the capture', () => {
  const p = heartbeatPeer();
  const acks: number[] = [];
  for (let seq = 1; seq <= 25; seq++) {
    for (const o of p.receive(fromPeer('status', seq, [['st', 'active']]))) {
      if (o.message.getString('t') === 'NS_ackmsg') acks.push(Number.parseInt(o.message.getString('ackseq')!, 16));
    }
  }
  assert.deepEqual(acks, [10, 20]);
  const ack = p.receive(fromPeer('status', 30, [['st', 'active']]));
  // 26..29 missing: asked for again (decimal), and no ack past the gap.
  assert.deepEqual(types(ack), ['unsequenced:NS_rexmit']);
  assert.equal(ack[0]!.message.getString('firstseq'), '26');
  assert.equal(ack[0]!.message.getString('lastseq'), '29');
  for (const seq of [26, 27, 28]) p.receive(fromPeer('status', seq, [['st', 'active']]));
  // A NAK for 29 (Heartbeat could not resend it): the gap is closed, the stream acked to 30.
  const closed = p.receive(fromPeer('NS_nak_rexmit', null, [['firstseq', toHex(29)], ['dest', 'node2'], ['info', 'seqno not found']]));
  assert.deepEqual(types(closed), ['unsequenced:NS_ackmsg']);
  const m = stampMessage(closed[0]!.message, US, null, 0x6b03a8d5, PEER_UUID);
  assert.deepEqual(names(m), ['t', 'dest', 'ackseq', 'destuuid', 'src', 'srcuuid', 'hg', 'ts', 'ttl']);
  assert.equal(m.getString('ackseq'), '1e');
});

test('an hbd peer gets no acks: a cluster of hbd alone sends what it sent before', () => {
  const p = new HeartbeatProtocol('node2', ['node1', 'node2']);
  p.notePeerKind('node1', false);
  const out = Array.from({ length: 30 }, (_, i) => p.receive(fromPeer('status', i + 1))).flat();
  assert.deepEqual(out, []);
});

test('a restart of the peer (new generation) starts its stream over', () => {
  const p = heartbeatPeer();
  for (let seq = 1; seq <= 9; seq++) p.receive(fromPeer('status', seq));
  assert.deepEqual(p.receive(fromPeer('status', 1, [], 0x6b03a8d6)), []);
  // An older generation's late message is not a gap of the new run.
  assert.deepEqual(p.receive(fromPeer('status', 15, [], 0x6b03a8d5)), []);
});

test('NS_rexmit is answered from our history, or with NS_nak_rexmit', () => {
  const p = heartbeatPeer();
  const sent = new Map<number, HbMessage>();
  for (let seq = 1; seq <= 510; seq++) {
    const m = stampMessage(HbMessage.of([['t', 'status'], ['st', 'active']]), US, seq, 1, undefined);
    sent.set(seq, m);
    p.sent(seq, m);
  }
  const out = p.receive(fromPeer('NS_rexmit', null, [['dest', 'node2'], ['firstseq', '9'], ['lastseq', '12']]));
  // 1..10 have left the 500-message history.
  assert.deepEqual(types(out), ['unsequenced:NS_nak_rexmit', 'unsequenced:NS_nak_rexmit', 'resend:status', 'resend:status']);
  assert.equal(out[0]!.message.getString('firstseq'), '9');
  assert.equal(out[2]!.message, sent.get(11));
  // Another node's request is not ours to answer; a malformed one is dropped.
  assert.deepEqual(p.receive(fromPeer('NS_rexmit', null, [['dest', 'node3'], ['firstseq', '11'], ['lastseq', '11']])), []);
  assert.deepEqual(p.receive(fromPeer('NS_rexmit', null, [['dest', 'node2'], ['firstseq', 'b'], ['lastseq', '11']])), []);
});

test('our status and goodbye carry Heartbeat\'s fields in its order (capture samples #1 and #70), ours after them', () => {
  const ownership = initOwnership('node2', ['node1', 'node2'], [], 'on', undefined, { now: 0, generation: 1, deadtimeMs: 5000, keepaliveMs: 1000, witnesses: [], ipfail: false });
  const status = statusMessage(US, 1, 0x6b03a8d4, { st: 'init', advert: advertOf(ownership, 0), digest: 'x' }, '0.23 0.31 0.24 2/116 13468');
  assert.deepEqual(names(status).slice(0, 11), ['t', 'st', 'dt', 'protocol', 'src', 'srcuuid', 'seq', 'hg', 'ts', 'ld', 'ttl']);
  assert.ok(names(status).slice(11).every((n) => n.startsWith('hts_')));
  assert.deepEqual(names(shutdoneMessage(US, 32, 1, '0.26 0.31 0.24 1/116 14931')), ['t', 'st', 'src', 'srcuuid', 'seq', 'hg', 'ts', 'ld', 'ttl']);
  // Unsequenced (NS_) messages carry no seq and no ld.
  assert.deepEqual(names(stampMessage(HbMessage.of([['t', 'NS_ackmsg'], ['dest', 'node1'], ['ackseq', '9']]), US, null, 1, PEER_UUID, '0.1 0.1 0.1 1/1 1')), ['t', 'dest', 'ackseq', 'destuuid', 'src', 'srcuuid', 'hg', 'ts', 'ttl']);
});

test('ip-request (rc.d/ip-request\'s message: t and ipaddr) reads as the group key it asks for; its response is not a request', () => {
  assert.deepEqual(readNegotiation(fromPeer('ip-request', 9, [['ipaddr', 'IPaddr::10.0.0.50/24/eth0']])), { kind: 'ip-request', key: 'IPaddr::10.0.0.50/24/eth0' });
  assert.equal(readNegotiation(fromPeer('ip-request', 9)), null, 'no ipaddr: malformed');
  assert.equal(readNegotiation(fromPeer('ip-request-resp', 9, [['dest', 'node1'], ['ipaddr', '10.0.0.50'], ['weown', 'yes'], ['ok', 'OK']])), null);
});
