// Membership with real hbd daemons on loopback: forming, kill -9, restart, graceful leave.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { HBD, LocalCluster } from '../helpers/local-cluster.js';

for (const size of [2, 3, 5]) {
  test(`${size} daemons form a cluster, survive kill -9 of one, and see it return with a new generation`, async () => {
    const nodes = ['alpha', 'bravo', 'charlie', 'delta', 'echo'].slice(0, size);
    const c = new LocalCluster({ nodes, keepalive: '100ms', warntime: '400ms', deadtime: '1', initdead: '3' });
    try {
      c.startAll();
      for (const n of nodes) await c.waitFor(`${n} to see every peer active`, () => c.allActive(n));

      const victim = nodes[nodes.length - 1]!;
      const before = (await c.status(nodes[0]!)).nodes.find((n) => n.name === victim)!.generation;
      assert.ok(before !== null && before > 0);
      // hbd and its address guard: silence, so death must wait for deadtime (with the guard
      // alive, its last words announce the death at once: test/failover/guard*.test.ts).
      const killedAt = c.kill9WithGuard(victim);
      const survivors = nodes.filter((n) => n !== victim);
      for (const s of survivors) {
        await c.waitFor(`${s} to log ${victim} dead`, () => c.firstLog(s, new RegExp(`WARN: node ${victim}: is dead`), killedAt));
        const dead = c.firstLog(s, new RegExp(`node ${victim}: is dead`), killedAt)!;
        const linkDead = c.firstLog(s, new RegExp(`Link ${victim}:lo dead\\.`), killedAt)!;
        const late = c.firstLog(s, new RegExp(`node ${victim}: is late`), killedAt);
        // Order of events: late warning, then the link, then the node.
        assert.ok(linkDead.at <= dead.at, 'link declared dead before or with the node');
        if (late) assert.ok(late.at <= dead.at, 'late warning comes before death');
        // Not before deadtime (1 s) of silence: it never declares a live node dead early.
        assert.ok(dead.at - killedAt >= 900, `declared dead only ${Math.round(dead.at - killedAt)} ms after the kill`);
        const st = await c.status(s);
        assert.equal(st.nodes.find((n) => n.name === victim)!.status, 'dead');
        assert.ok(st.nodes.filter((n) => n.name !== victim && !n.self).every((n) => n.status === 'active'), 'the others stay active');
      }

      const restartedAt = performance.now();
      c.start(victim);
      for (const s of survivors) {
        await c.waitFor(`${s} to see ${victim} up again`, () => c.firstLog(s, new RegExp(`node ${victim}: is up`), restartedAt));
        await c.waitFor(`${s} to see ${victim} active again`, async () => (await c.status(s)).nodes.find((n) => n.name === victim)!.status === 'active');
      }
      const after = (await c.status(nodes[0]!)).nodes.find((n) => n.name === victim)!.generation;
      assert.ok(after !== null && after > before!, `generation ${before} -> ${after} must grow across a restart`);
    } finally {
      await c.cleanup();
    }
  });
}

test('SIGTERM: peers act on the goodbye at once instead of waiting deadtime', async () => {
  const c = new LocalCluster({ nodes: ['alpha', 'bravo', 'charlie'], deadtime: '5', warntime: '2', initdead: '10' });
  try {
    c.startAll();
    for (const n of ['alpha', 'bravo', 'charlie']) await c.waitFor(`${n} active`, () => c.allActive(n));
    const termAt = c.term('charlie');
    assert.equal(await c.exited('charlie'), 0, 'hbd exits 0 after a clean shutdown');
    for (const s of ['alpha', 'bravo']) {
      const dead = await c.waitFor(`${s} to log charlie dead`, () => c.firstLog(s, /node charlie: is dead/, termAt), 4000);
      assert.ok(c.firstLog(s, /Received shutdown notice from 'charlie'/, termAt), 'the goodbye was received');
      assert.ok(dead.at - termAt < 1500, `declared dead ${Math.round(dead.at - termAt)} ms after SIGTERM; deadtime is 5000 ms`);
    }
    assert.match(c.logText('charlie'), /^heartbeat\[\d+\]: \S+ info: charlie Heartbeat shutdown complete\.$/m);
  } finally {
    await c.cleanup();
  }
});

test('a node that is alone declares never-heard peers dead after initdead, not deadtime', async () => {
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'], deadtime: '1', initdead: '2' });
  try {
    const startedAt = performance.now();
    c.start('alpha');
    // A loaded host can take seconds to start a Node process: the 6 s for the verdict count from
    // the daemon's first line (the lower bound below still counts from before the start).
    await c.waitFor('alpha to start', () => c.firstLog('alpha', /Starting heartbeat-ts/), 30_000);
    const dead = await c.waitFor('bravo declared dead', () => c.firstLog('alpha', /node bravo: is dead/), 6000);
    assert.ok(dead.at - startedAt >= 1900, `bravo declared dead after ${Math.round(dead.at - startedAt)} ms; initdead is 2000 ms`);
    const st = await c.status('alpha');
    assert.equal(st.nodes.find((n) => n.name === 'bravo')!.status, 'dead');
  } finally {
    await c.cleanup();
  }
});

test('hbd -t validates only; hbd refuses to start on an invalid configuration', async () => {
  const run = promisify(execFile);
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'] });
  try {
    const ok = await run(process.execPath, [HBD, '-t', '--config-dir', c.configDir('alpha'), '--node', 'alpha']);
    assert.match(ok.stdout, /is valid \(digest [0-9a-f]{64}\)/);
    c.writeConfig('alpha', { deadtime: '0' });
    const child = c.start('alpha');
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 1);
    assert.match(c.logText('alpha'), /ha\.cf:3: error: deadtime must be greater than 0/);
    assert.doesNotMatch(c.logText('alpha'), /at .*\.js:\d+/, 'no stack trace');
  } finally {
    await c.cleanup();
  }
});

test('a membership-only cluster (an empty or comment-only haresources, as Heartbeat accepts) starts and forms', async () => {
  const nodes = ['alpha', 'bravo', 'charlie'];
  const c = new LocalCluster({ nodes, haresources: '# membership only: no resource groups\n', keepalive: '100ms', warntime: '400ms', deadtime: '1', initdead: '3' });
  try {
    c.startAll();
    for (const n of nodes) await c.waitFor(`${n} to see every peer active`, () => c.allActive(n));
    for (const n of nodes) {
      assert.ok(c.firstLog(n, /haresources: info: lists no resource groups: membership only/), `${n} says why it runs no resources`);
      assert.deepEqual((await c.status(n)).groups, []);
    }
  } finally {
    await c.cleanup();
  }
});
