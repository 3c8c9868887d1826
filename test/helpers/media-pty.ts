// A real pty pair joined by socat, standing in for a null-modem cable between two serial
// ports, plus a raw end for tests that write bytes on the wire themselves.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tty from 'node:tty';
import { promisify } from 'node:util';
import { signalPid } from '../../src/lib/signal.js';
import { pollUntil, waitFor } from '../../src/lib/wait.js';

const run = promisify(execFile);

export interface PtyPair {
  /** Paths of the two ends (symlinks to /dev/pts/N). */
  a: string;
  b: string;
  /** Kills socat (by PID) and removes the temp dir; idempotent. */
  dispose(): Promise<void>;
}

export async function ptyPair(): Promise<PtyPair> {
  const dir = await mkdtemp(join(tmpdir(), 'hbt-media-pty-'));
  const a = join(dir, 'A');
  const b = join(dir, 'B');
  const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  socat.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => socat.once('exit', () => resolve()));
  socat.once('error', () => undefined); // reported below as "did not start"
  const dispose = async (): Promise<void> => {
    const pid = socat.pid;
    if (socat.exitCode === null && socat.signalCode === null && pid) {
      signalPid(pid, 'SIGTERM');
      const timer = setTimeout(() => signalPid(pid, 'SIGKILL'), 2_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const made = await pollUntil(() => (existsSync(a) && existsSync(b)) || (socat.exitCode !== null && 'exited'), { timeoutMs: 5_000, pollMs: 20 });
  if (made !== true) {
    await dispose();
    throw new Error(`socat did not make a pty pair: ${stderr.trim() || 'timeout'}`);
  }
  return { a, b, dispose };
}

export interface RawEnd {
  write(data: Buffer | string): void;
  /** Everything read so far. */
  read(): Buffer;
  /** Waits until what was read contains `needle`. */
  waitFor(needle: string, timeoutMs?: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** One end of a pty used byte by byte, without any framing. */
export async function rawEnd(path: string): Promise<RawEnd> {
  const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
  await run('stty', ['-F', path, 'raw', '-echo']);
  const reader = new tty.ReadStream(fd);
  let got = Buffer.alloc(0);
  reader.on('data', (chunk: Buffer) => (got = Buffer.concat([got, chunk])));
  return {
    write: (data) => void fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'latin1') : data),
    read: () => got,
    waitFor: (needle, timeoutMs = 5_000) =>
      waitFor(needle, () => got.includes(needle, 0, 'latin1') && got, {
        timeoutMs,
        pollMs: 10,
        error: () => new Error(`raw end: ${JSON.stringify(needle)} not seen; got ${JSON.stringify(got.toString('latin1'))}`),
      }),
    close: () =>
      new Promise<void>((resolve) => {
        reader.once('close', () => resolve());
        reader.destroy();
      }),
  };
}
