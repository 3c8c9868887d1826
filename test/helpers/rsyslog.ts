// A private rsyslogd for tests: a real syslog daemon, started and stopped by PID.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { waitFor } from '../../src/lib/wait.js';
import { which } from './tools.js';

/** Skip reason when rsyslogd or logger is missing; under CI=true that is a failure instead. */
export function toolsMissing(): string | null {
  const missing = ['rsyslogd', 'logger'].filter((c) => which(c) === null);
  if (missing.length === 0) return null;
  const reason = `not installed: ${missing.join(', ')} (Debian packages rsyslog, bsdutils/util-linux)`;
  if (process.env.CI === 'true') throw new Error(`CI=true but syslog tests cannot run: ${reason}`);
  return reason;
}

export function skipUnlessTools(t: TestContext): boolean {
  const reason = toolsMissing();
  if (reason === null) return false;
  console.log(`# skipping syslog test: ${reason}`);
  t.skip(reason);
  return true;
}

/** How long syslog tests wait for a line to arrive, and how often they look. */
export const WAIT = { timeoutMs: 10_000, pollMs: 20 };

export async function withTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'hbd-syslog-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface Rsyslog {
  proc: ChildProcess;
  out: string;
  lines(): string[];
  stop(): Promise<void>;
}

/**
 * A private rsyslogd in the foreground: no system socket, one imuxsock input on `sock`,
 * `facility` (default local0) written to `out` with facility and severity spelled out.
 */
export async function startRsyslog(dir: string, sock: string, tag: string, facility = 'local0'): Promise<Rsyslog> {
  const conf = join(dir, `rsyslog-${tag}.conf`);
  const pidfile = join(dir, `rsyslog-${tag}.pid`);
  if (!/^[a-z0-9]+$/.test(facility)) throw new Error(`startRsyslog: "${facility}" is not a facility name`);
  const out = join(dir, `${facility}.log`);
  const q = (s: string): string => JSON.stringify(s); // paths from mkdtemp: no quotes inside
  await writeFile(
    conf,
    [
      `global(workDirectory=${q(dir)})`,
      'module(load="imuxsock" SysSock.Use="off")',
      // Rate limiting off: the test sends bursts and must see every line.
      `input(type="imuxsock" Socket=${q(sock)} CreatePath="on" RateLimit.Interval="0")`,
      'template(name="hbtest" type="string"',
      '  string="%syslogfacility-text%.%syslogseverity-text% %syslogtag%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%\\n")',
      `${facility}.* action(type="omfile" file=${q(out)} template="hbtest")`,
      '',
    ].join('\n'),
  );
  const rsyslogd = which('rsyslogd') ?? 'rsyslogd';
  const proc = spawn(rsyslogd, ['-n', '-f', conf, '-i', pidfile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (c: string) => void (stderr += c));
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    proc.on('close', () => {
      exited = true;
      resolve();
    });
    proc.on('error', () => {
      exited = true;
      resolve();
    });
  });
  const stop = async (): Promise<void> => {
    if (exited || proc.pid === undefined) return;
    process.kill(proc.pid, 'SIGTERM');
    const t = setTimeout(() => {
      if (!exited && proc.pid !== undefined) process.kill(proc.pid, 'SIGKILL');
    }, 5000);
    await exit;
    clearTimeout(t);
  };
  try {
    await waitFor('rsyslogd socket', () => exited || (existsSync(sock) && existsSync(pidfile)), WAIT);
    if (exited) throw new Error(`rsyslogd exited at startup: ${stderr}`);
    assert.equal(Number(readFileSync(pidfile, 'utf8').trim()), proc.pid, 'pidfile names our child');
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    proc,
    out,
    lines: () => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter((l) => l !== '') : []),
    stop,
  };
}

