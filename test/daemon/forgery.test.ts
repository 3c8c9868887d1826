// A crc key listed beside a keyed method (`auth 1`, `1 sha1 SECRET`, `2 crc`: a common
// copy-paste) must not let an attacker without the secret forge packets. Reproduced against
// the old code: a forged takeover request made the owner release its group, and a forged
// "restart" of the peer made the owner treat the real peer as an old generation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalCluster } from '../helpers/local-cluster.js';
import { recorder, sendTo } from '../helpers/udp-recorder.js';
import { sign } from '../../src/wire/auth.js';
import { decode } from '../../src/wire/codec.js';
import { statusMessage } from '../../src/wire/messages.js';
import { parseHex } from '../../src/wire/message.js';

const AUTHKEYS = 'auth 1\n1 sha1 forgery-test-secret\n2 crc\n';
const CRC = { index: 2, method: 'crc' as const, secret: '' };
const GROUP = 'alpha svc';

test('with sha1 active and crc listed, crc-signed forgeries change nothing', { timeout: 60_000 }, async () => {
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'], deadtime: '1', initdead: '3', extraUcast: ['127.0.0.9'], authkeys: { alpha: AUTHKEYS, bravo: AUTHKEYS } });
  // The attacker listens where the cluster sends (a copy-pasted ucast line, or a bridge port).
  const { sock, packets: heard } = await recorder('127.0.0.9', c.port);
  try {
    c.startAll();
    await c.waitFor('alpha runs the group', async () => (await c.status('alpha')).groups[0]?.owner === 'alpha');
    await c.waitFor('bravo heard', () => heard.some((p) => p.includes('src=bravo')));
    const last = decode(heard.filter((p) => p.includes('src=bravo')).at(-1)!);
    assert.ok(last.ok);
    const gen = parseHex(last.message.getString('hg'))!;
    const seq = parseHex(last.message.getString('seq'))!;
    const uuid = last.message.getBinary('srcuuid') ?? Buffer.alloc(16);
    const advert = (generation: number, takeover: boolean) => ({
      groups: { [GROUP]: { phase: 'stopped' as const, claim: null, grant: null } },
      standby: [],
      failed: [],
      takeover: takeover ? { serial: 1, groups: [GROUP] } : null,
      leaving: false,
      gen: generation,
      at: 0,
      deadtimeMs: 1000,
      acks: [],
      resources: [],
    });
    const forge = (generation: number, s: number, takeover: boolean) =>
      sign(statusMessage({ node: 'bravo', uuid, generation, deadtimeMs: 1000 }, s, Math.floor(Date.now() / 1000), { st: 'active', advert: advert(generation, takeover), digest: 'forged' }), CRC);
    const before = (await c.status('alpha')).counters.auth_failures ?? 0;
    // (a) bravo "asks" for the group; (b) bravo "restarted" with a newer generation.
    for (let i = 0; i < 20; i++) {
      await sendTo(sock, forge(gen, seq + 1000 + i, true), c.port);
      await sendTo(sock, forge(gen + 1, 1 + i, false), c.port);
      await new Promise((r) => setTimeout(r, 50));
    }
    await c.waitFor('the forgeries are counted as authentication failures', async () => ((await c.status('alpha')).counters.auth_failures ?? 0) >= before + 40);
    await new Promise((r) => setTimeout(r, 1500)); // past a deadtime: a takeover or a "restart" would show by now
    const st = await c.status('alpha');
    assert.equal(st.groups[0]?.owner, 'alpha', 'the group did not move');
    assert.equal(c.countLog('alpha', /Releasing resource group/), 0, 'no release');
    assert.equal(c.countLog('alpha', /asked to take over/), 0, 'no takeover request taken');
    assert.equal(c.countLog('alpha', /restarted \(generation/), 0, 'no forged restart');
    assert.equal(st.nodes.find((n) => n.name === 'bravo')?.status, 'active', 'the real bravo stays active');
    assert.ok(c.firstLog('alpha', /key 2 \(crc\) is ignored/), 'hbd warns about the listed crc key');
  } finally {
    sock.close();
    await c.cleanup();
  }
});
