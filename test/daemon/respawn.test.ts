// ha.cf's `respawn USER /path/prog args` with a real hbd and a real program: run as that
// user, started again with a doubling wait when it is killed, stopped when hbd stops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalCluster } from '../helpers/local-cluster.js';
import { signalPid } from '../../src/lib/signal.js';

const rootSkip = process.getuid?.() === 0 ? false : 'respawn runs programs as another user: needs root';
if (rootSkip) {
  console.log(`# skipped: ${rootSkip}`);
  if (process.env.CI === 'true') throw new Error(`CI=true but ${rootSkip}`);
}

/** Whether the process still exists (signal 0 tests for it without sending anything). */
const alive = (pid: number): boolean => signalPid(pid, 0);

/** The real uid of a process, from /proc/PID/status. */
function uidOf(pid: number): number {
  const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]);
}

test('respawn: the program runs as its user, is restarted with a doubling wait after each kill, and is stopped with hbd', { skip: rootSkip }, async () => {
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'] });
  // A directory nobody can read the program from and write its PIDs into.
  const shared = join(c.dir, 'respawn');
  mkdirSync(shared);
  chmodSync(c.dir, 0o755);
  chmodSync(shared, 0o777);
  const prog = join(shared, 'agent.sh');
  const pids = join(shared, 'pids');
  writeFileSync(prog, '#!/bin/sh\necho $$ >> "$1"\necho "agent up as $(id -un)"\nexec sleep 100000\n');
  chmodSync(prog, 0o755);
  c.writeConfig('alpha', { extra: `respawn nobody ${prog} ${pids}\napiauth agent.sh uid=nobody\n` });
  const seen = (): number[] => {
    try {
      return readFileSync(pids, 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  try {
    c.start('alpha');
    const first = await c.waitFor('the program to start', () => seen()[0], 10_000);
    assert.equal(uidOf(first), 65534, 'it runs as nobody');
    await c.waitFor('its output in hbd\'s log', () => c.firstLog('alpha', /agent\.sh: agent up as nobody/), 5000);
    assert.ok(!/"apiauth" is understood but not acted on/.test(c.logText('alpha')), 'apiauth for a respawned program is accepted');

    process.kill(first, 'SIGKILL');
    const second = await c.waitFor('the program to be started again', () => seen()[1], 10_000);
    assert.notEqual(second, first);
    assert.match(c.logText('alpha'), /respawn: .*agent\.sh .* was killed by SIGKILL after \d+ ms; starting it again in 1000 ms/);

    process.kill(second, 'SIGKILL');
    const third = await c.waitFor('the program to be started a third time', () => seen()[2], 10_000);
    assert.match(c.logText('alpha'), /was killed by SIGKILL after \d+ ms; starting it again in 2000 ms/, 'it keeps dying early: the wait doubles');

    c.term('alpha');
    assert.equal(await c.exited('alpha', 15_000), 0);
    assert.ok(!alive(third), 'the program is stopped when hbd stops');
    assert.match(c.logText('alpha'), /respawn: stopping .*agent\.sh/);
    assert.equal(seen().length, 3, 'and not started again');
  } finally {
    for (const pid of seen()) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await c.cleanup();
  }
});
