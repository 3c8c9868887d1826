// Reading a file that holds a secret (authkeys, the HTTP token) so that what was checked is
// what is read: the file is opened without following a symlink at its last component, its
// type, owner and mode are checked on the open descriptor (fstat), and the text is read from
// that same descriptor. A check by path and a second open by path would let anyone who can
// rename or re-link the file in between hand us another one.
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type Stats } from 'node:fs';
import { lstat, open } from 'node:fs/promises';

/**
 * A refused file's `text` is there when the file itself could be read but is not trusted (its
 * mode or owner): its content is then only good for reporting its other errors at once.
 */
export type SecretRead = { ok: true; text: string } | { ok: false; problem: string; text?: string };

export interface SecretFileOptions {
  /** Larger is refused: such a file holds a few lines. */
  maxBytes: number;
  /** What to do when the file does not exist, e.g. "create it with one random token". */
  createHint: string;
}

// O_NONBLOCK: opening a FIFO planted under the name must not hang hbd (fstat then refuses it);
// it changes nothing for a regular file.
const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const CHUNK = 4096;

/** Whom the file may belong to: root, or the user hbd runs as (a non-root test or service). */
function ownUid(): number {
  return typeof process.geteuid === 'function' ? process.geteuid() : 0;
}

/** Why an open failed, and what to do about it. `isLink` is asked only for ELOOP. */
function openProblem(err: unknown, path: string, o: SecretFileOptions, isLink: boolean): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `does not exist — ${o.createHint}, then run "chmod 600 ${path}"`;
  if (code === 'ELOOP' && isLink) {
    return `is a symbolic link; a secret is not read through a link, since whoever can change the link chooses the secret — replace the link with the file itself (cp --remove-destination "$(readlink -f ${path})" ${path}), then run "chmod 600 ${path}"`;
  }
  if (code === 'EACCES') return `cannot be read (EACCES) — hbd must run as root or as the file's owner`;
  return `cannot be read (${code ?? (err as Error).message})`;
}

/** Why the opened file cannot be read as a secret file at all, or null. */
function shapeProblem(st: Stats, o: SecretFileOptions): string | null {
  if (!st.isFile()) return 'is not a regular file — it must be a plain file holding the secret';
  if (st.size > o.maxBytes) return `is ${st.size} bytes; such a file holds a few lines (at most ${o.maxBytes} bytes) — check the path`;
  return null;
}

/** Why the opened file's secret cannot be trusted (others could read or change it), or null. */
function trustProblem(st: Stats, path: string): string | null {
  const mode = st.mode & 0o777;
  if (mode & 0o077) {
    return `has mode ${mode.toString(8).padStart(4, '0')}: group or others can read or change it — run "chmod 600 ${path}"`;
  }
  const me = ownUid();
  if (st.uid !== 0 && st.uid !== me) {
    const who = me === 0 ? 'root' : `root or the user hbd runs as (uid ${me})`;
    return `is owned by uid ${st.uid}, not by ${who}, so that user can change it — run "chown root ${path}"${me === 0 ? '' : ` (or chown it to uid ${me})`}`;
  }
  return null;
}

/** The verdict on a file whose `len` bytes were read into `buf`. */
function verdict(buf: Buffer, len: number, untrusted: string | null, o: SecretFileOptions): SecretRead {
  if (len > o.maxBytes) return { ok: false, problem: `grew over ${o.maxBytes} bytes while being read — check what writes to it` };
  const text = buf.subarray(0, len).toString('utf8');
  return untrusted ? { ok: false, problem: untrusted, text } : { ok: true, text };
}

export function readSecretFileSync(path: string, o: SecretFileOptions): SecretRead {
  let fd: number;
  try {
    fd = openSync(path, FLAGS);
  } catch (err) {
    const isLink = (err as NodeJS.ErrnoException).code === 'ELOOP' && isSymlinkSync(path);
    return { ok: false, problem: openProblem(err, path, o, isLink) };
  }
  try {
    const st = fstatSync(fd);
    const problem = shapeProblem(st, o);
    if (problem) return { ok: false, problem };
    const buf = Buffer.alloc(o.maxBytes + 1);
    let len = 0;
    while (len < buf.length) {
      const n = readSync(fd, buf, len, Math.min(CHUNK, buf.length - len), null);
      if (n === 0) break;
      len += n;
    }
    return verdict(buf, len, trustProblem(st, path), o);
  } catch (err) {
    return { ok: false, problem: `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  } finally {
    closeSync(fd);
  }
}

export async function readSecretFile(path: string, o: SecretFileOptions): Promise<SecretRead> {
  let fh;
  try {
    fh = await open(path, FLAGS);
  } catch (err) {
    const isLink = (err as NodeJS.ErrnoException).code === 'ELOOP' && (await lstat(path).then((st) => st.isSymbolicLink(), () => false));
    return { ok: false, problem: openProblem(err, path, o, isLink) };
  }
  try {
    const st = await fh.stat();
    const problem = shapeProblem(st, o);
    if (problem) return { ok: false, problem };
    const buf = Buffer.alloc(o.maxBytes + 1);
    let len = 0;
    while (len < buf.length) {
      const { bytesRead } = await fh.read(buf, len, Math.min(CHUNK, buf.length - len), null);
      if (bytesRead === 0) break;
      len += bytesRead;
    }
    return verdict(buf, len, trustProblem(st, path), o);
  } catch (err) {
    return { ok: false, problem: `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

function isSymlinkSync(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
