import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { AuthKey, AuthKeys, AuthMethod } from '../../src/config/types.js';
import {
  authDigest,
  authText,
  decode,
  encodeClassic,
  F_AUTH,
  HbMessage,
  sign,
  verify,
  type VerifyResult,
  type WireFormat,
} from '../../src/wire/index.js';

const METHODS: AuthMethod[] = ['crc', 'md5', 'sha1', 'sha256', 'sha512'];
const FORMATS: WireFormat[] = ['netstring', 'classic'];
const text = (s: string): Buffer => Buffer.from(s, 'latin1');

function keyOf(method: AuthMethod, index = 1): AuthKey {
  return { index, method, secret: method === 'crc' ? '' : `secret for ${method}` };
}

function only(key: AuthKey): AuthKeys {
  return { active: key, keys: [key] };
}

function message(): HbMessage {
  return HbMessage.of([
    ['t', 'resource'],
    ['rsc_hold', 'local'],
    ['info', 'req_our_resources()'],
    ['src', 'node2'],
  ])
    .setBinary('srcuuid', Buffer.from('ee8137773535a4a4746adbf1ff92c30e', 'hex'))
    .set('seq', '17')
    .set('hg', '6b03a8d5')
    .set('note', 'a newline\nhere');
}

function codeOf(v: VerifyResult): string {
  return v.ok ? 'ok' : v.code;
}

// Reference values computed by Heartbeat's own crc plugin code and cluster-glue's HMAC-MD5
// (and the sha1 plugin), compiled from /tmp/hbsrc and cluster-glue as a test oracle.
test('crc is what Heartbeat\'s crc plugin prints: unpadded lowercase hex, secret ignored', () => {
  assert.equal(authDigest('crc', '', text('')), 'ffffffff');
  assert.equal(authDigest('crc', '', text('abc')), 'd3e8c673');
  assert.equal(authDigest('crc', 'ignored', text('abc')), 'd3e8c673');
  assert.equal(authDigest('crc', '', Buffer.from([0x80, 0xff, 0x13, 0x0a, 0x00, 0x7f])), '293be1de');
  assert.equal(authDigest('crc', '', text('x40')), '6a039b', '"%lx" drops leading zeros');
});

test('md5 and sha1 are HMAC as Heartbeat computes them, long keys included', () => {
  const jefe = text('what do ya want for nothing?');
  assert.equal(authDigest('md5', 'Jefe', jefe), '750c783e6ab0b503eaa86e310a5db738');
  assert.equal(authDigest('sha1', 'Jefe', jefe), 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
  assert.equal(authDigest('md5', 'anchor-shared-secret', text('')), 'd61425eb9add138f77c39286cf66d038');
  assert.equal(authDigest('md5', 'anchor-shared-secret', text('abc')), 'f21525554fd8b1a89d4b4cd892c2bd72');
  // Keys longer than the 64-byte block are hashed first.
  assert.equal(authDigest('md5', 'k'.repeat(100), text('abc')), '3f089f35f9784d3a29ac4deff0131d7b');
  assert.equal(authDigest('sha1', 'k'.repeat(100), text('abc')), '26030f686a1d565e024767e62c960a6434855442');
});

test('sha256 and sha512 (our extension) are plain HMAC (RFC 4231 case 2)', () => {
  const jefe = text('what do ya want for nothing?');
  assert.equal(authDigest('sha256', 'Jefe', jefe), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  assert.equal(
    authDigest('sha512', 'Jefe', jefe),
    '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
  );
});

test('the inner auth covers the classic lines of every other field', () => {
  const m = message().set(F_AUTH, '1 whatever');
  const expected =
    't=resource\nrsc_hold=local\ninfo=req_our_resources()\nsrc=node2\n' +
    `(1)srcuuid=${m.getBinary('srcuuid')!.toString('base64')}\nseq=17\nhg=6b03a8d5\nnote=a newline\x13here\n`;
  assert.equal(authText(m).toString('latin1'), expected);
});

for (const method of METHODS) {
  for (const format of FORMATS) {
    test(`${method}, ${format}: sign then verify, binary field and newline included`, () => {
      const key = keyOf(method, 2);
      const packet = sign(message(), key, format);
      const v = verify(packet, only(key));
      assert.ok(v.ok, codeOf(v));
      assert.equal(v.keyIndex, 2);
      assert.equal(v.format, format);
      const expected = message().set(F_AUTH, v.message.getString(F_AUTH)!);
      assert.deepEqual(v.message, expected);
      assert.match(v.message.getString(F_AUTH)!, /^2 [0-9a-f]+$/);

      // Any changed byte of a field breaks it.
      const at = packet.indexOf(text('req_our'));
      const tampered = Buffer.from(packet);
      tampered[at] = 'R'.charCodeAt(0);
      assert.equal(codeOf(verify(tampered, only(key))), 'E_AUTH_BAD_DIGEST');
    });
  }
}

test('sign leaves the message alone and replaces an existing auth field where it stands', () => {
  const m = HbMessage.of({ t: 'status', auth: '9 stale', src: 'node1' });
  const packet = sign(m, keyOf('sha1'));
  assert.equal(m.getString(F_AUTH), '9 stale');
  const d = decode(packet);
  assert.ok(d.ok);
  assert.deepEqual(
    d.message.fields.map((f) => f.name),
    ['t', 'auth', 'src'],
  );
});

test('verification accepts every key in authkeys and refuses one it does not have', () => {
  const old = keyOf('md5', 1);
  const current = keyOf('sha256', 2);
  const keys: AuthKeys = { active: current, keys: [old, current] };
  assert.equal(verify(sign(message(), old), keys).ok, true);
  assert.equal(verify(sign(message(), current), keys).ok, true);
  assert.equal(codeOf(verify(sign(message(), keyOf('sha1', 3)), keys)), 'E_AUTH_UNKNOWN_KEY');
  // Same index, other secret: a bad digest, not an unknown key.
  assert.equal(codeOf(verify(sign(message(), { ...old, secret: 'x' }), keys)), 'E_AUTH_BAD_DIGEST');
});

test('classic packets without auth, or with a malformed one, are refused', () => {
  const keys = only(keyOf('sha1'));
  assert.equal(codeOf(verify(encodeClassic(message()), keys)), 'E_AUTH_UNSIGNED');
  assert.equal(codeOf(verify(encodeClassic(message().set(F_AUTH, 'sha1 abc')), keys)), 'E_AUTH_MALFORMED');
  assert.equal(codeOf(verify(encodeClassic(message().set(F_AUTH, '1 ABCDEF')), keys)), 'E_AUTH_MALFORMED');
  assert.equal(codeOf(verify(encodeClassic(message().setBinary(F_AUTH, Buffer.from('1 ab'))), keys)), 'E_AUTH_MALFORMED');
});

test('a wire error is passed through by verify', () => {
  assert.equal(codeOf(verify(text('garbage'), only(keyOf('crc')))), 'E_WIRE_NO_START');
  assert.equal(codeOf(verify(decode(text('###\n')), only(keyOf('crc')))), 'E_WIRE_TRUNCATED');
});

test('verify accepts what decode returned', () => {
  const key = keyOf('md5', 5);
  const d = decode(sign(message(), key));
  const v = verify(d, only(key));
  assert.ok(v.ok);
  assert.equal(v.keyIndex, 5);
});

test('crc proves integrity, not origin; a crc packet does not pass a sha1 key of the same index', () => {
  const forged = sign(message().set('src', 'intruder'), keyOf('crc'));
  assert.ok(verify(forged, only(keyOf('crc'))).ok, 'anyone can compute a crc');
  assert.equal(codeOf(verify(forged, only(keyOf('sha1')))), 'E_AUTH_BAD_DIGEST');
});

test('a crc key listed beside a keyed active method verifies nothing: forged crc packets are refused', () => {
  const sha1 = keyOf('sha1', 1);
  const crcKey = keyOf('crc', 2);
  const keys: AuthKeys = { active: sha1, keys: [sha1, crcKey] };
  const forged = sign(message().set('src', 'intruder'), crcKey);
  assert.equal(codeOf(verify(forged, keys)), 'E_AUTH_UNKEYED');
  assert.equal(verify(sign(message(), sha1), keys).ok, true, 'the active key still verifies');
  assert.equal(verify(forged, { active: crcKey, keys: [sha1, crcKey] }).ok, true, 'crc as the active method: no authentication, as chosen');
});

test('HMAC digests are RFC 2104\'s: RFC 2202 and 4231 vectors, long keys, every method, against node:crypto', () => {
  // RFC 2202 test cases 2 and 6 (sha1, md5: a short key; an 80-byte key, longer than a block, hashed first).
  assert.equal(authDigest('sha1', 'Jefe', Buffer.from('what do ya want for nothing?')), 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
  assert.equal(authDigest('md5', 'Jefe', Buffer.from('what do ya want for nothing?')), '750c783e6ab0b503eaa86e310a5db738');
  const long = '\xaa'.repeat(80);
  const longBytes = Buffer.alloc(80, 0xaa);
  const msg = Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First');
  // Our secrets are UTF-8 text, so the vector's raw 0xaa key is checked against node:crypto with the same bytes.
  assert.equal(authDigest('sha1', long, msg), createHmac('sha1', Buffer.from(long, 'utf8')).update(msg).digest('hex'));
  assert.equal(createHmac('sha1', longBytes).update(msg).digest('hex'), 'aa4ae5e15272d00e95705637ce8a3b55ed402112');
  // RFC 4231 test case 2 (sha256, sha512).
  assert.equal(authDigest('sha256', 'Jefe', Buffer.from('what do ya want for nothing?')), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  assert.equal(authDigest('sha512', 'Jefe', Buffer.from('what do ya want for nothing?')).slice(0, 32), '164b7a7bfcf819e2e395fbe73b56e0a3');
  for (const method of ['md5', 'sha1', 'sha256', 'sha512'] as const) {
    for (const keyLen of [0, 1, 63, 64, 65, 127, 128, 129, 300]) {
      const secret = 'k€y'.repeat(keyLen).slice(0, keyLen);
      for (const size of [0, 1, 55, 64, 530, 4000]) {
        const data = Buffer.alloc(size, size % 251);
        assert.equal(authDigest(method, secret, data), createHmac(method, Buffer.from(secret, 'utf8')).update(data).digest('hex'), `${method}, key of ${keyLen} characters, ${size} bytes`);
      }
    }
  }
});
