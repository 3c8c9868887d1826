// What a field may hold, character by character, on the way in (codec.ts decode) and on the
// way out (its encoder's checks): the two sides must agree, or we would send what a peer drops.
// Loops over char codes rather than regular expressions: a heartbeat is checked ten times a second.

export const MAX_NAME_BYTES = 128;
/** Stands for '\n' inside a classic string value (cl_msg_types.c). */
export const SPECIAL_SYM = 0x13;

export function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** A character of a field name: [A-Za-z0-9_.-]. */
function isNameByte(b: number): boolean {
  return (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || isDigit(b) || b === 0x5f || b === 0x2e || b === 0x2d;
}

/** A field name: 1 to MAX_NAME_BYTES of [A-Za-z0-9_.-], for decoder and encoder alike. */
export function goodName(name: string): boolean {
  if (name.length === 0 || name.length > MAX_NAME_BYTES) return false;
  for (let i = 0; i < name.length; i++) if (!isNameByte(name.charCodeAt(i))) return false;
  return true;
}

/**
 * The UTF-8 length of a string value, or -1 if it cannot travel: a NUL or 0x13 (no place in a
 * C string value), or a lone surrogate (it would not survive UTF-8). What text() accepts on the
 * way in; counted here because Buffer.byteLength is a call into C++ per field.
 */
export function utf8Length(v: string): number {
  let bytes = v.length;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0 || c === SPECIAL_SYM) return -1;
    } else if (c < 0x800) bytes += 1;
    else if (c < 0xd800 || c > 0xdfff) bytes += 2;
    else {
      // A high surrogate followed by a low one: 4 bytes for the pair (2 UTF-16 units).
      if (c >= 0xdc00 || i + 1 === v.length) return -1;
      const next = v.charCodeAt(i + 1);
      if (next < 0xdc00 || next > 0xdfff) return -1;
      bytes += 2;
      i++;
    }
  }
  return bytes;
}
