// Heartbeat's two wire forms (cluster-glue lib/clplumbing: cl_msg.c, cl_netstring.c).
//
// netstring (what Heartbeat 3.0.6 sends):
//   "###\n"  then per field  <len>:(<type>)<name>=<value>,  then "%%%\n"
//   then the trailer netstring  <len>:<keyidx> <hex digest>,
//   <len> counts "(<type>)<name>=<value>"; values are raw bytes (binary too).
// classic (older peers; also what the inner "auth" field is computed over):
//   ">>>\n"  then per field  name=value\n  (binary: (1)name=<base64>\n)  then "<<<\n" NUL
//   A newline inside a string value travels as byte 0x13 (SPECIAL_SYM).
//
// We are stricter than Heartbeat (no leading zeros, no blank lines, no duplicate names,
// no bytes after the end) so that decode(x) re-encodes to exactly x: a packet has one
// reading only, and what we verify is what we act on.

import { isUtf8 } from 'node:buffer';
import { goodName, isDigit, SPECIAL_SYM, utf8Length } from './field-rules.js';
import { FT_BINARY, FT_STRING, HbMessage, type Field } from './message.js';

export const MSG_START = '>>>\n';
export const MSG_END = '<<<\n';
export const MSG_START_NETSTRING = '###\n';
export const MSG_END_NETSTRING = '%%%\n';

/** Largest datagram we accept or produce. Heartbeat's own limit (MAXMSG) is larger; ours is UDP-sized. */
export const MAX_PACKET_BYTES = 64 * 1024;
/** Real messages carry about 15 fields. */
export const MAX_FIELDS = 256;
export { MAX_NAME_BYTES, SPECIAL_SYM } from './field-rules.js';
/** Longest digest we produce is sha512: 128 hex digits. */
const MAX_DIGEST_HEX = 128;

export type WireFormat = 'netstring' | 'classic';

export type WireErrorCode =
  | 'E_WIRE_NOT_BYTES'
  | 'E_WIRE_TOO_BIG'
  | 'E_WIRE_NO_START'
  | 'E_WIRE_TRUNCATED'
  | 'E_WIRE_BAD_LENGTH'
  | 'E_WIRE_BAD_FIELD'
  | 'E_WIRE_FIELD_TYPE'
  | 'E_WIRE_BAD_NAME'
  | 'E_WIRE_BAD_VALUE'
  | 'E_WIRE_DUPLICATE_FIELD'
  | 'E_WIRE_TOO_MANY_FIELDS'
  | 'E_WIRE_NO_FIELDS'
  | 'E_WIRE_BAD_TRAILER'
  | 'E_WIRE_TRAILING_BYTES'
  | 'E_WIRE_INTERNAL';

/** The netstring after "%%%\n": which authkeys entry signed the payload, and the digest. */
export interface Trailer {
  keyIndex: number;
  digest: string;
}

export interface DecodedNetstring {
  ok: true;
  format: 'netstring';
  message: HbMessage;
  /** The bytes the trailer signs: "###\n" through "%%%\n". */
  payload: Buffer;
  /** null when the packet ends at "%%%\n" (unsigned). */
  trailer: Trailer | null;
}

export interface DecodedClassic {
  ok: true;
  format: 'classic';
  message: HbMessage;
}

export interface WireError {
  ok: false;
  code: WireErrorCode;
  reason: string;
}

export type Decoded = DecodedNetstring | DecodedClassic;
export type DecodeResult = Decoded | WireError;

/** Thrown inside the parser only; decode() turns it into a WireError. */
class Malformed extends Error {
  constructor(
    readonly code: WireErrorCode,
    reason: string,
  ) {
    super(reason);
  }
}

// ---------------------------------------------------------------- decode

/** Parse one datagram. Never throws: every problem is a WireError with a code. */
export function decode(packet: Uint8Array): DecodeResult {
  try {
    if (!(packet instanceof Uint8Array)) throw new Malformed('E_WIRE_NOT_BYTES', 'packet is not a byte array');
    const buf = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
    if (buf.length > MAX_PACKET_BYTES) {
      throw new Malformed('E_WIRE_TOO_BIG', `packet of ${buf.length} bytes exceeds ${MAX_PACKET_BYTES}`);
    }
    if (startsWith(buf, 0, MSG_START_NETSTRING)) return decodeNetstring(buf);
    if (startsWith(buf, 0, MSG_START)) return decodeClassic(buf);
    throw new Malformed('E_WIRE_NO_START', 'packet starts with neither "###\\n" nor ">>>\\n"');
  } catch (e) {
    if (e instanceof Malformed) return { ok: false, code: e.code, reason: e.message };
    return { ok: false, code: 'E_WIRE_INTERNAL', reason: `decoder bug: ${String(e)}` };
  }
}

function decodeNetstring(buf: Buffer): DecodedNetstring {
  const fields = new FieldList();
  let pos = MSG_START_NETSTRING.length;
  while (!startsWith(buf, pos, MSG_END_NETSTRING)) {
    if (pos >= buf.length) throw new Malformed('E_WIRE_TRUNCATED', 'packet ends before "%%%\\n"');
    const { start, end, next } = readNetstring(buf, pos);
    fields.add(netstringField(buf, start, end));
    pos = next;
  }
  pos += MSG_END_NETSTRING.length;
  const payload = Buffer.from(buf.subarray(0, pos));

  let trailer: Trailer | null = null;
  if (pos < buf.length) {
    const { start, end, next } = readNetstring(buf, pos);
    trailer = parseTrailer(buf.subarray(start, end), start);
    if (next !== buf.length) {
      throw new Malformed('E_WIRE_TRAILING_BYTES', `${buf.length - next} bytes after the trailer`);
    }
  }
  return { ok: true, format: 'netstring', message: fields.finish(), payload, trailer };
}

/** <len>:<data>, — returns where data starts and ends and where the next item starts. */
function readNetstring(buf: Buffer, pos: number): { start: number; end: number; next: number } {
  let digits = 0;
  while (pos + digits < buf.length && isDigit(buf[pos + digits]!)) digits++;
  if (pos + digits >= buf.length) throw new Malformed('E_WIRE_TRUNCATED', `length at byte ${pos} is cut off`);
  if (digits === 0 || buf[pos + digits] !== 0x3a /* : */) {
    throw new Malformed('E_WIRE_BAD_LENGTH', `no "<len>:" at byte ${pos}`);
  }
  // Heartbeat prints lengths with "%d": no leading zeros, and never more than a packet.
  if (digits > 5 || (digits > 1 && buf[pos] === 0x30)) {
    throw new Malformed('E_WIRE_BAD_LENGTH', `malformed length at byte ${pos}`);
  }
  let len = 0;
  for (let i = pos; i < pos + digits; i++) len = len * 10 + buf[i]! - 0x30;
  const start = pos + digits + 1;
  const end = start + len;
  if (end >= buf.length) {
    throw new Malformed('E_WIRE_BAD_LENGTH', `length ${len} at byte ${pos} runs past the end of the packet`);
  }
  if (buf[end] !== 0x2c /* , */) {
    throw new Malformed('E_WIRE_BAD_LENGTH', `length ${len} at byte ${pos} does not end at a ","`);
  }
  return { start, end, next: end + 1 };
}

/** (<type>)<name>=<value>: the field in buf[start, end), read in place (a heartbeat has ~15 fields, ten a second). */
function netstringField(buf: Buffer, start: number, end: number): Field {
  if (end - start < 5 || buf[start] !== 0x28 /* ( */ || buf[start + 2] !== 0x29 /* ) */ || !isDigit(buf[start + 1]!)) {
    throw new Malformed('E_WIRE_BAD_FIELD', `field at byte ${start} does not start with "(<type>)"`);
  }
  const type = buf[start + 1]! - 0x30;
  const eq = buf.indexOf(0x3d /* = */, start + 3);
  if (eq < 0 || eq >= end) throw new Malformed('E_WIRE_BAD_FIELD', `field at byte ${start} has no "="`);
  const name = fieldName(buf, start + 3, eq, start);
  if (type === FT_STRING) return { name, type, value: text(buf, eq + 1, end, name) };
  if (type === FT_BINARY) return { name, type, value: Buffer.from(buf.subarray(eq + 1, end)) };
  throw new Malformed('E_WIRE_FIELD_TYPE', `field "${name}" has type ${type}; only 0 (string) and 1 (binary) are supported`);
}

function parseTrailer(item: Buffer, at: number): Trailer {
  const m = /^(0|[1-9][0-9]{0,2}) ([0-9a-f]+)$/.exec(item.toString('latin1'));
  if (!m || m[2]!.length > MAX_DIGEST_HEX) {
    throw new Malformed('E_WIRE_BAD_TRAILER', `trailer at byte ${at} is not "<keyidx> <lowercase hex>"`);
  }
  return { keyIndex: Number(m[1]), digest: m[2]! };
}

function decodeClassic(buf: Buffer): DecodedClassic {
  const fields = new FieldList();
  let pos = MSG_START.length;
  while (!startsWith(buf, pos, MSG_END)) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) throw new Malformed('E_WIRE_TRUNCATED', 'packet ends before "<<<\\n"');
    fields.add(classicField(buf.subarray(pos, nl), pos));
    pos = nl + 1;
  }
  pos += MSG_END.length;
  // Heartbeat sends the C string with its terminating NUL; accept it or its absence.
  if (pos < buf.length && buf[pos] === 0) pos++;
  if (pos !== buf.length) throw new Malformed('E_WIRE_TRAILING_BYTES', `${buf.length - pos} bytes after "<<<\\n"`);
  return { ok: true, format: 'classic', message: fields.finish() };
}

/** name=value, or (1)name=<base64> */
function classicField(line: Buffer, at: number): Field {
  let type: number = FT_STRING;
  let nameStart = 0;
  if (line[0] === 0x28 /* ( */) {
    if (line.length < 3 || line[2] !== 0x29 || !isDigit(line[1]!)) {
      throw new Malformed('E_WIRE_BAD_FIELD', `line at byte ${at}: bad "(<type>)"`);
    }
    type = line[1]! - 0x30;
    // Heartbeat rejects an explicit "(0)": strings are written without a prefix.
    if (type === FT_STRING) throw new Malformed('E_WIRE_BAD_FIELD', `line at byte ${at}: explicit "(0)"`);
    if (type !== FT_BINARY) {
      throw new Malformed('E_WIRE_FIELD_TYPE', `line at byte ${at} has type ${type}; only 0 and 1 are supported`);
    }
    nameStart = 3;
  }
  const eq = line.indexOf(0x3d /* = */, nameStart);
  if (eq < 0) throw new Malformed('E_WIRE_BAD_FIELD', `line at byte ${at} has no "="`);
  const name = fieldName(line, nameStart, eq, at);
  const value = line.subarray(eq + 1);
  if (type === FT_BINARY) return { name, type: FT_BINARY, value: base64(value, name) };
  const restored = restoreNewlines(value);
  return { name, type: FT_STRING, value: text(restored, 0, restored.length, name) };
}

/** Collects fields, enforcing the limits every message must meet. */
class FieldList {
  private readonly fields: Field[] = [];
  private readonly names = new Set<string>();

  add(field: Field): void {
    // Two fields of one name would let two readers see two different messages.
    if (this.names.has(field.name)) {
      throw new Malformed('E_WIRE_DUPLICATE_FIELD', `field "${field.name}" appears twice`);
    }
    if (this.fields.length >= MAX_FIELDS) {
      throw new Malformed('E_WIRE_TOO_MANY_FIELDS', `more than ${MAX_FIELDS} fields`);
    }
    this.names.add(field.name);
    this.fields.push(field);
  }

  finish(): HbMessage {
    if (this.fields.length === 0) throw new Malformed('E_WIRE_NO_FIELDS', 'message has no fields');
    return new HbMessage(this.fields);
  }
}

/** A field name in buf[start, end): one byte per character, so the encoder's rule applies as it is. */
function fieldName(buf: Buffer, start: number, end: number, at: number): string {
  const name = buf.toString('latin1', start, end);
  if (!goodName(name)) throw new Malformed('E_WIRE_BAD_NAME', `field name at byte ${at} is empty, too long or has bad characters`);
  return name;
}

/** String values are C strings in Heartbeat: UTF-8 here, no NUL, no 0x13 (it means newline in classic). */
function text(buf: Buffer, start: number, end: number, name: string): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b === 0 || b === SPECIAL_SYM) throw new Malformed('E_WIRE_BAD_VALUE', `field "${name}" is not clean UTF-8 text`);
    if (b >= 0x80) ascii = false;
  }
  // Plain ASCII (nearly every value) is its own UTF-8: no validation pass needed.
  if (ascii) return buf.toString('latin1', start, end);
  const bytes = buf.subarray(start, end);
  if (!isUtf8(bytes)) throw new Malformed('E_WIRE_BAD_VALUE', `field "${name}" is not clean UTF-8 text`);
  return bytes.toString('utf8');
}

function base64(bytes: Buffer, name: string): Buffer {
  const s = bytes.toString('latin1');
  const value = Buffer.from(s, 'base64');
  // Node's decoder is lenient; only the one canonical spelling round-trips.
  if (value.toString('base64') !== s) {
    throw new Malformed('E_WIRE_BAD_VALUE', `field "${name}" is not canonical base64`);
  }
  return value;
}

function restoreNewlines(bytes: Buffer): Buffer {
  if (!bytes.includes(SPECIAL_SYM)) return bytes;
  return Buffer.from(bytes.map((b) => (b === SPECIAL_SYM ? 0x0a : b)));
}

// ---------------------------------------------------------------- encode

/** "###\n" fields "%%%\n": the part of a netstring packet the trailer signs. */
export function netstringPayload(message: HbMessage): Buffer {
  // Text runs are joined and turned into bytes once, a binary value copied as it is: a
  // heartbeat is signed and encoded ten times a second at a 100 ms keepalive.
  const parts: Buffer[] = [];
  let text = MSG_START_NETSTRING;
  for (const field of checked(message)) {
    const head = `(${field.type})${field.name}=`;
    if (field.type === FT_BINARY) {
      parts.push(Buffer.from(`${text}${head.length + field.value.length}:${head}`, 'utf8'), field.value);
      text = ',';
    } else {
      text += `${head.length + utf8Length(field.value)}:${head}${field.value},`;
    }
  }
  parts.push(Buffer.from(text + MSG_END_NETSTRING, 'utf8'));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

export function renderTrailer(trailer: Trailer): Buffer {
  const body = `${trailer.keyIndex} ${trailer.digest}`;
  return Buffer.from(`${body.length}:${body},`, 'latin1');
}

/** A whole netstring packet; without a trailer it is unsigned (see auth.ts sign()). */
export function encodeNetstring(message: HbMessage, trailer: Trailer | null = null): Buffer {
  return netstringPacket(netstringPayload(message), trailer);
}

/** The packet of an encoded payload (netstringPayload) and its trailer: the payload is not encoded twice. */
export function netstringPacket(payload: Buffer, trailer: Trailer | null): Buffer {
  return limited(trailer ? Buffer.concat([payload, renderTrailer(trailer)]) : payload);
}

/** A whole classic packet, NUL-terminated as Heartbeat's msg2wirefmt sends it. */
export function encodeClassic(message: HbMessage): Buffer {
  return limited(
    Buffer.concat([Buffer.from(MSG_START), classicLines(message), Buffer.from(MSG_END), Buffer.from([0])]),
  );
}

/** Re-encode a decode result: gives back the original bytes. */
export function encode(decoded: Decoded): Buffer {
  return decoded.format === 'netstring' ? encodeNetstring(decoded.message, decoded.trailer) : encodeClassic(decoded.message);
}

/**
 * The "name=value\n" lines of the classic form (msg2string_buf), optionally without one
 * field: Heartbeat's inner auth digest is computed over these lines minus "auth".
 */
export function classicLines(message: HbMessage, omit?: string): Buffer {
  return classicText(checked(message), omit);
}

/**
 * classicLines() of fields that need no check again: a decoded message's (decode() refused
 * what the encoder would) or one about to be encoded (the encoder checks it before it sends).
 * The inner auth digest is computed for every heartbeat sent and received.
 */
export function classicText(fields: readonly Field[], omit?: string): Buffer {
  let lines = '';
  for (const field of fields) {
    if (field.name === omit) continue;
    if (field.type === FT_BINARY) lines += `(1)${field.name}=${field.value.toString('base64')}\n`;
    else lines += `${field.name}=${field.value.includes('\n') ? field.value.replaceAll('\n', '\u0013') : field.value}\n`;
  }
  return Buffer.from(lines, 'utf8');
}

/** Refuse to encode what decode() would reject: we never send a packet a peer must drop. */
function checked(message: HbMessage): Field[] {
  const { fields } = message;
  if (fields.length === 0) throw new RangeError('cannot encode a message with no fields');
  if (fields.length > MAX_FIELDS) throw new RangeError(`cannot encode more than ${MAX_FIELDS} fields`);
  for (let k = 0; k < fields.length; k++) {
    const f = fields[k]!;
    if (!goodName(f.name)) throw new RangeError(`bad field name "${f.name}"`);
    // A heartbeat has about 15 fields: comparing with those before costs less than a Set.
    for (let e = 0; e < k; e++) if (fields[e]!.name === f.name) throw new RangeError(`field "${f.name}" appears twice`);
    if (f.type === FT_BINARY) {
      if (!Buffer.isBuffer(f.value)) throw new RangeError(`binary field "${f.name}" needs a Buffer`);
    } else if (f.type === FT_STRING) {
      if (typeof f.value !== 'string') throw new RangeError(`string field "${f.name}" needs a string`);
      if (utf8Length(f.value) < 0) throw new RangeError(`string field "${f.name}" has characters Heartbeat cannot carry`);
    } else {
      throw new RangeError(`field "${(f as Field).name}" has unsupported type`);
    }
  }
  return fields;
}

function limited(packet: Buffer): Buffer {
  if (packet.length > MAX_PACKET_BYTES) {
    throw new RangeError(`encoded packet of ${packet.length} bytes exceeds ${MAX_PACKET_BYTES}`);
  }
  return packet;
}

function startsWith(buf: Buffer, pos: number, marker: string): boolean {
  if (pos + marker.length > buf.length) return false;
  for (let i = 0; i < marker.length; i++) if (buf[pos + i] !== marker.charCodeAt(i)) return false;
  return true;
}
