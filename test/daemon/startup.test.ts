// `hbd` without -f: the command answers for the daemon it starts. It exits 0 only once the
// daemon is up (its control socket answers), and non-zero with the reasons on stderr when the
// configuration is broken or the daemon cannot start, as `hbd -f` would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from '../../src/control/client.js';
import { isLive, readProcStat } from '../../src/lib/proc-stat.js';
import { waitFor } from '../../src/lib/wait.js';
import { HBD, LocalCluster } from '../helpers/local-cluster.js';

const run = promisify(execFile);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function hbd(args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [HBD, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Every pid a run may have left: the one it printed and the one in its pid file. */
function pidsOf(out: Outcome, pidFile: string): number[] {
  const pids = [...out.stdout.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
  if (existsSync(pidFile)) pids.push(Number(readFileSync(pidFile, 'utf8').trim()));
  return pids.filter((p) => p > 0);
}

/** Stops, by PID, any daemon a test started, and waits for it to be gone. */
async function stopAll(pids: number[]): Promise<void> {
  for (const pid of pids) {
    if (!isLive(pid)) continue;
    process.kill(pid, 'SIGKILL');
    await waitFor(`pid ${pid} gone`, () => !isLive(pid), { timeoutMs: 5000, pollMs: 20 });
  }
}

function daemonArgs(c: LocalCluster, node: string, pidFile: string, extra: string[] = []): string[] {
  return ['--config-dir', c.configDir(node), '--node', node, '--state-dir', join(c.dir, 'state'), '--control-socket', c.socket(node), '--local-address', '127.0.0.1', '--pid-file', pidFile, ...extra];
}

test('hbd without -f on a broken configuration exits non-zero with the errors on stderr', async () => {
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'] });
  const pidFile = join(c.dir, 'hbd.pid');
  appendFileSync(join(c.configDir('alpha'), 'ha.cf'), 'frobnicate 1\n');
  let out: Outcome | null = null;
  try {
    out = await hbd(daemonArgs(c, 'alpha', pidFile));
    assert.notEqual(out.code, 0, `exit code 0 for a broken configuration; stdout: ${out.stdout}`);
    assert.match(out.stderr, /ha\.cf:\d+: error: unknown directive "frobnicate"/);
    assert.doesNotMatch(out.stdout, /hbd started/);
    // Give a child that might have been started the time to write its pid file anyway.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(existsSync(pidFile), false, 'no daemon, no pid file');
  } finally {
    await stopAll(out ? pidsOf(out, pidFile) : []);
    await c.cleanup();
  }
});

test('hbd without -f whose daemon cannot start exits non-zero with the daemon\'s reason', async () => {
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'] });
  const pidFile = join(c.dir, 'hbd.pid');
  // The configuration is valid; the state directory is a regular file, so the daemon fails at start.
  const stateFile = join(c.dir, 'not-a-dir');
  writeFileSync(stateFile, 'x');
  let out: Outcome | null = null;
  try {
    out = await hbd([...daemonArgs(c, 'alpha', pidFile), '--state-dir', stateFile]);
    assert.notEqual(out.code, 0, `exit code 0 for a daemon that could not start; stdout: ${out.stdout}`);
    assert.match(out.stderr, /could not start/);
    assert.match(out.stderr, /not-a-dir/);
    for (const pid of pidsOf(out, pidFile)) {
      await waitFor(`failed daemon ${pid} gone`, () => !isLive(pid), { timeoutMs: 5000, pollMs: 20 });
    }
  } finally {
    await stopAll(out ? pidsOf(out, pidFile) : []);
    await c.cleanup();
  }
});

/** The socket descriptors a process holds (fd numbers). */
function socketFds(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
    } catch {
      return false;
    }
  });
}

test('hbd without -f exits 0 only once the daemon is up: its control socket answers at once', async () => {
  // A virtual IP makes the daemon start its address guard before it is up; initdead keeps it
  // from taking the group (and the address) during the test.
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'], initdead: '30', haresources: 'alpha IPaddr::127.0.0.199/32/lo\n' });
  const pidFile = join(c.dir, 'hbd.pid');
  let out: Outcome | null = null;
  let guard: number[] = [];
  try {
    out = await hbd(daemonArgs(c, 'alpha', pidFile));
    assert.equal(out.code, 0, out.stderr);
    // No waiting: the command's success means the daemon answers now.
    const answer = await request(c.socket('alpha'), { cmd: 'status' }, 2000).then(
      (r) => (r.ok ? 'ok' : JSON.stringify(r)),
      (err: Error) => err.message,
    );
    assert.equal(answer, 'ok', 'control socket not answering right after "hbd" returned');
    const printed = Number(/pid (\d+)/.exec(out.stdout)?.[1]);
    assert.equal(Number(readFileSync(pidFile, 'utf8').trim()), printed);
    assert.ok(isLive(printed));
    // The pipe to the (gone) parent is closed in the daemon, and its guard never inherited it:
    // the guard holds no socket beyond its stdio (0-2, from hbd).
    guard = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .filter((pid) => readProcStat(pid)?.ppid === printed);
    assert.equal(guard.length, 1, `children of hbd: ${guard.join(', ')}`);
    assert.deepEqual(socketFds(guard[0]!).filter((fd) => Number(fd) > 2), []);
  } finally {
    // The guard ends by itself once hbd is gone; stopped by PID all the same.
    await stopAll([...(out ? pidsOf(out, pidFile) : []), ...guard]);
    await c.cleanup();
  }
});
