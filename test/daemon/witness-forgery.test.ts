// The witness acts on nothing it cannot verify, like a node: a forged goodbye of the owner
// (wrongly signed, and unsigned-as-crc) and a replay of the owner's own goodbye-less packets
// change neither its view nor its vote, so the other node never starts the group.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalCluster } from '../helpers/local-cluster.js';
import { recorder, sendTo } from '../helpers/udp-recorder.js';
import { sign } from '../../src/wire/auth.js';
import { decode } from '../../src/wire/codec.js';
import { shutdoneMessage } from '../../src/wire/messages.js';
import { parseHex } from '../../src/wire/message.js';

const WITNESS = 'wit';
const WADDR = '127.0.0.3';

test('the witness never acts on a forged or replayed packet', { timeout: 60_000 }, async () => {
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'], deadtime: '1', initdead: '3', extraUcast: [WADDR, '127.0.0.9'], extra: `witness ${WITNESS}` });
  c.addr.set(WITNESS, WADDR);
  c.writeConfig(WITNESS);
  const { sock, packets: heard } = await recorder('127.0.0.9', c.port);
  try {
    c.startAll();
    c.start(WITNESS, ['--witness']);
    await c.waitFor('alpha runs the group', async () => (await c.status('alpha')).groups[0]?.owner === 'alpha');
    await c.waitFor('the witness sees both nodes active', async () => (await c.status(WITNESS)).nodes.filter((n) => !n.self && n.status === 'active').length === 2);
    await c.waitFor('alpha heard', () => heard.some((p) => p.includes('src=alpha')));
    const last = decode(heard.filter((p) => p.includes('src=alpha')).at(-1)!);
    assert.ok(last.ok);
    const gen = parseHex(last.message.getString('hg'))!;
    const seq = parseHex(last.message.getString('seq'))!;
    const uuid = last.message.getBinary('srcuuid') ?? Buffer.alloc(16);
    const goodbye = (s: number) => shutdoneMessage({ node: 'alpha', uuid, generation: gen, deadtimeMs: 1000 }, s, Math.floor(Date.now() / 1000));
    const before = (await c.status(WITNESS)).counters.auth_failures ?? 0;
    for (let i = 0; i < 10; i++) {
      // Signed with a key nobody has, and with crc (no secret): both must fail verification.
      await sendTo(sock, sign(goodbye(seq + 100 + i), { index: 1, method: 'sha1', secret: 'not-the-secret' }), c.port, WADDR);
      await sendTo(sock, sign(goodbye(seq + 200 + i), { index: 1, method: 'crc', secret: '' }), c.port, WADDR);
      // And alpha's own packets, replayed: old sequence numbers are not news.
      for (const p of heard.filter((x) => x.includes('src=alpha')).slice(0, 3)) await sendTo(sock, p, c.port, WADDR);
      await new Promise((r) => setTimeout(r, 50));
    }
    await c.waitFor('the forgeries are counted as authentication failures', async () => ((await c.status(WITNESS)).counters.auth_failures ?? 0) >= before + 20);
    await new Promise((r) => setTimeout(r, 1500)); // past a deadtime: a believed goodbye would show by now
    const w = await c.status(WITNESS);
    assert.equal(w.nodes.find((n) => n.name === 'alpha')?.status, 'active', 'the witness still holds alpha alive');
    assert.equal((await c.status('alpha')).groups[0]?.owner, 'alpha', 'the group did not move');
    assert.equal(c.countLog('bravo', /Acquiring resource group/), 0, 'bravo never started it');
  } finally {
    sock.close();
    await c.cleanup();
  }
});
