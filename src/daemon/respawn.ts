// ha.cf's `respawn USER /path/prog args`, as Heartbeat does it: each program runs as USER and
// is started again when it exits, after a wait that doubles (1 s up to 60 s) while it keeps
// exiting soon after its start, and is stopped (SIGTERM, then SIGKILL) when hbd stops. Which
// lines are run at all is config/respawn.ts's to say (only kind 'program').
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { onLines } from '../lib/lines.js';
import type { Logger } from '../lib/logger.js';

const run = promisify(execFile);

export interface RespawnProgram {
  user: string;
  argv: string[];
}

export interface RespawnTiming {
  /** The first wait before a restart; it doubles while the program keeps exiting early. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** A run at least this long counts as good: the next wait starts from initialDelayMs again. */
  stableMs: number;
  /** Between SIGTERM and SIGKILL at shutdown. */
  killGraceMs: number;
}

export const RESPAWN_TIMING: RespawnTiming = { initialDelayMs: 1000, maxDelayMs: 60_000, stableMs: 30_000, killGraceMs: 5000 };

interface Account {
  uid: number;
  gid: number;
  home: string;
}

/** USER's uid, primary gid and home, from the system's user database (getent: NSS, as login does). */
async function lookUp(user: string): Promise<Account | null> {
  if (!/^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}\$?$/.test(user)) return null;
  try {
    const { stdout } = await run('getent', ['passwd', user], { timeout: 10_000 });
    const f = stdout.trim().split(':');
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid, home: f[5] || '/' } : null;
  } catch {
    return null;
  }
}

/** One program: its child while it runs, the wait before its next start, the next wait. */
class Kept {
  child: ChildProcess | null = null;
  timer: NodeJS.Timeout | null = null;
  delayMs: number;
  startedAt = 0;
  restarts = 0;
  constructor(
    readonly prog: RespawnProgram,
    timing: RespawnTiming,
  ) {
    this.delayMs = timing.initialDelayMs;
  }
  get name(): string {
    return this.prog.argv.join(' ');
  }
}

export class Respawner {
  private readonly kept: Kept[];
  private stopping = false;

  constructor(
    programs: readonly RespawnProgram[],
    private readonly log: Logger,
    private readonly timing: RespawnTiming = RESPAWN_TIMING,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.kept = programs.map((p) => new Kept(p, timing));
  }

  start(): void {
    for (const k of this.kept) void this.launch(k);
  }

  /** The PIDs of the programs running now (for status and tests). */
  pids(): number[] {
    return this.kept.flatMap((k) => (k.child?.pid !== undefined && k.child.exitCode === null && k.child.signalCode === null ? [k.child.pid] : []));
  }

  private async launch(k: Kept): Promise<void> {
    k.timer = null;
    if (this.stopping) return;
    const account = await lookUp(k.prog.user);
    if (this.stopping) return;
    if (!account) {
      this.log.error(`respawn: no user "${k.prog.user}" (getent passwd): ${k.name} not started; trying again in ${k.delayMs} ms. Create the user or fix the respawn line in ha.cf.`);
      return this.again(k);
    }
    const [file, ...args] = k.prog.argv;
    k.startedAt = this.now();
    // No shell; a fresh process group, so the stop reaches whatever the program started.
    const child = spawn(file!, args, {
      uid: account.uid,
      gid: account.gid,
      cwd: '/',
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: account.home, USER: k.prog.user, LOGNAME: k.prog.user, LANG: 'C' },
    });
    k.child = child;
    const base = file!.replace(/^.*\//, '');
    onLines(child.stdout, (line) => this.log.info(`${base}: ${line}`));
    onLines(child.stderr, (line) => this.log.info(`${base}: ${line}`));
    child.once('spawn', () => this.log.info(`respawn: started ${k.name} as ${k.prog.user} (pid ${child.pid}).`));
    let ended = false;
    const end = (how: string) => {
      if (ended) return;
      ended = true;
      k.child = null;
      if (this.stopping) return;
      const ranMs = this.now() - k.startedAt;
      if (ranMs >= this.timing.stableMs) k.delayMs = this.timing.initialDelayMs;
      this.log.warn(`respawn: ${k.name} ${how} after ${Math.round(ranMs)} ms; starting it again in ${k.delayMs} ms.`);
      this.again(k);
    };
    child.once('error', (err: NodeJS.ErrnoException) => end(`could not be run (${err.code ?? err.message})`));
    child.once('exit', (code, signal) => end(signal ? `was killed by ${signal}` : `exited with code ${code}`));
  }

  private again(k: Kept): void {
    const wait = k.delayMs;
    k.delayMs = Math.min(k.delayMs * 2, this.timing.maxDelayMs);
    k.restarts += 1;
    k.timer = setTimeout(() => void this.launch(k), wait);
  }

  /** hbd stops: no more restarts; each running program gets SIGTERM, then SIGKILL. */
  async stop(): Promise<void> {
    this.stopping = true;
    const waits: Promise<void>[] = [];
    for (const k of this.kept) {
      if (k.timer) clearTimeout(k.timer);
      k.timer = null;
      const child = k.child;
      if (!child?.pid || child.exitCode !== null || child.signalCode !== null) continue;
      this.log.info(`respawn: stopping ${k.name} (pid ${child.pid}).`);
      waits.push(this.terminate(child));
    }
    await Promise.all(waits);
  }

  private terminate(child: ChildProcess): Promise<void> {
    const pid = child.pid!;
    const group = (sig: NodeJS.Signals) => {
      try {
        process.kill(-pid, sig);
      } catch {
        /* gone */
      }
    };
    return new Promise((resolve) => {
      const kill = setTimeout(() => group('SIGKILL'), this.timing.killGraceMs);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      group('SIGTERM');
    });
  }
}
