import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { LineSplitter, onLines } from '../../src/lib/lines.js';

test('a line split over chunks comes out once, whole; the unfinished tail waits', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push('one\ntw'), ['one']);
  assert.equal(s.pending, 2);
  assert.deepEqual(s.push('o'), []);
  assert.deepEqual(s.push('\n\nthree\nfo'), ['two', '', 'three']);
  assert.equal(s.pending, 2);
  s.clear();
  assert.deepEqual(s.push('ur\n'), ['ur']);
});

test('a UTF-8 character split between two Buffer chunks is decoded whole', () => {
  const s = new LineSplitter();
  const bytes = Buffer.from('née\n', 'utf8');
  assert.deepEqual(s.push(bytes.subarray(0, 2)), []);
  assert.deepEqual(s.push(bytes.subarray(2)), ['née']);
});

test('onLines frames a stream; a last line without its newline is not a line', async () => {
  const stream = new PassThrough();
  const got: string[] = [];
  onLines(stream, (l) => got.push(l));
  stream.write('a\nb');
  stream.write('\nc');
  stream.end();
  await new Promise((r) => stream.on('end', r).resume());
  assert.deepEqual(got, ['a', 'b']);
});
