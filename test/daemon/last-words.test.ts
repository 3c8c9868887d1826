// hbd's last words: a goodbye signed in advance that its address guard sends after hbd died.
// The packet as peers read it, and the real guard process sending it over real UDP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import type { AuthKeys } from '../../src/config/types.js';
import { LAST_WORDS_SPAN, lastWordsMessages, readIncoming, shutdoneMessage } from '../../src/wire/messages.js';
import { GUARD_ARGV, heldLine, lastWordsLine } from '../../src/daemon/guard.js';
import type { SendRoute } from '../../src/media/send-route.js';
import { sign, verify } from '../../src/wire/auth.js';
import { ReplayWindow } from '../../src/wire/replay.js';

const KEYS: AuthKeys = { active: { index: 1, method: 'sha1', secret: 'last-words-test' }, keys: [{ index: 1, method: 'sha1', secret: 'last-words-test' }] };
const SENDER = { node: 'alpha', uuid: Buffer.alloc(16, 7), generation: 42, deadtimeMs: 5000 };

function read(packet: Buffer) {
  const v = verify(packet, KEYS);
  assert.ok(v.ok, 'signed with the active key');
  return readIncoming(v.message);
}

/**
 * How a real Heartbeat places a sequenced message of a peer it has read up to `last`
 * (heartbeat.c, should_drop_message): the next one is taken, the same one again or an older
 * one is dropped in silence, and a later one is a loss (warnings, retransmission requests,
 * and past 250 "lost a lot of packets!").
 */
function heartbeatPlaces(last: number, seq: number): 'next' | 'old' | 'gap' {
  return seq === last + 1 ? 'next' : seq <= last ? 'old' : 'gap';
}

test('last words: passes to no one, then a goodbye marked crashed, that a real Heartbeat reads without a gap wherever our seq reached', () => {
  const words = lastWordsMessages(SENDER, 17, 1_700_000_000).map((m) => read(sign(m, KEYS.active)));
  assert.equal(words.length, LAST_WORDS_SPAN + 1);
  const bye = words.at(-1);
  assert.deepEqual(bye, { kind: 'shutdone', src: 'alpha', generation: 42, seq: 17 + LAST_WORDS_SPAN + 1, crashed: true });
  const messages = lastWordsMessages(SENDER, 17, 1_700_000_000);
  for (const m of messages.slice(0, -1)) {
    assert.equal(m.getString('dest'), 'alpha', 'a pass is addressed to its sender: no peer acts on it');
    assert.equal(readIncoming(m).kind, 'other');
  }
  // hbd died after sending any seq from 17 (the words were just renewed) to 17 + SPAN (it renews them before).
  for (let reached = 17; reached <= 17 + LAST_WORDS_SPAN; reached++) {
    let last = reached;
    const placed = messages.map((m) => {
      const seq = m.getHex('seq')!;
      const p = heartbeatPlaces(last, seq);
      if (p !== 'old') last = seq;
      return p;
    });
    assert.ok(!placed.includes('gap'), `no loss seen after seq ${reached}`);
    assert.equal(placed.at(-1), 'next', `the goodbye is read in sequence after seq ${reached}`);
  }
  const plain = read(sign(shutdoneMessage(SENDER, 17, 1_700_000_000), KEYS.active));
  assert.deepEqual(plain, { kind: 'shutdone', src: 'alpha', generation: 42, seq: 17, crashed: false });

  // An hbd peer: the passes are not its business; the goodbye is the newest message of the run.
  const replay = new ReplayWindow();
  for (let seq = 1; seq <= 40; seq++) assert.equal(replay.accept('alpha', 42, seq), 'new');
  const byeSeq = 17 + LAST_WORDS_SPAN + 1;
  assert.equal(replay.accept('alpha', 42, byeSeq), 'new');
  assert.equal(replay.accept('alpha', 42, byeSeq), 'duplicate', 'its second copy is a duplicate');
  assert.equal(replay.accept('alpha', 43, 1), 'new', 'the next run counts');
});

const route = (port: number, extra: Partial<SendRoute> = {}): SendRoute => ({ local: '127.0.0.1', destinations: [{ address: '127.0.0.1', port }], ...extra });
/** A route as guard.ts writes it. */
const routeWord = (r: SendRoute): string => lastWordsLine([], [r]).split(' ')[2]!;

/** Starts the real guard, tells it the last words and routes to a socket of ours, then ends hbd's side of the pipe. */
async function guardRun(clean: boolean, routesTo: (port: number) => string[] = (port) => [routeWord(route(port))]): Promise<{ copies: Buffer[]; stderr: string }> {
  const rx = createSocket('udp4');
  await new Promise<void>((resolve) => rx.bind(0, '127.0.0.1', () => resolve()));
  const copies: Buffer[] = [];
  rx.on('message', (m) => copies.push(m));
  const packets = lastWordsMessages(SENDER, 5, 1_700_000_000).map((m) => sign(m, KEYS.active));
  const [cmd, ...args] = GUARD_ARGV;
  const guard = spawn(cmd!, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  guard.stderr.setEncoding('utf8');
  guard.stderr.on('data', (c: string) => (stderr += c));
  try {
    guard.stdin.write(`${heldLine([])}\n`);
    guard.stdin.write(`${['lastwords', packets.map((p) => p.toString('hex')).join(','), ...routesTo(rx.address().port)].join(' ')}\n`);
    if (clean) guard.stdin.write('exit\n');
    guard.stdin.end();
    const code = await new Promise<number | null>((resolve) => guard.on('exit', (c) => resolve(c)));
    assert.equal(code, 0);
    await new Promise((r) => setTimeout(r, 100)); // datagrams on loopback arrive at once; be generous
    if (copies.length > 0) assert.deepEqual(copies, [...packets, ...packets], 'the guard sends the exact bytes hbd signed, in order, twice');
    return { copies, stderr };
  } finally {
    if (guard.exitCode === null) guard.kill('SIGKILL');
    rx.close();
  }
}

test('send routes from a pipe: only well-formed IPv4 routes are taken', async () => {
  assert.equal(routeWord(route(694)), '127.0.0.1,to=127.0.0.1:694');
  assert.equal(routeWord(route(694, { broadcast: true })), '127.0.0.1,to=127.0.0.1:694,bcast');
  assert.equal(routeWord({ local: '10.0.0.1', destinations: [{ address: '239.0.0.1', port: 694 }], multicast: { ttl: 1, loop: false } }), '10.0.0.1,to=239.0.0.1:694,mcast=1:0');
  const bad = ['127.0.0.1,to=127.0.0.1:70000', 'eth0,to=127.0.0.1:694', '127.0.0.1,to=127.0.0.1;reboot:694', '127.0.0.1,to=127.0.0.1:694,mcast=300:1', '127.0.0.1,to=$(reboot):694', '127.0.0.1,rm'];
  const { copies, stderr } = await guardRun(false, (port) => [...bad, routeWord(route(port))]);
  assert.equal(copies.length, 2 * (LAST_WORDS_SPAN + 1), 'the one good route is used');
  for (const b of bad) assert.ok(stderr.includes(`ignored a malformed route from hbd: ${b}\n`), `refused: ${b}`);
});

test('the guard sends the last words (twice) when hbd\'s side of the pipe ends without a clean exit', async () => {
  const { copies, stderr } = await guardRun(false);
  assert.equal(copies.length, 2 * (LAST_WORDS_SPAN + 1));
  assert.match(stderr, new RegExp(`told the peers that hbd died \\(${2 * (LAST_WORDS_SPAN + 1)} packets\\)`));
});

test('after a clean exit the guard sends nothing', async () => {
  const { copies, stderr } = await guardRun(true);
  assert.equal(copies.length, 0);
  assert.doesNotMatch(stderr, /told the peers/);
});
