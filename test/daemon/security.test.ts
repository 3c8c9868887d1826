// A node never acts on an unsigned, wrongly signed, foreign or replayed packet; such drops
// are counted, and warned about once per source per minute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalCluster } from '../helpers/local-cluster.js';
import { recorder, sendTo } from '../helpers/udp-recorder.js';
import { HbMessage, toHex } from '../../src/wire/message.js';
import { sign } from '../../src/wire/auth.js';
import { encodeNetstring } from '../../src/wire/codec.js';

const counters = async (c: LocalCluster, n: string) => (await c.status(n)).counters;
const statusOf = async (c: LocalCluster, n: string, peer: string) => (await c.status(n)).nodes.find((x) => x.name === peer)!.status;

test('a daemon with a different authkey never joins; drops are counted and warned about once', async () => {
  const c = new LocalCluster({
    nodes: ['alpha', 'bravo'],
    initdead: '2',
    authkeys: { bravo: 'auth 1\n1 sha1 some-other-secret\n' },
  });
  try {
    c.startAll();
    await c.waitFor('bravo declared dead by alpha', () => c.firstLog('alpha', /node bravo: is dead/), 8000);
    await c.waitFor('many packets dropped', async () => ((await counters(c, 'alpha')).auth_failures ?? 0) >= 20);
    assert.notEqual(await statusOf(c, 'alpha', 'bravo'), 'active');
    assert.equal(c.countLog('alpha', /dropped a packet from 127\.0\.0\.2.*E_AUTH_BAD_DIGEST/), 1, 'one warning per source per minute, not one per packet');
    assert.equal(c.countLog('alpha', /node bravo: is up/), 0);
  } finally {
    await c.cleanup();
  }
});

test('forged, unsigned, altered and replayed packets change nothing', async () => {
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'], deadtime: '1', initdead: '3', extraUcast: ['127.0.0.9'] });
  const rec = await recorder('127.0.0.9', c.port);
  try {
    c.startAll();
    await c.waitFor('alpha sees bravo active', () => c.allActive('alpha'));
    await c.waitFor('recorded some of bravo\'s heartbeats', () => rec.packets.filter((p) => p.includes('src=bravo')).length >= 10);
    const recorded = rec.packets.filter((p) => p.toString('latin1').includes('src=bravo'));

    const killedAt = c.kill9('bravo');
    await c.waitFor('bravo dead', () => c.firstLog('alpha', /node bravo: is dead/, killedAt));
    const before = await counters(c, 'alpha');

    // 1. The recorded packets, replayed: bravo must stay dead.
    for (const p of recorded) await sendTo(rec.sock, p, c.port);
    // 2. An altered copy (one byte of the value of seq changed).
    const altered = Buffer.from(recorded[recorded.length - 1]!);
    const at = altered.indexOf('(0)seq=') + 7;
    altered[at] = altered[at] === 0x39 ? 0x38 : 0x39;
    await sendTo(rec.sock, altered, c.port);
    // 3. A forged status from bravo, signed with a wrong key, with a fresh generation.
    const forged = HbMessage.of([['t', 'status'], ['st', 'active'], ['src', 'bravo'], ['seq', '1'], ['hg', toHex(2 ** 40)], ['ttl', '3']]);
    await sendTo(rec.sock, sign(forged, { index: 1, method: 'sha1', secret: 'guess' }), c.port);
    // 4. The same, unsigned.
    await sendTo(rec.sock, encodeNetstring(forged), c.port);
    // 5. Garbage.
    await sendTo(rec.sock, Buffer.from('hello heartbeat'), c.port);

    await c.waitFor('the drops are counted', async () => {
      const now = await counters(c, 'alpha');
      return (now.replayed_packets ?? 0) >= (before.replayed_packets ?? 0) + recorded.length && (now.auth_failures ?? 0) >= (before.auth_failures ?? 0) + 3;
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await statusOf(c, 'alpha', 'bravo'), 'dead', 'no packet brought bravo back');
    assert.equal(c.countLog('alpha', /node bravo: is up/), 1, 'bravo was seen up only once, at the start');
    assert.ok(((await counters(c, 'alpha')).malformed_packets ?? 0) >= 1, 'garbage counted as malformed');

    // 6. After bravo restarts (new generation), the old run's packets are stale, not news.
    const restartAt = performance.now();
    c.start('bravo');
    await c.waitFor('bravo up again', () => c.firstLog('alpha', /node bravo: is up/, restartAt));
    const mid = await counters(c, 'alpha');
    for (const p of recorded) await sendTo(rec.sock, p, c.port);
    await c.waitFor('old-generation replays counted', async () => ((await counters(c, 'alpha')).replayed_packets ?? 0) >= (mid.replayed_packets ?? 0) + recorded.length);
    assert.equal(c.countLog('alpha', /restarted \(generation/), 0, 'no replay was taken for a restart');
    await c.waitFor('bravo active', async () => (await statusOf(c, 'alpha', 'bravo')) === 'active');
    assert.ok(c.countLog('alpha', /dropped a replayed packet claiming to be from bravo/) <= 2, 'replay warnings are rate-limited');
  } finally {
    rec.sock.close();
    await c.cleanup();
  }
});

test('a second cluster on the same port and network does not disturb us, and does not flood the log', async () => {
  const ours = new LocalCluster({ nodes: ['alpha', 'bravo'] });
  // Same key (copied authkeys are common), other node names, sending to our addresses too.
  const theirs = new LocalCluster({ nodes: ['xray', 'yankee'], port: ours.port, firstOctet: 5, extraUcast: ['127.0.0.1', '127.0.0.2'] });
  try {
    ours.startAll();
    theirs.startAll();
    await ours.waitFor('alpha sees bravo active', () => ours.allActive('alpha'));
    await theirs.waitFor('xray sees yankee active', () => theirs.allActive('xray'));
    await ours.waitFor('foreign packets counted', async () => ((await counters(ours, 'alpha')).foreign_packets ?? 0) >= 30);
    const st = await ours.status('alpha');
    assert.deepEqual(st.nodes.map((n) => n.name), ['alpha', 'bravo']);
    assert.ok(st.nodes.every((n) => n.status === 'active'));
    assert.equal(ours.countLog('alpha', /bad node \[xray\]/), 1, 'one warning per foreign source per minute');
    assert.equal(ours.countLog('alpha', /bad node \[yankee\]/), 1);
  } finally {
    await theirs.cleanup();
    await ours.cleanup();
  }
});
