// The serial framing on its own: every way a byte stream can be cut, spoiled or mixed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FrameDecoder, MAX_LINE_BYTES, crc32, encodeFrame, isHeartbeatText } from '../../src/media/serial-frame.js';
import { MAX_PACKET_BYTES } from '../../src/media/transport.js';

function decoder(): { d: FrameDecoder; frames: Buffer[]; drops: string[] } {
  const frames: Buffer[] = [];
  const drops: string[] = [];
  return { d: new FrameDecoder((f) => frames.push(f), (r) => drops.push(r)), frames, drops };
}

const hbMessage = Buffer.from('>>>\nt=status\nst=active\nsrc=node1\nseq=2a\nhg=1\nts=5f3c\nttl=3\nauth=1 0123abcd\n<<<\n');
const binary = Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 31) % 256));

describe('serial framing', () => {
  it('sends a classic Heartbeat message exactly as Heartbeat does, after one newline', () => {
    assert.ok(isHeartbeatText(hbMessage));
    assert.deepEqual(encodeFrame(hbMessage), Buffer.concat([Buffer.from('\n'), hbMessage]));
  });

  it('sends anything else as one base64 line with a CRC-32', () => {
    const frame = encodeFrame(binary).toString('latin1');
    assert.match(frame, /^\n\$\$\$[A-Za-z0-9+/]+=*( [0-9a-f]{8})\n$/);
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926, 'the standard check value');
    for (const text of ['>>>\nt=x\r\n<<<\n', '>>>\nname=\xe9\n<<<\n', '>>>\n<<<\n<<<\n', '>>>\nt=x\n<<<', '>>>\n$$$\n<<<\n', 't=x\n']) {
      assert.ok(!isHeartbeatText(Buffer.from(text, 'latin1')), JSON.stringify(text));
    }
  });

  it('decodes frames however the stream is chunked', () => {
    const packets = [hbMessage, binary, Buffer.alloc(0), Buffer.from('>>>\n<<<\n')];
    const stream = Buffer.concat(packets.map(encodeFrame));
    for (const size of [1, 3, 7, 64, stream.length]) {
      const { d, frames, drops } = decoder();
      for (let i = 0; i < stream.length; i += size) d.push(stream.subarray(i, i + size));
      assert.deepEqual(frames, packets, `chunks of ${size}`);
      assert.deepEqual(drops, []);
    }
  });

  it("reads Heartbeat's own frames (no leading newline)", () => {
    const { d, frames } = decoder();
    d.push(Buffer.concat([hbMessage, hbMessage]));
    assert.deepEqual(frames, [hbMessage, hbMessage]);
  });

  it('resynchronises after noise, a cut-off binary frame and a cut-off text frame', () => {
    const { d, frames, drops } = decoder();
    d.push(Buffer.from('\x00\xffnoise$$$QUJD', 'latin1'));
    d.push(encodeFrame(binary));
    d.push(Buffer.from('>>>\nt=half\n'));
    d.push(encodeFrame(Buffer.from('next')));
    d.push(Buffer.from('>>>\nt=cut\n'));
    d.push(hbMessage);
    assert.deepEqual(frames, [binary, Buffer.from('next'), hbMessage]);
    assert.deepEqual(drops, ['noise between frames', 'text frame cut short', 'text frame cut short']);
  });

  it('drops a frame spoiled on the line', () => {
    const { d, frames, drops } = decoder();
    const spoiled = Buffer.from(encodeFrame(binary));
    spoiled[10] = spoiled[10] === 0x41 ? 0x42 : 0x41;
    d.push(spoiled);
    d.push(Buffer.from('\n$$$QUJD zzzzzzzz\n$$$QUJD\n'));
    d.push(encodeFrame(binary));
    assert.deepEqual(frames, [binary]);
    assert.deepEqual(drops, ['binary frame checksum mismatch', 'malformed binary frame', 'malformed binary frame']);
  });

  it('survives endless lines and oversize text frames, keeping memory bounded', () => {
    const { d, frames, drops } = decoder();
    const junk = Buffer.alloc(8192, 0x41);
    for (let sent = 0; sent < 2 * MAX_LINE_BYTES; sent += junk.length) d.push(junk);
    d.push(encodeFrame(binary));
    d.push(Buffer.from('>>>\n'));
    for (let sent = 0; sent <= MAX_PACKET_BYTES; sent += 1000) d.push(Buffer.from('x'.repeat(999) + '\n'));
    d.push(Buffer.from('<<<\n'));
    d.push(encodeFrame(Buffer.from('after')));
    assert.deepEqual(frames, [binary, Buffer.from('after')]);
    assert.deepEqual(drops, ['line too long', 'text frame too large']);
  });

  it('carries a packet of the maximum size', () => {
    const { d, frames } = decoder();
    const big = Buffer.alloc(MAX_PACKET_BYTES, 0xa5);
    const frame = encodeFrame(big);
    assert.equal(frame.length, MAX_LINE_BYTES + 2, 'the longest line, with the newlines around it');
    d.push(frame);
    assert.equal(frames.length, 1);
    assert.ok(frames[0]?.equals(big));
  });
});
