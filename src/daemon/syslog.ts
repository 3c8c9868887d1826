// Syslog through one long-running util-linux `logger` child.
//
// Node cannot open the unix datagram socket /dev/log (node:dgram has no AF_UNIX), and a
// native addon is not worth it for a few lines a second. `logger --prio-prefix` reads one
// message per stdin line and takes each line's priority from a leading `<PRI>`, so a single
// child serves every severity. Everything here is best effort: a missing binary, a missing
// socket or a dying child must never take the daemon down, only cost log lines.

import { spawn, type ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';

/** Facility numbers from <syslog.h>; the names ha.cf's `logfacility` accepts. */
export const FACILITIES: Readonly<Record<string, number>> = Object.freeze({
  // Userspace cannot really log as kern: logger (like glibc's syslog()) turns facility 0
  // into `user`. Accepted because Heartbeat accepts it.
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  security: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
});

/** Syslog severities (RFC 5424 numbering). */
export const SEVERITY = Object.freeze({
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
} as const);

export type Severity = (typeof SEVERITY)[keyof typeof SEVERITY];

/**
 * The facility number for an ha.cf `logfacility` value, or null for `none` (syslog off).
 * Throws RangeError on an unknown name, with Heartbeat's wording.
 */
export function parseFacility(name: string): number | null {
  const key = name.trim().toLowerCase();
  if (key === 'none') return null;
  const n = FACILITIES[key];
  if (n === undefined) throw new RangeError(`Log facility(${name}) not valid`);
  return n;
}

/** The `<PRI>` value syslog puts in front of a message. */
export function priority(facility: number, severity: Severity): number {
  return facility * 8 + severity;
}

export interface SyslogOptions {
  /** Tag shown before `[pid]:`, e.g. `hbd`. */
  ident: string;
  /** PID to show in the tag (the daemon's, not logger's). */
  pid: number;
  /** Facility number, see FACILITIES / parseFacility(). */
  facility: number;
  /** Unix socket of the syslog daemon. Default /dev/log. */
  socket?: string;
  /** The logger executable. Default `logger` (looked up in PATH). */
  loggerPath?: string;
  /** First delay before restarting a dead logger; doubles per failure. Default 1 s. */
  restartMinMs?: number;
  /** Ceiling of the restart delay. Default 60 s. */
  restartMaxMs?: number;
  /** A child alive this long counts as working: backoff resets, failures get reported again. Default 10 s. */
  healthyMs?: number;
  /** Lines kept while no logger is running; the oldest are dropped beyond this. Default 500. */
  maxQueued?: number;
  /** Bytes allowed to pile up in logger's stdin (syslog daemon stalled) before dropping. Default 1 MiB. */
  maxPipeBytes?: number;
  /** Told once per outage why syslog is not working. */
  onError?: (message: string) => void;
  /** Told when syslog works again after a reported outage, with the number of lines lost. */
  onRecover?: (lost: number) => void;
}

export const DEFAULT_SYSLOG_SOCKET = '/dev/log';

/** logger's arguments (no shell involved): one child for all priorities. */
export function loggerArgv(o: Pick<SyslogOptions, 'ident' | 'pid' | 'socket'>): string[] {
  return [
    // Without this, logger silently drops everything when the socket is missing; with it,
    // it exits and we notice, report and restart.
    '--socket-errors=on',
    '--prio-prefix',
    '-t',
    o.ident,
    `--id=${o.pid}`,
    '-u',
    o.socket ?? DEFAULT_SYSLOG_SOCKET,
  ];
}

export class SyslogWriter {
  private readonly opts: Required<Omit<SyslogOptions, 'onError' | 'onRecover'>> &
    Pick<SyslogOptions, 'onError' | 'onRecover'>;
  private child: ChildProcess | null = null;
  private childReady = false;
  private starting = false;
  private closed = false;
  private queue: string[] = [];
  private lostCount = 0;
  private delayMs: number;
  private restartTimer: NodeJS.Timeout | null = null;
  private healthyTimer: NodeJS.Timeout | null = null;
  private outageReported = false;
  private exitWaiters: (() => void)[] = [];
  private spawnCount = 0;

  constructor(options: SyslogOptions) {
    this.opts = {
      ident: options.ident,
      pid: options.pid,
      facility: options.facility,
      socket: options.socket ?? DEFAULT_SYSLOG_SOCKET,
      loggerPath: options.loggerPath ?? 'logger',
      restartMinMs: options.restartMinMs ?? 1000,
      restartMaxMs: options.restartMaxMs ?? 60_000,
      healthyMs: options.healthyMs ?? 10_000,
      maxQueued: options.maxQueued ?? 500,
      maxPipeBytes: options.maxPipeBytes ?? 1 << 20,
      onError: options.onError,
      onRecover: options.onRecover,
    };
    this.delayMs = this.opts.restartMinMs;
    this.start();
  }

  /** Send one message. Never throws; lines are queued while logger is (re)starting. */
  write(severity: Severity, text: string): void {
    if (this.closed) return;
    // A raw newline would make logger start a new message without our <PRI> prefix.
    const line = `<${priority(this.opts.facility, severity)}>${text.replace(/[\r\n]+/g, ' ')}\n`;
    const child = this.child;
    if (child !== null && this.childReady && child.stdin !== null && child.stdin.writable) {
      if (child.stdin.writableLength > this.opts.maxPipeBytes) {
        this.lostCount += 1;
        return;
      }
      child.stdin.write(line);
      return;
    }
    this.queue.push(line);
    if (this.queue.length > this.opts.maxQueued) {
      this.queue.shift();
      this.lostCount += 1;
    }
  }

  /** True while a logger child is up and being fed. */
  get running(): boolean {
    return this.child !== null && this.childReady;
  }

  /** Lines dropped so far because no logger could take them (not counting lines a dying child swallowed). */
  get lost(): number {
    return this.lostCount;
  }

  /** How many logger children have been started (for tests and diagnostics). */
  get spawns(): number {
    return this.spawnCount;
  }

  /** PID of the current logger child, if any. */
  get childPid(): number | undefined {
    return this.child?.pid;
  }

  /** If logger is down and waiting out its backoff, try again now (e.g. on SIGHUP). */
  restartNow(): void {
    if (this.closed || this.child !== null || this.starting) return;
    this.clearRestartTimer();
    this.start();
  }

  /** Let logger drain its stdin and exit; kills it if it does not within `timeoutMs`. */
  async close(timeoutMs = 2000): Promise<void> {
    if (this.closed && this.child === null) return;
    this.closed = true;
    this.clearRestartTimer();
    if (this.healthyTimer !== null) clearTimeout(this.healthyTimer);
    this.queue = [];
    const child = this.child;
    if (child === null) return;
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    child.stdin?.end();
    const timer = setTimeout(() => {
      // child.kill() signals exactly this child's PID.
      child.kill('SIGTERM');
    }, timeoutMs);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private start(): void {
    if (this.closed) return;
    this.starting = true;
    // Check the socket first: logger would fail on it at once anyway, and anything written
    // to a child that is about to die is silently lost, whereas queued lines survive.
    stat(this.opts.socket).then(
      () => this.spawnChild(),
      (err: NodeJS.ErrnoException) => {
        this.starting = false;
        this.failed(`syslog socket ${this.opts.socket}: ${err.code ?? err.message}`);
      },
    );
  }

  private spawnChild(): void {
    this.starting = false;
    if (this.closed) return;
    let child: ChildProcess;
    try {
      child = spawn(this.opts.loggerPath, loggerArgv(this.opts), {
        stdio: ['pipe', 'ignore', 'pipe'],
        // Own process group: a terminal's Ctrl-C must not kill logger before the daemon's
        // last lines are through. It still exits on EOF when we go away.
        detached: true,
      });
    } catch (err) {
      this.failed(`cannot start ${this.opts.loggerPath}: ${(err as Error).message}`);
      return;
    }
    this.spawnCount += 1;
    this.child = child;
    this.childReady = false;
    const startedAt = performance.now();
    let stderrText = '';
    let gone = false;

    const onGone = (why: string): void => {
      if (gone) return;
      gone = true;
      if (this.child === child) {
        this.child = null;
        this.childReady = false;
      }
      if (this.healthyTimer !== null) {
        clearTimeout(this.healthyTimer);
        this.healthyTimer = null;
      }
      const waiters = this.exitWaiters;
      this.exitWaiters = [];
      for (const w of waiters) w();
      if (this.closed) return;
      if (performance.now() - startedAt >= this.opts.healthyMs) this.delayMs = this.opts.restartMinMs;
      const detail = stderrText.trim().split('\n')[0] ?? '';
      this.failed(detail !== '' ? `${why}: ${detail}` : why);
    };

    child.on('error', (err) => onGone(`cannot run ${this.opts.loggerPath}: ${err.message}`));
    child.on('close', (code, signal) =>
      onGone(`${this.opts.loggerPath} exited (${signal !== null ? `signal ${signal}` : `code ${code}`})`),
    );
    // EPIPE when logger died with lines in flight; 'close' handles the restart.
    child.stdin?.on('error', () => undefined);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      if (stderrText.length < 1024) stderrText += chunk;
    });
    child.on('spawn', () => {
      if (this.child !== child) return;
      this.childReady = true;
      const pending = this.queue;
      this.queue = [];
      for (const line of pending) child.stdin?.write(line);
      this.healthyTimer = setTimeout(() => this.markHealthy(child), this.opts.healthyMs);
      this.healthyTimer.unref();
    });
  }

  private markHealthy(child: ChildProcess): void {
    this.healthyTimer = null;
    if (this.child !== child) return;
    this.delayMs = this.opts.restartMinMs;
    if (this.outageReported) {
      this.outageReported = false;
      const lost = this.lostCount;
      this.lostCount = 0;
      this.opts.onRecover?.(lost);
    }
  }

  private failed(message: string): void {
    if (!this.outageReported) {
      this.outageReported = true;
      try {
        this.opts.onError?.(message);
      } catch {
        // A reporting hook must not break the restart loop.
      }
    }
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.closed || this.restartTimer !== null) return;
    const delay = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.opts.restartMaxMs);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.start();
    }, delay);
    // The restart loop alone must not keep a finished process alive.
    this.restartTimer.unref();
  }

  private clearRestartTimer(): void {
    if (this.restartTimer !== null) {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
    }
  }
}
