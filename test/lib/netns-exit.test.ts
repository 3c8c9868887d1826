// A test file ended by a signal leaves nothing behind: the LAN or loopback cluster it never
// cleaned up is removed as its process exits (namespaces, the processes in them, daemons, temp
// dirs). The LAN needs root; it skips without it, except under CI=true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fromRoot } from '../helpers/repo.js';
import { onOutputLines } from '../../src/lib/lines.js';
import { namespacesStartingWith, netnsUnavailableReason } from '../../src/lib/netns.js';
import { signalPid } from '../../src/lib/signal.js';
import { waitFor } from '../../src/lib/wait.js';

/** Starts exit-child.js with `what`, ends it with SIGTERM, and returns what it had made. */
async function madeThenTerminated(what: 'lan' | 'local', before: (made: Made) => Promise<void>): Promise<Made> {
  const child = spawn(process.execPath, [fromRoot('dist', 'test', 'helpers', 'exit-child.js'), what], { stdio: ['ignore', 'pipe', 'inherit'] });
  let made: Made | undefined;
  onOutputLines(child, (l) => (made = JSON.parse(l) as Made));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const m = await waitFor(`the child to make its ${what}`, () => made, { timeoutMs: 30_000 });
    await before(m);
    child.kill('SIGTERM');
    assert.equal(await exited, 143);
    // Killed at the exit; a moment later it is reaped (its parent, the child, is gone).
    await waitFor(`pid ${m.pid} to be gone`, () => !signalPid(m.pid, 0), { timeoutMs: 5000, pollMs: 50 });
    assert.equal(existsSync(m.dir), false, `${m.dir} left behind`);
    return m;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

interface Made {
  prefix: string;
  pid: number;
  dir: string;
}

test('a process that exits on SIGTERM without destroying its LAN still removes it', async (t) => {
  const why = await netnsUnavailableReason();
  if (why && process.env.CI !== 'true') return t.skip(why);
  const lan = await madeThenTerminated('lan', async (m) => {
    assert.ok((await namespacesStartingWith(m.prefix)).length >= 2, 'the LAN exists before the signal');
    assert.ok(signalPid(m.pid, 0), 'its host runs sleep');
  });
  assert.deepEqual(await namespacesStartingWith(lan.prefix), [], 'namespaces left behind');
});

test('a process that exits on SIGTERM without cleaning up its loopback cluster still kills its daemons', async () => {
  await madeThenTerminated('local', async (m) => {
    assert.ok(signalPid(m.pid, 0), 'hbd runs');
    assert.ok(existsSync(m.dir), 'the cluster dir exists');
  });
});
