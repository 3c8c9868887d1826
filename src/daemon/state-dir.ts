// What a node keeps across restarts, like Heartbeat's /var/lib/heartbeat: its generation
// (hg, bumped on every start so peers can tell old packets from new) and its uuid.
import { mkdirSync, readFileSync, writeFileSync, renameSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

export interface Identity {
  generation: number;
  uuid: Buffer;
}

function writeDurably(path: string, data: string | Buffer): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600 });
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/**
 * Reads, bumps and persists the generation before anything is sent. The new value is at
 * least the wall-clock seconds, so even a wiped state directory yields a generation newer
 * than any packet an attacker recorded earlier (Heartbeat starts from the time, too).
 */
export function loadIdentity(dir: string, wallSeconds: number = Math.floor(Date.now() / 1000)): Identity {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const genPath = join(dir, 'hb_generation');
  let stored = 0;
  try {
    const text = readFileSync(genPath, 'utf8').trim();
    if (/^\d{1,15}$/.test(text)) stored = Number(text);
  } catch {
    /* first start */
  }
  const generation = Math.max(stored + 1, wallSeconds);
  writeDurably(genPath, `${generation}\n`);

  const uuidPath = join(dir, 'hb_uuid');
  let uuid: Buffer;
  try {
    uuid = readFileSync(uuidPath);
    if (uuid.length !== 16) throw new Error('bad uuid');
  } catch {
    uuid = randomBytes(16);
    writeDurably(uuidPath, uuid);
  }
  return { generation, uuid };
}
