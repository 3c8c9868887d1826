import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decode,
  encode,
  encodeClassic,
  encodeNetstring,
  FT_BINARY,
  HbMessage,
  MAX_FIELDS,
  MAX_PACKET_BYTES,
  type DecodeResult,
} from '../../src/wire/index.js';

// node1's uuid in the capture.
const UUID = Buffer.from('189040a00f7d44cf9fb84290e3f9f032', 'hex');

function sample(): HbMessage {
  return HbMessage.of([
    ['t', 'status'],
    ['st', 'active'],
    ['src', 'node1'],
  ])
    .setBinary('srcuuid', UUID)
    .set('seq', '1f')
    .set('ld', '0.26 0.31 0.24 2/116 14812');
}

function codeOf(r: DecodeResult): string {
  return r.ok ? 'ok' : r.code;
}

const ns = (s: string): Buffer => Buffer.from(s, 'latin1');

test('classic form: markers, one name=value line per field, binary as (1)name=base64, a closing NUL', () => {
  const packet = encodeClassic(sample());
  assert.equal(
    packet.toString('latin1'),
    `>>>\nt=status\nst=active\nsrc=node1\n(1)srcuuid=${UUID.toString('base64')}\nseq=1f\nld=0.26 0.31 0.24 2/116 14812\n<<<\n\0`,
  );
  const d = decode(packet);
  assert.ok(d.ok && d.format === 'classic');
  assert.deepEqual(d.message, sample());
  assert.ok(encode(d).equals(packet));
});

test('classic form without the trailing NUL decodes too', () => {
  const packet = encodeClassic(sample());
  const d = decode(packet.subarray(0, -1));
  assert.ok(d.ok);
  assert.deepEqual(d.message, sample());
});

test('a newline in a string value travels as 0x13 in classic form and as itself in netstring form', () => {
  const m = HbMessage.of({ t: 'x', info: 'two\nlines' });
  const classic = encodeClassic(m);
  assert.ok(classic.includes(ns('info=two\x13lines\n')));
  const netstring = encodeNetstring(m);
  assert.ok(netstring.includes(ns('17:(0)info=two\nlines,')));
  for (const packet of [classic, netstring]) {
    const d = decode(packet);
    assert.ok(d.ok);
    assert.equal(d.message.getString('info'), 'two\nlines');
    assert.ok(encode(d).equals(packet));
  }
});

test('binary values of every byte survive both forms', () => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  for (const value of [Buffer.alloc(0), Buffer.from([0]), Buffer.from([0x0a, 0x2c, 0x3d]), all]) {
    const m = HbMessage.of({ t: 'bin' }).setBinary('blob', value).set('after', 'x');
    for (const packet of [encodeClassic(m), encodeNetstring(m)]) {
      const d = decode(packet);
      assert.ok(d.ok, codeOf(d));
      assert.deepEqual(d.message.getBinary('blob'), value);
      assert.equal(d.message.get('blob')?.type, FT_BINARY);
      assert.ok(encode(d).equals(packet));
    }
  }
});

test('fields we do not know, UTF-8 text, "=" and "," inside values all round-trip', () => {
  const m = HbMessage.of([
    ['t', 'future_thing'],
    ['x-new.field_2', 'a=b,c=d'],
    ['name', 'nœud-été ✓'],
    ['empty', ''],
  ]);
  for (const packet of [encodeClassic(m), encodeNetstring(m)]) {
    const d = decode(packet);
    assert.ok(d.ok, codeOf(d));
    assert.deepEqual(d.message, m);
    assert.ok(encode(d).equals(packet));
  }
});

test('a netstring trailer is kept apart from the message and re-encoded exactly', () => {
  const packet = encodeNetstring(sample(), { keyIndex: 7, digest: 'abc123' });
  assert.ok(packet.toString('latin1').endsWith('%%%\n8:7 abc123,'));
  const d = decode(packet);
  assert.ok(d.ok && d.format === 'netstring');
  assert.deepEqual(d.trailer, { keyIndex: 7, digest: 'abc123' });
  assert.ok(d.payload.toString('latin1').endsWith('%%%\n'));
  assert.ok(encode(d).equals(packet));
});

test('malformed packets are refused with a code, never an exception', () => {
  const cases: [string, Buffer | Uint8Array, string][] = [
    ['empty', Buffer.alloc(0), 'E_WIRE_NO_START'],
    ['other start', ns('hello'), 'E_WIRE_NO_START'],
    ['start only', ns('###\n'), 'E_WIRE_TRUNCATED'],
    ['no fields', ns('###\n%%%\n'), 'E_WIRE_NO_FIELDS'],
    ['cut in a length', ns('###\n11'), 'E_WIRE_TRUNCATED'],
    ['no length', ns('###\n:(0)t=x,%%%\n'), 'E_WIRE_BAD_LENGTH'],
    ['leading zero', ns('###\n07:(0)t=xy,%%%\n'), 'E_WIRE_BAD_LENGTH'],
    ['length too short', ns('###\n6:(0)t=xy,%%%\n'), 'E_WIRE_BAD_LENGTH'],
    ['length too long', ns('###\n8:(0)t=xy,%%%\n'), 'E_WIRE_BAD_LENGTH'],
    ['huge length', ns('###\n99999:(0)t=xy,%%%\n'), 'E_WIRE_BAD_LENGTH'],
    ['absurd length', ns('###\n99999999999999999999:(0)t=xy,%%%\n'), 'E_WIRE_BAD_LENGTH'],
    ['no type', ns('###\n4:t=xy,%%%\n'), 'E_WIRE_BAD_FIELD'],
    ['no =', ns('###\n6:(0)txy,%%%\n'), 'E_WIRE_BAD_FIELD'],
    ['struct type', ns('###\n7:(2)t=xy,%%%\n'), 'E_WIRE_FIELD_TYPE'],
    ['empty name', ns('###\n6:(0)=xy,%%%\n'), 'E_WIRE_BAD_NAME'],
    ['bad name', ns('###\n9:(0)t y=xy,%%%\n'), 'E_WIRE_BAD_NAME'],
    ['long name', ns(`###\n${3 + 129 + 1}:(0)${'n'.repeat(129)}=,%%%\n`), 'E_WIRE_BAD_NAME'],
    ['NUL in text', ns('###\n7:(0)t=x\0,%%%\n'), 'E_WIRE_BAD_VALUE'],
    ['bad UTF-8', ns('###\n7:(0)t=x\xff,%%%\n'), 'E_WIRE_BAD_VALUE'],
    ['duplicate', ns('###\n6:(0)t=x,6:(0)t=y,%%%\n'), 'E_WIRE_DUPLICATE_FIELD'],
    ['bad trailer', ns('###\n6:(0)t=x,%%%\n4:1 AB,'), 'E_WIRE_BAD_TRAILER'],
    ['trailer leading zero', ns('###\n6:(0)t=x,%%%\n5:01 ab,'), 'E_WIRE_BAD_TRAILER'],
    ['after trailer', ns('###\n6:(0)t=x,%%%\n4:1 ab,\n'), 'E_WIRE_TRAILING_BYTES'],
    ['classic cut', ns('>>>\nt=x\n'), 'E_WIRE_TRUNCATED'],
    ['classic blank line', ns('>>>\nt=x\n\n<<<\n'), 'E_WIRE_BAD_FIELD'],
    ['classic (0)', ns('>>>\n(0)t=x\n<<<\n'), 'E_WIRE_BAD_FIELD'],
    ['classic (3)', ns('>>>\n(3)t=x\n<<<\n'), 'E_WIRE_FIELD_TYPE'],
    ['classic bad base64', ns('>>>\n(1)u=abc\n<<<\n'), 'E_WIRE_BAD_VALUE'],
    ['classic non-canonical base64', ns('>>>\n(1)u=QR==\n<<<\n'), 'E_WIRE_BAD_VALUE'],
    ['classic after end', ns('>>>\nt=x\n<<<\n\0\0'), 'E_WIRE_TRAILING_BYTES'],
    ['classic 0x13 is a newline, NUL is not text', ns('>>>\nt=x\0\n<<<\n'), 'E_WIRE_BAD_VALUE'],
  ];
  for (const [what, packet, code] of cases) {
    assert.equal(codeOf(decode(packet)), code, what);
  }
});

test('not a byte array at all', () => {
  assert.equal(codeOf(decode('###\n' as unknown as Uint8Array)), 'E_WIRE_NOT_BYTES');
  assert.equal(codeOf(decode(undefined as unknown as Uint8Array)), 'E_WIRE_NOT_BYTES');
});

test('a plain Uint8Array and a slice of a larger buffer decode like a Buffer', () => {
  const packet = encodeNetstring(sample());
  const framed = Buffer.concat([Buffer.from('junk'), packet, Buffer.from('junk')]).subarray(4, 4 + packet.length);
  assert.ok(decode(new Uint8Array(packet)).ok);
  assert.ok(decode(framed).ok);
});

test('packet size is capped at 64 KiB', () => {
  const value = (n: number): string => 'v'.repeat(n);
  const overhead = encodeNetstring(HbMessage.of({ t: '' })).length;
  // The field's length prefix grows from 1 digit to 5.
  const fits = encodeNetstring(HbMessage.of({ t: value(MAX_PACKET_BYTES - overhead - 4) }));
  assert.equal(fits.length, MAX_PACKET_BYTES);
  assert.ok(decode(fits).ok);
  assert.throws(() => encodeNetstring(HbMessage.of({ t: value(MAX_PACKET_BYTES) })), RangeError);
  const big = Buffer.concat([fits, Buffer.from('x')]);
  assert.equal(codeOf(decode(big)), 'E_WIRE_TOO_BIG');
});

test('field count is capped', () => {
  const many = (n: number): HbMessage => HbMessage.of(Array.from({ length: n }, (_, i): [string, string] => [`f${i}`, 'v']));
  assert.ok(decode(encodeNetstring(many(MAX_FIELDS))).ok);
  assert.throws(() => encodeNetstring(many(MAX_FIELDS + 1)), RangeError);
  const over = Buffer.from(
    '###\n' + Array.from({ length: MAX_FIELDS + 1 }, (_, i) => `${5 + String(i).length + 1}:(0)f${i}=v,`).join('') + '%%%\n',
  );
  assert.equal(codeOf(decode(over)), 'E_WIRE_TOO_MANY_FIELDS');
});

test('netstring lengths count UTF-8 bytes of every width; surrogates travel only in pairs', () => {
  // 1-, 2-, 3- and 4-byte characters (the last a surrogate pair in JavaScript), and a newline.
  for (const value of ['a', 'é', '✓', '🐘', 'x🐘y\nété✓', '🐘🐘']) {
    const m = HbMessage.of([['t', 'x'], ['v', value]]);
    const packet = encodeNetstring(m);
    const d = decode(packet);
    assert.ok(d.ok, `${JSON.stringify(value)}: ${codeOf(d)}`);
    assert.equal(d.message.getString('v'), value);
    assert.ok(packet.includes(Buffer.from(`${Buffer.byteLength(`(0)v=${value}`)}:(0)v=${value},`)));
  }
  for (const bad of ['\udc00', 'end \ud83d', '\ud83d then', '\udc18\ud83d', 'a\u0000b']) {
    assert.throws(() => encodeNetstring(HbMessage.of({ t: bad })), RangeError, JSON.stringify(bad));
  }
});

test('the encoder refuses what a peer would have to drop', () => {
  assert.throws(() => encodeNetstring(new HbMessage()), RangeError);
  assert.throws(() => encodeNetstring(HbMessage.of({ 'bad name': 'x' })), RangeError);
  assert.throws(() => encodeNetstring(HbMessage.of({ t: 'nul\0' })), RangeError);
  assert.throws(() => encodeClassic(HbMessage.of({ t: 'sym\u0013' })), RangeError);
  assert.throws(() => encodeNetstring(HbMessage.of({ t: 'lone \ud800' })), RangeError);
  const dup = new HbMessage([
    { name: 't', type: 0, value: 'a' },
    { name: 't', type: 0, value: 'b' },
  ]);
  assert.throws(() => encodeNetstring(dup), RangeError);
});

test('HbMessage: set replaces in place or appends, remove, hex fields', () => {
  const m = HbMessage.of({ t: 'status', seq: '1f', hg: 'zz' });
  m.set('t', 'resource').set('new', 'x');
  assert.deepEqual(
    m.fields.map((f) => f.name),
    ['t', 'seq', 'hg', 'new'],
  );
  assert.equal(m.getString('t'), 'resource');
  assert.equal(m.getHex('seq'), 31);
  assert.equal(m.getHex('hg'), undefined);
  assert.equal(m.getHex('absent'), undefined);
  m.remove('seq');
  assert.equal(m.has('seq'), false);
  const copy = m.clone().setBinary('u', Buffer.from([1]));
  assert.equal(m.has('u'), false);
  assert.equal(copy.getString('u'), undefined, 'a binary field is not a string');
});
