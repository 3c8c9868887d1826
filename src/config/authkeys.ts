// authkeys: which key signs our packets (`auth N`) and every key that may verify a peer's.
// Read as Heartbeat's auth.c reads it: "auth N" (also "auth1"), then "N method [key]" lines,
// the key being the first word after the method — a quoted phrase keeps only its first word,
// quote included, exactly as Heartbeat does, so both sign with the same bytes.
import { IssueList, splitConfigLines } from './issues.js';
import { readSecretFileSync } from './secret-file.js';
import type { AuthKey, AuthKeys, AuthMethod } from './types.js';

const METHODS: readonly AuthMethod[] = ['crc', 'md5', 'sha1', 'sha256', 'sha512'];
const MAX_KEYS = 16; // Heartbeat's MAXAUTH: key numbers 0..15

export function parseAuthkeys(text: string, file: string, issues: IssueList): AuthKeys | null {
  const lines = splitConfigLines(text, file, issues);
  if (!lines) return null;
  const keys: AuthKey[] = [];
  /** The line that defines each key, for warnings about it. */
  const keyLine = new Map<number, number>();
  let authNum: number | null = null;
  let authLine = 0;

  lines.forEach((full, i) => {
    const line = i + 1;
    const text = full.trim();
    if (!text || text.startsWith('#')) return;
    const auth = /^auth\s*(\S*)(.*)$/.exec(text);
    if (auth) {
      if (!/^\d+$/.test(auth[1] ?? '')) {
        issues.error(file, line, `"${text.slice(0, 40)}": auth needs the number of the key to sign with — write e.g. "auth 1"`);
        return;
      }
      if (authNum !== null) issues.warn(file, line, `a second auth line overrides the one on line ${authLine}`);
      authNum = Number(auth[1]);
      authLine = line;
      return;
    }
    const m = /^(\S+)\s+(\S+)(?:\s+(\S+))?(.*)$/.exec(text);
    if (!m || !/^\d+$/.test(m[1] ?? '')) {
      issues.error(file, line, 'not a key line — write "N method key", e.g. "1 sha1 SECRET" (or "2 crc")');
      return;
    }
    const index = Number(m[1]);
    const method = (m[2] ?? '').toLowerCase();
    const secret = m[3] ?? '';
    if (index >= MAX_KEYS) {
      issues.error(file, line, `key number ${index} is out of range — use 0..${MAX_KEYS - 1}`);
      return;
    }
    if (!METHODS.includes(method as AuthMethod)) {
      issues.error(file, line, `unknown authentication method "${m[2]}" — use sha1 (or md5, crc; sha256/sha512 with heartbeat-ts only)`);
      return;
    }
    if (method === 'crc' && secret) {
      issues.error(file, line, 'crc does not use a key — remove the key, or use sha1 with it');
      return;
    }
    if (method !== 'crc' && !secret) {
      issues.error(file, line, `${method} requires a key — write "${index} ${method} SECRET"`);
      return;
    }
    if ((m[4] ?? '').trim() || /^["']/.test(secret)) {
      // The message leaves the key out: warnings are printed and logged, keys are not.
      issues.warn(file, line, `the key contains spaces or quotes; like Heartbeat, only the first word (${secret.length} characters${/^["']/.test(secret) ? ', its opening quote included' : ''}) is used as the key — use a key without spaces`);
    }
    if (keys.some((k) => k.index === index)) issues.warn(file, line, `key ${index} is defined twice; the later line wins`);
    const at = keys.findIndex((k) => k.index === index);
    const key: AuthKey = { index, method: method as AuthMethod, secret };
    if (at >= 0) keys[at] = key;
    else keys.push(key);
    keyLine.set(index, line);
  });

  if (authNum === null) {
    issues.error(file, 0, 'missing "auth N" line that picks the key to sign with — add e.g. "auth 1" as the first line');
    return null;
  }
  const active = keys.find((k) => k.index === authNum);
  if (!active) {
    issues.error(file, authLine, `auth ${authNum} picks key ${authNum}, but no key ${authNum} is defined — add a line "${authNum} sha1 SECRET" or change the auth number`);
    return null;
  }
  if (active.method === 'crc') {
    issues.warn(file, authLine, 'signing with crc gives no protection against forged packets — use sha1 (or sha256) with a secret key');
  }
  for (const k of keys) {
    if (k.method !== 'crc' || k === active) continue;
    issues.warn(file, keyLine.get(k.index) ?? 0, `key ${k.index} (crc) is ignored: a crc "signature" needs no secret, so anyone could forge packets with it while key ${active.index} (${active.method}) is active; heartbeat-ts accepts crc only as the active key — remove this line`);
  }
  return { active, keys };
}

/** authkeys is a few lines; anything much larger is not one. */
const AUTHKEYS_MAX_BYTES = 64 * 1024;

/**
 * The text of authkeys, or null with the reason in `issues`. Like Heartbeat, a key file that
 * group or others can read is refused (any group/other bit, stricter than Heartbeat); and so
 * is a symlink, or a file owned by anyone but root or hbd's user, since they could change
 * the keys (see secret-file.ts).
 */
export function readAuthkeysFile(path: string, issues: IssueList): string | null {
  const r = readSecretFileSync(path, { maxBytes: AUTHKEYS_MAX_BYTES, createHint: 'create it (see the README for an example)' });
  // A file refused for its mode or owner is still parsed, so that all its errors show at once;
  // the configuration is refused either way.
  if (!r.ok) issues.error(path, 0, r.problem);
  if (r.text === undefined) return null;
  if (r.text.trim() === '') {
    issues.error(path, 0, 'is empty — see the README for an example of this file');
    return null;
  }
  return r.text;
}

/**
 * The keys with each secret replaced by its length, for anything printed or served: a
 * configuration dump must not hand out the cluster's keys. crc has no secret to hide.
 */
export function redactKeys(auth: AuthKeys): AuthKeys {
  const hide = (k: AuthKey): AuthKey => ({ ...k, secret: k.secret ? `(redacted, ${k.secret.length} chars)` : '' });
  return { active: hide(auth.active), keys: auth.keys.map(hide) };
}
