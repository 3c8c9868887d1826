// How packets cross a serial line.
//
// Heartbeat's serial plugin writes its classic text messages as they are: ">>>" line,
// "name=value" lines, "<<<" line. Its reader skips lines until one starting with ">>>" and
// collects lines up to one starting with "<<<"; it sets ISTRIP and IGNCR on the tty, so only
// 7-bit text without CR survives. A packet that is such a message goes out exactly like that,
// so a heartbeat-ts node and a Heartbeat node understand each other's frames on one cable.
//
// Any other packet (binary, netstring format, text that would confuse that reader) goes as
// one line that Heartbeat's reader skips:
//
//     "$$$" base64(packet) " " crc32(packet) as 8 lowercase hex digits "\n"
//
// Base64 keeps it 7-bit and free of newlines; the CRC catches line noise and frames cut short
// (the auth signature above would too, but only after we handed garbage up).
//
// Every frame is preceded by "\n": whatever partial line noise or a reopened port left behind
// ends there, so the receiver is back in step at the next frame. An empty line is skipped
// by both readers.
import { MAX_PACKET_BYTES } from './transport.js';

const NL = 0x0a;
const TEXT_START = '>>>';
const TEXT_END = '<<<';
const BINARY = '$$$';

/** The longest line a valid frame has: a binary frame of the largest packet. */
export const MAX_LINE_BYTES = BINARY.length + Math.ceil(MAX_PACKET_BYTES / 3) * 4 + 1 + 8;

export function encodeFrame(packet: Buffer): Buffer {
  if (isHeartbeatText(packet)) return Buffer.concat([Buffer.of(NL), packet]);
  return Buffer.from(`\n${BINARY}${packet.toString('base64')} ${crcHex(packet)}\n`, 'latin1');
}

/** True for a classic Heartbeat message that Heartbeat's serial reader would pass unchanged. */
export function isHeartbeatText(packet: Buffer): boolean {
  if (packet.length < 8) return false;
  for (const byte of packet) {
    if (byte !== 0x09 && byte !== NL && (byte < 0x20 || byte > 0x7e)) return false;
  }
  const lines = packet.toString('latin1').split('\n');
  // A packet ending in "\n" splits into its lines plus one empty string.
  if (lines.pop() !== '' || lines[0] !== TEXT_START || lines[lines.length - 1] !== TEXT_END) return false;
  return lines.slice(1, -1).every((line) => !isMarker(line));
}

function isMarker(line: string): boolean {
  return line.startsWith(TEXT_START) || line.startsWith(TEXT_END) || line.startsWith(BINARY);
}

/**
 * Turns the byte stream of a serial line back into packets. Anything that is not a whole,
 * valid frame is dropped (and reported through onDrop), never delivered.
 */
export class FrameDecoder {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** A line grew past MAX_LINE_BYTES: ignore everything up to the next newline. */
  private skipping = false;
  /** Lines of the text frame being collected, or null between frames. */
  private text: string[] | null = null;
  private textBytes = 0;
  /** Inside a text frame that was dropped: skip lines up to its "<<<". */
  private discarding = false;

  constructor(
    private readonly onFrame: (packet: Buffer) => void,
    private readonly onDrop: (reason: string) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(NL, start); nl !== -1; nl = chunk.indexOf(NL, start)) {
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.skipping) {
        this.skipping = false;
        continue;
      }
      if (!this.fits(piece.length)) continue;
      const line = this.partialBytes ? Buffer.concat([...this.partial, piece]) : piece;
      this.partial = [];
      this.partialBytes = 0;
      this.line(line.toString('latin1'));
    }
    const rest = chunk.subarray(start);
    if (rest.length && !this.skipping && this.fits(rest.length)) {
      this.partial.push(rest);
      this.partialBytes += rest.length;
    }
  }

  private fits(more: number): boolean {
    if (this.partialBytes + more <= MAX_LINE_BYTES) return true;
    this.partial = [];
    this.partialBytes = 0;
    this.skipping = true;
    this.discardText();
    this.onDrop('line too long');
    return false;
  }

  private line(line: string): void {
    if (line.startsWith(BINARY)) {
      this.abandonText();
      this.binary(line);
    } else if (line.startsWith(TEXT_START)) {
      this.abandonText();
      this.text = [line];
      this.textBytes = line.length + 1;
    } else if (this.discarding) {
      // The rest of a frame already dropped: one drop per frame, not one per line.
      if (line.startsWith(TEXT_END)) this.discarding = false;
    } else if (this.text) {
      this.text.push(line);
      this.textBytes += line.length + 1;
      if (line.startsWith(TEXT_END)) {
        const packet = Buffer.from(this.text.join('\n') + '\n', 'latin1');
        this.text = null;
        this.onFrame(packet);
      } else if (this.textBytes > MAX_PACKET_BYTES) {
        this.discardText();
        this.onDrop('text frame too large');
      }
    } else if (line.length > 0) {
      this.onDrop('noise between frames');
    }
  }

  /** A new frame starts before the text frame ended: that one was cut short. */
  private abandonText(): void {
    this.discarding = false;
    if (!this.text) return;
    this.text = null;
    this.onDrop('text frame cut short');
  }

  /** Forget the text frame being collected, and the rest of its lines up to "<<<". */
  private discardText(): void {
    if (!this.text) return;
    this.text = null;
    this.discarding = true;
  }

  private binary(line: string): void {
    const space = line.lastIndexOf(' ');
    const body = line.slice(BINARY.length, space);
    const crc = line.slice(space + 1);
    if (space < 0 || !/^[0-9a-f]{8}$/.test(crc) || body.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(body)) {
      this.onDrop('malformed binary frame');
      return;
    }
    const packet = Buffer.from(body, 'base64');
    if (crcHex(packet) !== crc) this.onDrop('binary frame checksum mismatch');
    else if (packet.length > MAX_PACKET_BYTES) this.onDrop('binary frame too large');
    else this.onFrame(packet);
  }
}

// CRC-32 (IEEE, as zlib): node:zlib has crc32 only from Node 20.15, and we support 20.0.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function crcHex(data: Buffer): string {
  return crc32(data).toString(16).padStart(8, '0');
}
