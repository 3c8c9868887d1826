// The bearer token that lets an HTTP client ask for standby or takeover. It lives in a file
// (ha.cf `http_token_file`) that is re-read while hbd runs, so a chmod or a new token applies
// without a restart; a file that others could read disables the controls instead.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../lib/logger.js';
import { readSecretFile } from '../config/secret-file.js';

export type TokenState = { ok: true; digest: Buffer } | { ok: false; reason: string };

const TOKEN_MIN = 16;
const TOKEN_MAX = 4096;

export class BearerToken {
  private current: TokenState = { ok: false, reason: 'no http_token_file configured' };
  private checkedAt = -Infinity;

  constructor(
    readonly file: string | null,
    private readonly log: Logger,
  ) {}

  get state(): TokenState {
    return this.current;
  }

  /** Re-reads the token file (at most once a second unless forced) and logs when the controls turn on or off. */
  async refresh(force: boolean): Promise<void> {
    const now = performance.now();
    if (!force && now - this.checkedAt < 1000) return;
    this.checkedAt = now;
    const before = this.current;
    this.current = this.file ? await readToken(this.file) : { ok: false, reason: 'no http_token_file configured' };
    const after = this.current;
    if (force) {
      if (!after.ok && this.file) this.log.error(`HTTP API: standby and takeover disabled: ${after.reason}.`);
    } else if (before.ok !== after.ok || (!before.ok && !after.ok && before.reason !== after.reason)) {
      if (after.ok) this.log.info(`HTTP API: token file ${this.file} is usable again: standby and takeover enabled.`);
      else this.log.error(`HTTP API: standby and takeover disabled: ${after.reason}.`);
    }
  }
}

/**
 * The token file must be a regular file, not a symlink, no one but its owner can read or write
 * (mode 0600 or stricter), owned by root or by the user hbd runs as, holding one token of 16+
 * printable characters. Anything else disables the mutating endpoints: a world-readable token
 * is no secret. It is checked and read through one descriptor (readSecretFile).
 */
export async function readToken(path: string): Promise<TokenState> {
  const r = await readSecretFile(path, { maxBytes: TOKEN_MAX, createHint: `create it with one random token (openssl rand -hex 32 > ${path})` });
  if (!r.ok) return { ok: false, reason: `token file ${path} ${r.problem}` };
  const text = r.text.trim();
  if (!/^[\x21-\x7e]+$/.test(text)) return { ok: false, reason: `token file ${path} must hold one token of printable characters without spaces` };
  if (text.length < TOKEN_MIN) return { ok: false, reason: `the token in ${path} is shorter than ${TOKEN_MIN} characters; use e.g. openssl rand -hex 32` };
  return { ok: true, digest: createHash('sha256').update(text).digest() };
}
