// Last words are accepted only from a run this node has heard alive: a crash notice recorded
// from an earlier run of a peer, replayed to a node that has just restarted (its replay window
// empty, the peer not heard yet), must not make it declare the peer dead and take its groups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { LocalCluster } from '../helpers/local-cluster.js';
import { recorder, sendTo } from '../helpers/udp-recorder.js';

test('a replayed crash notice from an earlier run of a peer triggers no takeover', { timeout: 60_000 }, async () => {
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'], deadtime: '1', initdead: '3', extraUcast: ['127.0.0.9'] });
  const { sock, packets: heard } = await recorder('127.0.0.9', c.port);
  try {
    c.startAll();
    await c.waitFor('alpha runs the group', async () => (await c.status('alpha')).groups[0]?.owner === 'alpha');
    // alpha's hbd crashes: its guard says its last words (to every ucast address, ours too).
    c.kill9('alpha');
    const lastWords = await c.waitFor('alpha\'s last words recorded', () => heard.find((p) => p.includes('src=alpha') && p.includes('hts_why=crash')));
    await c.waitFor('bravo runs the group', async () => (await c.status('bravo')).groups[0]?.owner === 'bravo');
    // alpha's new run takes the group back (auto_failback on).
    c.start('alpha');
    await c.waitFor('alpha runs the group again', async () => (await c.status('alpha')).groups[0]?.owner === 'alpha', 20_000);
    // bravo restarts (a silent death, then a new run); the attacker replays alpha's old last
    // words at it from the moment it starts.
    c.kill9WithGuard('bravo');
    await c.exited('bravo');
    const restartAt = performance.now();
    c.start('bravo');
    for (let i = 0; i < 150; i++) {
      await sendTo(sock, lastWords, c.port, '127.0.0.2');
      await new Promise((r) => setTimeout(r, 10));
    }
    await c.waitFor('bravo sees alpha active', async () => (await c.status('bravo')).nodes.find((n) => n.name === 'alpha')?.status === 'active');
    assert.equal(c.firstLog('bravo', /hbd on alpha died/, restartAt), undefined, 'the old crash notice was not taken');
    assert.equal(c.firstLog('bravo', /node alpha: is dead/, restartAt), undefined);
    assert.equal(c.firstLog('bravo', /Acquiring resource group/, restartAt), undefined, 'bravo never started the group alpha runs');
    assert.equal((await c.status('alpha')).groups[0]?.owner, 'alpha');
  } finally {
    sock.close();
    await c.cleanup();
  }
});
