// Against the real thing: 142 packets two Debian Heartbeat 3.0.6 daemons sent each other
// (see /work/shared/heartbeat-wire-samples.txt), authkeys "auth 1 / 1 sha1 anchor-shared-secret".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuthKey, AuthKeys } from '../../src/config/types.js';
import { authDigest, authText, decode, encode, F_AUTH, sign, verify, type DecodedNetstring } from '../../src/wire/index.js';
import { readUdpDatagrams } from '../helpers/pcap.js';
import { fromRoot } from '../helpers/repo.js';

const datagrams = readUdpDatagrams(fromRoot('test/fixtures/heartbeat-3.0.6-ucast.pcap'));
const packets = datagrams.map((d) => d.payload);
const KEY: AuthKey = { index: 1, method: 'sha1', secret: 'anchor-shared-secret' };
const KEYS: AuthKeys = { active: KEY, keys: [KEY] };

function decodeOk(packet: Buffer): DecodedNetstring {
  const d = decode(packet);
  assert.ok(d.ok, `decode failed: ${d.ok ? '' : d.code + ' ' + d.reason}`);
  assert.equal(d.format, 'netstring');
  return d as DecodedNetstring;
}

test('the capture holds 142 Heartbeat datagrams to UDP port 694', () => {
  assert.equal(packets.length, 142);
  for (const d of datagrams) assert.equal(d.dstPort, 694);
});

test('every captured packet decodes, verifies with the sha1 key and re-encodes byte for byte', () => {
  for (const [i, packet] of packets.entries()) {
    const decoded = decodeOk(packet);
    const v = verify(packet, KEYS);
    assert.ok(v.ok, `packet ${i + 1}: ${v.ok ? '' : v.code + ' ' + v.reason}`);
    assert.equal(v.keyIndex, 1);
    assert.equal(decoded.trailer?.keyIndex, 1);
    assert.ok(encode(decoded).equals(packet), `packet ${i + 1} re-encodes differently`);
  }
});

test('signing the message without its auth field reproduces what Heartbeat sent', () => {
  for (const [i, packet] of packets.entries()) {
    const { message } = decodeOk(packet);
    assert.equal(message.fields.at(-1)?.name, F_AUTH, 'Heartbeat appends auth last');
    const unsigned = message.clone().remove(F_AUTH);
    assert.ok(sign(unsigned, KEY).equals(packet), `packet ${i + 1}`);
  }
});

test('both digests of sample #1 are the ones in the samples file', () => {
  const d = decodeOk(packets[0]!);
  assert.equal(d.message.getString(F_AUTH), '1 966790026eb644d94ad6550ed2ef020d7f91051c');
  assert.equal(authDigest('sha1', KEY.secret, authText(d.message)), '966790026eb644d94ad6550ed2ef020d7f91051c');
  assert.deepEqual(d.trailer, { keyIndex: 1, digest: '33e65ab5800bb04f855c4f7c24b23ad6dd0fe17e' });
  assert.equal(authDigest('sha1', KEY.secret, d.payload), '33e65ab5800bb04f855c4f7c24b23ad6dd0fe17e');
});

test('fields are as Heartbeat writes them: order kept, srcuuid binary, seq and hg in hex', () => {
  const { message } = decodeOk(packets[0]!);
  assert.deepEqual(
    message.fields.map((f) => f.name),
    ['t', 'st', 'dt', 'protocol', 'src', 'srcuuid', 'seq', 'hg', 'ts', 'ld', 'ttl', 'auth'],
  );
  assert.equal(message.getString('st'), 'init');
  assert.equal(message.getHex('dt'), 7000);
  assert.equal(message.getBinary('srcuuid')?.length, 16);
  assert.equal(message.getHex('seq'), 1);
  assert.equal(message.getHex('hg'), 0x6b03a8d5);
});

test('NS_ackmsg carries no seq; every other message does', () => {
  for (const packet of packets) {
    const { message } = decodeOk(packet);
    const isAck = message.getString('t') === 'NS_ackmsg';
    assert.equal(message.has('seq'), !isAck);
    if (isAck) assert.ok(message.has('ackseq') && message.has('dest'));
  }
});

test('changing any single byte of a packet makes decoding or verification fail', () => {
  // A few packets of different types, both senders, before and after a restart.
  const chosen = [0, 6, 10, 17, 55, 108, 141];
  let tried = 0;
  for (const index of chosen) {
    const original = packets[index]!;
    for (let pos = 0; pos < original.length; pos++) {
      for (const mask of [0x01, 0x20, 0x80, 0xff]) {
        const copy = Buffer.from(original);
        copy[pos] = copy[pos]! ^ mask;
        const v = verify(copy, KEYS);
        assert.equal(v.ok, false, `packet ${index + 1}, byte ${pos} ^ ${mask} still verifies`);
        tried++;
      }
    }
  }
  assert.ok(tried > 7000);
});

test('a wrong secret, a wrong method or an unknown key index fails', () => {
  const packet = packets[12]!;
  const other: AuthKey = { index: 1, method: 'sha1', secret: 'anchor-shared-secreT' };
  assert.equal(failCode(verify(packet, { active: other, keys: [other] })), 'E_AUTH_BAD_DIGEST');
  const md5: AuthKey = { index: 1, method: 'md5', secret: KEY.secret };
  assert.equal(failCode(verify(packet, { active: md5, keys: [md5] })), 'E_AUTH_BAD_DIGEST');
  const two: AuthKey = { index: 2, method: 'sha1', secret: KEY.secret };
  assert.equal(failCode(verify(packet, { active: two, keys: [two] })), 'E_AUTH_UNKNOWN_KEY');
});

test('any key in authkeys verifies, not only the active one', () => {
  const active: AuthKey = { index: 3, method: 'md5', secret: 'new secret' };
  const v = verify(packets[5]!, { active, keys: [active, KEY] });
  assert.ok(v.ok);
  assert.equal(v.keyIndex, 1);
});

test('an unsigned packet fails: no trailer, and no auth at all', () => {
  const d = decodeOk(packets[3]!);
  assert.equal(failCode(verify(d.payload, KEYS)), 'E_AUTH_UNSIGNED');
  const stripped = d.message.clone().remove(F_AUTH);
  assert.equal(failCode(verify(encode({ ...d, message: stripped, trailer: null }), KEYS)), 'E_AUTH_UNSIGNED');
});

test('a valid trailer does not excuse a wrong inner auth field', () => {
  const d = decodeOk(packets[20]!);
  const forged = d.message.clone().set(F_AUTH, '1 ' + '0'.repeat(40));
  // Re-sign only the trailer, as someone who knew the key but broke the inner field would.
  const payload = encode({ ...d, message: forged, trailer: null });
  const packet = encode({ ...d, message: forged, trailer: { keyIndex: 1, digest: authDigest('sha1', KEY.secret, payload) } });
  assert.equal(failCode(verify(packet, KEYS)), 'E_AUTH_BAD_DIGEST');
});

function failCode(v: ReturnType<typeof verify>): string {
  assert.equal(v.ok, false);
  return v.ok ? '' : v.code;
}
