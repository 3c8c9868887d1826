// The bearer token that lets an HTTP client ask for standby or takeover. It lives in a file
// (ha.cf `http_token_file`) that is re-read while hbd runs, so a chmod or a new token applies
// without a restart; a file that others could read disables the controls instead.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../lib/logger.js';

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
 * The token file must be a regular file no one but its owner can read or write (mode 0600 or
 * stricter), owned by root or by the user hbd runs as, holding one token of 16+ printable
 * characters. Anything else disables the mutating endpoints: a world-readable token is no secret.
 */
export async function readToken(path: string): Promise<TokenState> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, reason: `token file ${path} cannot be read (${code === 'ENOENT' ? 'it does not exist' : code ?? (err as Error).message}): create it with one random token, chmod 600` };
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { ok: false, reason: `token file ${path} is not a regular file` };
    const mode = st.mode & 0o777;
    if (mode & 0o077) {
      return { ok: false, reason: `token file ${path} has mode ${mode.toString(8).padStart(4, '0')}: others can read or change it; run chmod 600 ${path}` };
    }
    const me = typeof process.getuid === 'function' ? process.getuid() : 0;
    if (st.uid !== 0 && st.uid !== me) return { ok: false, reason: `token file ${path} is owned by uid ${st.uid}, not by root or the hbd user (uid ${me}); chown it` };
    if (st.size > TOKEN_MAX) return { ok: false, reason: `token file ${path} is over ${TOKEN_MAX} bytes; it must hold one token` };
    const text = (await fh.readFile({ encoding: 'utf8' })).trim();
    if (!/^[\x21-\x7e]+$/.test(text)) return { ok: false, reason: `token file ${path} must hold one token of printable characters without spaces` };
    if (text.length < TOKEN_MIN) return { ok: false, reason: `the token in ${path} is shorter than ${TOKEN_MIN} characters; use e.g. openssl rand -hex 32` };
    return { ok: true, digest: createHash('sha256').update(text).digest() };
  } catch (err) {
    return { ok: false, reason: `token file ${path}: ${(err as Error).message}` };
  } finally {
    await fh.close().catch(() => undefined);
  }
}
