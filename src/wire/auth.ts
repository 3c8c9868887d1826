// Signing as Heartbeat does it (heartbeat/ha_msg_internal.c add_msg_auth, cl_netstring.c).
//
// A packet carries two digests, both made with the `auth N` key of authkeys:
//   - the inner field  auth=<N> <hex>, last field of the message, computed over the
//     classic lines of every other field ("name=value\n", binary as "(1)name=<base64>\n");
//   - for the netstring form, the trailer  <len>:<N> <hex>,  computed over the payload
//     bytes "###\n" .. "%%%\n", the inner auth field included.
// Heartbeat itself checks only the trailer on netstring packets and only the inner field
// on classic ones. We check every digest a packet carries: a present but wrong digest is
// never a good sign.

import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { AuthKey, AuthKeys, AuthMethod } from '../config/types.js';
import {
  classicText,
  decode,
  encodeClassic,
  netstringPacket,
  netstringPayload,
  type DecodeResult,
  type WireErrorCode,
  type WireFormat,
} from './codec.js';
import { F_AUTH, FT_STRING, type HbMessage } from './message.js';
import { clip } from '../lib/clip.js';

export type AuthErrorCode = 'E_AUTH_UNSIGNED' | 'E_AUTH_MALFORMED' | 'E_AUTH_UNKNOWN_KEY' | 'E_AUTH_UNKEYED' | 'E_AUTH_BAD_DIGEST';

export type VerifyResult =
  | { ok: true; keyIndex: number; format: WireFormat; message: HbMessage }
  /** `stage`: the packet could not be decoded, or decoded but failed authentication. */
  | { ok: false; stage: 'decode'; code: WireErrorCode; reason: string }
  | { ok: false; stage: 'auth'; code: AuthErrorCode; reason: string };

/**
 * The hex digest Heartbeat's HBauth plugins print.
 *  crc:  CRC-32, polynomial 0x04C11DB7 fed MSB first, initial value 0, result inverted,
 *        printed with "%lx" (no leading zeros). The secret is not used: it detects
 *        accidents, not attackers.
 *  md5, sha1: HMAC (RFC 2104) keyed with the secret's bytes, lowercase hex.
 *  sha256, sha512: ours, HMAC the same way (real Heartbeat has no such plugin).
 */
export function authDigest(method: AuthMethod, secret: string, data: Uint8Array): string {
  if (method === 'crc') return crc(data).toString(16);
  return createHmac(method, secretKey(secret)).update(data).digest('hex');
}

/**
 * The secret as a key object, made once per secret: preparing a key for every digest was the
 * largest single cost of a heartbeat (4 digests per heartbeat sent and received). Authkeys
 * hold a handful of secrets; a reload's new ones are added, and kept (a few bytes each).
 */
const keyObjects = new Map<string, KeyObject>();
function secretKey(secret: string): KeyObject {
  let k = keyObjects.get(secret);
  if (!k) {
    if (keyObjects.size >= 64) keyObjects.clear(); // many reloads with new secrets: start afresh
    k = createSecretKey(Buffer.from(secret, 'utf8'));
    keyObjects.set(secret, k);
  }
  return k;
}

/**
 * What the inner auth field signs: the classic lines of every field but "auth". Unchecked:
 * sign() encodes the message next, which refuses a field a peer could not read, and verify()
 * has a message decode() accepted.
 */
export function authText(message: HbMessage): Buffer {
  return classicText(message.fields, F_AUTH);
}

/**
 * The bytes Heartbeat would put on the wire for `message` signed with `key` (normally
 * AuthKeys.active). The message itself is left alone; an existing auth field is replaced
 * where it stands, otherwise appended last, as ha_msg_mod does.
 */
export function sign(message: HbMessage, key: AuthKey, format: WireFormat = 'netstring'): Buffer {
  const signed = message.clone();
  signed.set(F_AUTH, `${key.index} ${authDigest(key.method, key.secret, authText(signed))}`);
  if (format === 'classic') return encodeClassic(signed);
  const payload = netstringPayload(signed);
  return netstringPacket(payload, { keyIndex: key.index, digest: authDigest(key.method, key.secret, payload) });
}

/**
 * Check a received packet (raw bytes, or what decode() returned) against authkeys.
 * Any key in the file may have signed it, as in Heartbeat, except a crc key that is not the
 * active one (see check). Never throws on bad input.
 */
export function verify(input: Uint8Array | DecodeResult, keys: AuthKeys): VerifyResult {
  const decoded = input instanceof Uint8Array ? decode(input) : input;
  if (!decoded.ok) return { ok: false, stage: 'decode', code: decoded.code, reason: decoded.reason };
  const { message } = decoded;

  const authField = message.get(F_AUTH);
  let inner: Token | null = null;
  if (authField) {
    if (authField.type !== FT_STRING) return fail('E_AUTH_MALFORMED', 'the auth field is not a string');
    inner = parseToken(authField.value);
    if (!inner) return fail('E_AUTH_MALFORMED', `auth field "${clip(authField.value)}" is not "<keyidx> <hex>"`);
  }

  let keyIndex: number;
  if (decoded.format === 'netstring') {
    if (!decoded.trailer) return fail('E_AUTH_UNSIGNED', 'netstring packet without its auth trailer');
    const { keyIndex: index, digest } = decoded.trailer;
    const bad = check(keys, { index, digest }, decoded.payload, 'trailer');
    if (bad) return bad;
    keyIndex = index;
  } else {
    if (!inner) return fail('E_AUTH_UNSIGNED', 'classic packet without an auth field');
    keyIndex = inner.index;
  }
  if (inner) {
    const bad = check(keys, inner, authText(message), 'auth field');
    if (bad) return bad;
  }
  return { ok: true, keyIndex, format: decoded.format, message };
}

interface Token {
  index: number;
  digest: string;
}

function parseToken(value: string): Token | null {
  const m = /^(0|[1-9][0-9]{0,2}) ([0-9a-f]{1,128})$/.exec(value);
  return m ? { index: Number(m[1]), digest: m[2]! } : null;
}

function check(keys: AuthKeys, token: Token, data: Buffer, what: string): VerifyResult | null {
  const key = keys.keys.find((k) => k.index === token.index) ?? (keys.active.index === token.index ? keys.active : undefined);
  if (!key) return fail('E_AUTH_UNKNOWN_KEY', `${what} names key ${token.index}, which authkeys does not have`);
  // A crc "signature" needs no secret: anyone can make one. Unless crc is the active method
  // (the operator chose no authentication), accepting it would let a forger past a secret key.
  if (key.method === 'crc' && key.index !== keys.active.index) {
    return fail('E_AUTH_UNKEYED', `${what} names key ${key.index} (crc), which needs no secret: refused while key ${keys.active.index} (${keys.active.method}) is active`);
  }
  const expected = Buffer.from(authDigest(key.method, key.secret, data), 'latin1');
  const got = Buffer.from(token.digest, 'latin1');
  // The length of a digest is no secret; its content is, so compare in constant time.
  if (expected.length !== got.length || !timingSafeEqual(expected, got)) {
    return fail('E_AUTH_BAD_DIGEST', `${what} digest does not match key ${key.index} (${key.method})`);
  }
  return null;
}

function fail(code: AuthErrorCode, reason: string): VerifyResult {
  return { ok: false, stage: 'auth', code, reason };
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let bit = 0; bit < 8; bit++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    table[i] = c >>> 0;
  }
  return table;
})();

function crc(data: Uint8Array): number {
  let c = 0;
  for (const byte of data) c = ((c << 8) ^ CRC_TABLE[((c >>> 24) ^ byte) & 0xff]!) >>> 0;
  return ~c >>> 0;
}
