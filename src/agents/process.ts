// Child processes for agents: argv arrays only (never a shell), a hard timeout that takes the
// whole process group down, and output kept within a fixed budget.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { readdir } from 'node:fs/promises';
import { isDeadState, readProcStatAsync } from '../lib/proc-stat.js';
import { pollUntil } from '../lib/wait.js';
import { baseEnv } from './env.js';

/** Output kept per call; the rest is counted, so a chatty agent cannot eat the daemon's memory. */
export const OUTPUT_LIMIT_BYTES = 64 * 1024;
export const DEFAULT_KILL_GRACE_MS = 2000;
/**
 * After the main process exits, how long to wait for its pipes to close. A script that
 * backgrounds a daemon without closing stdout would otherwise hold the call open forever.
 */
const PIPE_DRAIN_MS = 100;
const GROUP_POLL_MS = 25;

/** Keeps the first `limit` bytes written to it and counts the rest. */
export class BoundedText {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  dropped = 0;

  constructor(private readonly limit = OUTPUT_LIMIT_BYTES) {}

  push(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const room = this.limit - this.kept;
    if (room > 0) {
      const part = buf.length <= room ? buf : buf.subarray(0, room);
      this.chunks.push(part);
      this.kept += part.length;
    }
    this.dropped += Math.max(0, buf.length - Math.max(room, 0));
  }

  /** The kept text, with a note of how much was left out. */
  text(): string {
    const body = Buffer.concat(this.chunks).toString('utf8');
    return this.dropped > 0 ? `${body}\n[... ${this.dropped} more bytes of output not kept]` : body;
  }

  /** Only what was kept, without the note (for judging what a script said). */
  keptText(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export interface ProcessOptions {
  timeoutMs: number;
  killGraceMs?: number;
  /** Default baseEnv(): never hbd's own environment, which may hold secrets. */
  env?: NodeJS.ProcessEnv;
  outputLimitBytes?: number;
  /** Written to the child's stdin, which is then closed (fence agents read key=value lines there). */
  stdin?: string;
}

export interface ProcessResult {
  argv: string[];
  pid: number | null;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** stdout and stderr interleaved as they arrived. */
  output: BoundedText;
  /** stdout alone: ResourceManager judges `status` by what the script prints there. */
  stdout: BoundedText;
  /** Set when the process could not be started at all (ENOENT, EACCES...). */
  spawnError: NodeJS.ErrnoException | null;
  durationMs: number;
}

/**
 * Whether any live process is left in the group. A zombie is not live: an orphan killed with
 * its group waits for init to reap it, and some container inits reap late or never.
 */
async function groupAlive(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d));
  } catch {
    return true; // no /proc: trust kill(2)
  }
  const states = await Promise.all(
    pids.map(async (pid) => {
      const st = await readProcStatAsync(Number(pid));
      return st !== null && st.pgrp === pgid && !isDeadState(st.state);
    }),
  );
  return states.includes(true);
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* the group is already gone */
  }
}

/**
 * SIGTERM to the group, then SIGKILL after the grace period if anything of it is left.
 * Resolves once the group is gone or SIGKILL was sent.
 */
async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  killGroup(pgid, 'SIGTERM');
  if (await pollUntil(async () => !(await groupAlive(pgid)), { timeoutMs: graceMs, pollMs: GROUP_POLL_MS })) return;
  killGroup(pgid, 'SIGKILL');
}

/** Waits up to `ms` for a stream to end; afterwards it keeps being read (and discarded) unref'd. */
function settleStream(stream: Readable | null, ms: number): Promise<void> {
  if (!stream || stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stream.removeListener('close', done);
      // A grandchild still holds the pipe: don't close it (it would die of SIGPIPE), don't let
      // it block on a full pipe either, and don't let it keep our event loop alive.
      (stream as Readable & { unref?: () => void }).unref?.();
      resolve();
    }, ms);
    function done(): void {
      clearTimeout(timer);
      resolve();
    }
    stream.once('close', done);
  });
}

/** Runs argv to its end (or its timeout) in a new process group. Never rejects. */
export function runProcess(argv: string[], opts: ProcessOptions): Promise<ProcessResult> {
  const started = performance.now();
  const limit = opts.outputLimitBytes ?? OUTPUT_LIMIT_BYTES;
  const output = new BoundedText(limit);
  const stdout = new BoundedText(limit);
  const [cmd, ...args] = argv;
  const result = (partial: Partial<ProcessResult>): ProcessResult => ({
    argv,
    pid: null,
    exitCode: null,
    signal: null,
    timedOut: false,
    output,
    stdout,
    spawnError: null,
    durationMs: performance.now() - started,
    ...partial,
  });
  if (!cmd) return Promise.resolve(result({ spawnError: Object.assign(new Error('empty argv'), { code: 'EINVAL' }) }));

  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      // detached: the child leads its own process group, so a timeout can end everything it
      // started (kill(-pgid)), and a terminal's signals aimed at the daemon don't reach it.
      child = spawn(cmd, args, { detached: true, stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: opts.env ?? baseEnv() });
      if (opts.stdin !== undefined) {
        child.stdin?.on('error', () => undefined); // a child that exits without reading: EPIPE is no news
        child.stdin?.end(opts.stdin);
      }
    } catch (err) {
      resolve(result({ spawnError: err as NodeJS.ErrnoException }));
      return;
    }
    let timedOut = false;
    let killing: Promise<void> = Promise.resolve();
    const pid = child.pid ?? null;

    child.stdout?.on('data', (d: Buffer) => {
      output.push(d);
      stdout.push(d);
    });
    child.stderr?.on('data', (d: Buffer) => output.push(d));

    const timer = setTimeout(() => {
      if (pid === null) return;
      timedOut = true;
      killing = terminateGroup(pid, opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    }, opts.timeoutMs);

    child.once('error', (err: NodeJS.ErrnoException) => {
      // Only spawn failures arrive here without a following 'exit'.
      if (child.pid !== undefined) return;
      clearTimeout(timer);
      resolve(result({ spawnError: err }));
    });

    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      void (async () => {
        await killing;
        if (timedOut && pid !== null && (await groupAlive(pid))) await terminateGroup(pid, 0);
        await Promise.all([settleStream(child.stdout, PIPE_DRAIN_MS), settleStream(child.stderr, PIPE_DRAIN_MS)]);
        resolve(result({ pid, exitCode: code, signal, timedOut }));
      })();
    });
  });
}

export interface BackgroundOutcome {
  exitCode: number | null;
  signal: string | null;
  output: string;
  spawnError: NodeJS.ErrnoException | null;
  /** Ended by kill() (a stop, a newer start): not a failure. */
  killed: boolean;
}

/** A process that runs on its own while the caller goes on. */
export interface BackgroundProcess {
  readonly argv: string[];
  readonly pid: number | null;
  /** Resolves once the process runs (null) or failed to start (the error). */
  readonly spawned: Promise<NodeJS.ErrnoException | null>;
  readonly exited: Promise<BackgroundOutcome>;
  /** True until `exited` settles. */
  running(): boolean;
  kill(): void;
}

/** Starts argv without waiting for it; a safety limit ends it after `maxRunMs`. */
export function spawnBackground(argv: string[], opts: { env?: NodeJS.ProcessEnv; maxRunMs: number }): BackgroundProcess {
  const output = new BoundedText(4096);
  const [cmd, ...args] = argv;
  let killed = false;
  let done = false;
  let child: ChildProcess | null = null;
  let spawnErr: NodeJS.ErrnoException | null = null;
  try {
    if (!cmd) throw Object.assign(new Error('empty argv'), { code: 'EINVAL' });
    child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? baseEnv() });
  } catch (err) {
    spawnErr = err as NodeJS.ErrnoException;
  }
  const c = child;
  const spawned = new Promise<NodeJS.ErrnoException | null>((resolve) => {
    if (!c) return resolve(spawnErr);
    c.once('spawn', () => resolve(null));
    c.once('error', (err: NodeJS.ErrnoException) => resolve(err));
  });
  const exited = new Promise<BackgroundOutcome>((resolve) => {
    if (!c) {
      done = true;
      return resolve({ exitCode: null, signal: null, output: '', spawnError: spawnErr, killed });
    }
    c.stdout?.on('data', (d: Buffer) => output.push(d));
    c.stderr?.on('data', (d: Buffer) => output.push(d));
    const safety = setTimeout(() => c.kill('SIGKILL'), opts.maxRunMs);
    c.once('error', (err: NodeJS.ErrnoException) => {
      if (c.pid !== undefined) return;
      clearTimeout(safety);
      done = true;
      resolve({ exitCode: null, signal: null, output: '', spawnError: err, killed });
    });
    c.once('close', (code, signal) => {
      clearTimeout(safety);
      done = true;
      resolve({ exitCode: code, signal, output: output.text(), spawnError: null, killed });
    });
  });
  return {
    argv,
    pid: c?.pid ?? null,
    spawned,
    exited,
    running: () => !done,
    kill: () => {
      if (done || !c) return;
      killed = true;
      c.kill('SIGTERM');
    },
  };
}
