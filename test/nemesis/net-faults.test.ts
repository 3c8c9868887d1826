// The nemesis's network faults on a real namespace LAN, with real UDP sockets: the link
// emulator's impairments, partitions and heal, a second medium and cutting it. Bands, not
// exact figures, for anything timing-dependent: other work shares this machine.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { inNs, namespacesStartingWith, withLan, type Lan } from '../../src/lib/netns.js';
import { liveOf } from '../../src/lib/proc-stat.js';
import { signalPid } from '../../src/lib/signal.js';
import { sleep, waitFor } from '../../src/lib/wait.js';
import { netnsSkip } from '../helpers/netns.js';
import { flipBit, PASS_THROUGH, readImpairment, Shaper } from './impairment.js';
import { cutMedium, heal, LinkEmulator, partition, restoreMedium, split } from './net-faults.js';
import { parseCommand } from './relay-protocol.js';
import { HB, Listener, send, seqOf, udpTool } from './udp-endpoints.js';
import { payloadOf } from './udp-tool.js';

const run = promisify(execFile);

async function skipReason(): Promise<string | false> {
  const ns = await netnsSkip();
  if (ns) return ns;
  try {
    await run('nft', ['--version']);
    return false;
  } catch {
    const reason = 'nft is not installed (Debian package nftables; scripts/install-deps.sh)';
    if (process.env.CI === 'true') throw new Error(`CI=true but the network-fault tests cannot run: ${reason}`);
    console.log(`# skipped: ${reason}`);
    return reason;
  }
}

/** Nothing more reached `l` after `base` while a datagram sent later on another path did arrive. */
async function nothingCame(l: Listener, base: number, control: Listener, controlBase: number, n: number): Promise<void> {
  await control.await(controlBase, n, 'the control path');
  await sleep(300);
  assert.equal(l.count - base, 0, `${l.address} got ${l.count - base} datagrams through a cut`);
}

async function tables(lan: Lan, host: string): Promise<string> {
  return (await inNs(lan.host(host).ns, ['nft', 'list', 'tables'])).stdout;
}

/** Runs `fn` on a fresh LAN; afterwards none of its namespaces and none of `pids` is left. */
async function onLan(t: TestContext, fn: (lan: Lan, pids: number[]) => Promise<void>): Promise<void> {
  const skip = await skipReason();
  if (skip) return t.skip(skip);
  let prefix = '';
  const pids: number[] = [];
  await withLan(async (lan) => {
    prefix = lan.nsPrefix;
    await fn(lan, pids);
  });
  assert.deepEqual(await namespacesStartingWith(prefix), [], 'namespaces left behind');
  assert.deepEqual(liveOf(pids), [], 'processes left behind');
}

test('impairments from control input are checked; a seed replays its decisions', () => {
  assert.deepEqual(readImpairment({ lossPct: 10 }), { ...PASS_THROUGH, lossPct: 10 });
  assert.throws(() => readImpairment({ loss: 10 }), /unknown impairment field "loss"/);
  assert.throws(() => readImpairment({ lossPct: 101 }), /lossPct must be a number from 0 to 100/);
  assert.throws(() => readImpairment({ delayMs: '5' }), /delayMs must be a number/);
  assert.throws(() => parseCommand('drop everything', []), /not a command/);
  assert.throws(() => parseCommand('{"impairment":{},"targets":["x@eth0"]}', ['b@eth0']), /unknown targets x@eth0/);
  assert.deepEqual(parseCommand('clear', []), { kind: 'clear' });
  assert.deepEqual(parseCommand('{"impairment":null,"targets":["b@eth0"]}', ['b@eth0']), { kind: 'set', impairment: null, targets: ['b@eth0'] });

  const fates = (seed: number): boolean[] => {
    const s = new Shaper(seed, 0);
    return Array.from({ length: 2000 }, () => s.decide(payloadOf(0), { ...PASS_THROUGH, lossPct: 30 }, true).drop);
  };
  assert.deepEqual(fates(7), fates(7));
  assert.notDeepEqual(fates(7), fates(8));
  const lost = fates(7).filter(Boolean).length;
  assert.ok(lost > 500 && lost < 700, `30 % of 2000 lost: ${lost}`);

  const p = payloadOf(3);
  const q = flipBit(p, 0.5);
  const bits = [...p].reduce((n, b, i) => n + popcount(b ^ q[i]!), 0);
  assert.equal(bits, 1);
});

function popcount(x: number): number {
  let n = 0;
  for (let v = x; v; v >>= 1) n += v & 1;
  return n;
}

test('link emulator: pass-through, loss, delay, duplication, reordering, corruption; bad control input', async (t) => {
  await onLan(t, async (lan, pids) => {
    const a = await lan.addHost('a', 1);
    const b = await lan.addHost('b', 2);
    const c = await lan.addHost('c', 3);
    const seed = 4242;
    const em = await LinkEmulator.install(lan, 'a', ['b', 'c'], seed);
    pids.push(em.pid!);
    assert.deepEqual(em.select(), ['b@eth0', 'c@eth0']);
    assert.match(await tables(lan, 'a'), /table ip nemesis_link/);
    // A second emulator on the same host finds the relay ports taken and adds no rules.
    await assert.rejects(LinkEmulator.install(lan, 'a', ['b'], 1), /EADDRINUSE/);
    // b answers every datagram to its sender's port 694, as a heartbeat peer would.
    const atB = await Listener.start(lan, 'b', b.address, HB);
    const atC = await Listener.start(lan, 'c', c.address);

    await t.test('pass-through: every datagram, unchanged, from a\'s own address', async () => {
      await send(lan, 'a', a.address, b.address, 50);
      const got = await atB.await(0, 50, 'pass-through');
      assert.deepEqual(got.map(seqOf), Array.from({ length: 50 }, (_, i) => i));
      assert.ok(got.every((d, i) => d.from === a.address && d.data.equals(payloadOf(i))));
      // Port 7999 is the relay's: the datagrams did go through it.
      assert.ok(got.every((d) => d.port === 7999));
      const n = await em.counters();
      assert.equal(n.byTarget['b@eth0']?.received, 50);
      assert.equal(n.byTarget['b@eth0']?.forwarded, 50);
    });

    await t.test('loss 50 % on a→b only: about half, exactly the ones the seed predicts; a→c untouched', async () => {
      await em.set({ lossPct: 50 }, { peers: ['b'] });
      const base = atB.count;
      await send(lan, 'a', a.address, b.address, 400);
      await send(lan, 'a', a.address, c.address, 50);
      await atC.await(0, 50, 'a→c while a→b is lossy');
      const n = await waitFor('the relay to have seen all 400', async () => {
        const x = (await em.counters()).byTarget['b@eth0']!;
        return x.received === 450 && x.forwarded + x.dropped === 450 && x;
      });
      const got = await atB.await(base, n.forwarded - 50, 'lossy a→b');
      assert.ok(got.length >= 100 && got.length <= 300, `50 % of 400 arrived: ${got.length}`);
      // The relay's stream for b@eth0 (its first target) made 50 pass-through decisions before.
      const s = new Shaper(seed, 0);
      for (let i = 0; i < 50; i++) s.decide(payloadOf(i), PASS_THROUGH, true);
      const kept = Array.from({ length: 400 }, (_, i) => i).filter((i) => !s.decide(payloadOf(i), { ...PASS_THROUGH, lossPct: 50 }, true).drop);
      assert.deepEqual(got.map(seqOf), kept);
      await em.set(null);
    });

    await t.test('delay 200 ms ± 20: a ping-pong over UDP takes at least 150 ms', async () => {
      await em.set({ delayMs: 200, jitterMs: 20 });
      const ping = udpTool(lan, 'a', ['ping', a.address, b.address, String(HB), '3']);
      pids.push(ping.child.pid!);
      const rtts = await waitFor('3 answers to the pings', () => {
        const r = ping.lines.filter((l) => typeof l.rtt === 'number').map((l) => l.rtt as number);
        return r.length >= 3 && r;
      });
      signalPid(ping.child.pid!);
      assert.ok(rtts.every((r) => r >= 150), `round trips ${rtts.map((r) => r.toFixed(1)).join(', ')} ms`);
      const n = (await em.counters()).byTarget['b@eth0']!;
      assert.ok(n.delayed >= 3);
      await em.clear();
    });

    await t.test('duplicate 100 %: two copies of each', async () => {
      await em.set({ duplicatePct: 100 });
      const base = atB.count;
      await send(lan, 'a', a.address, b.address, 10);
      const got = await atB.await(base, 20, 'duplicates');
      const seqs = got.map(seqOf).sort((x, y) => x - y);
      assert.deepEqual(seqs, Array.from({ length: 20 }, (_, i) => Math.floor(i / 2)));
      await em.clear();
    });

    await t.test('reorder 100 %: each datagram behind the next', async () => {
      await em.set({ reorderPct: 100 });
      const base = atB.count;
      await send(lan, 'a', a.address, b.address, 10, 30);
      const got = await atB.await(base, 10, 'reordered');
      assert.deepEqual(got.map(seqOf), [1, 0, 3, 2, 5, 4, 7, 6, 9, 8]);
      await em.clear();
    });

    await t.test('corrupt 100 %: every payload has exactly one bit flipped', async () => {
      await em.set({ corruptPct: 100 });
      const base = atB.count;
      await send(lan, 'a', a.address, b.address, 20, 5);
      const got = await atB.await(base, 20, 'corrupted');
      // No delay, one sender: they arrive in the order sent.
      got.forEach((d, i) => {
        const sent = payloadOf(i);
        assert.equal(d.data.length, sent.length);
        assert.equal([...sent].reduce((n, x, j) => n + popcount(x ^ d.data[j]!), 0), 1, `datagram ${i}`);
      });
      assert.ok((await em.counters()).corrupted >= 20);
      await em.clear();
    });

    await t.test('bad control input gets an error, and the relay carries on', async () => {
      for (const line of ['nonsense', '{"lossPct": 500}', '{"bogus": 1}', '[1, 2]', '{"impairment": {}, "targets": ["zz@eth0"]}']) {
        await assert.rejects(em.control(line), /link relay on a: /, line);
      }
      await assert.rejects(em.set({ lossPct: -1 }), /lossPct must be/);
      await assert.rejects(em.set({ lossPct: 1 }, { peers: ['nobody'] }), /no link matches/);
      const base = atB.count;
      await send(lan, 'a', a.address, b.address, 5);
      await atB.await(base, 5, 'after bad control input');
    });

    await t.test('a relay killed with the host\'s processes: a black hole until ensureRunning(), which keeps the impairments', async () => {
      await em.set({ lossPct: 100 }, { peers: ['c'] });
      assert.equal(await em.ensureRunning(), false);
      const old = em.pid!;
      signalPid(old);
      await waitFor('the relay to be gone', () => !em.alive);
      let [nB, nC] = [atB.count, atC.count];
      await send(lan, 'a', a.address, b.address, 5);
      await sleep(300);
      assert.equal(atB.count, nB, 'the rules still send a→b to the dead relay');
      assert.equal(await em.ensureRunning(), true);
      pids.push(em.pid!);
      assert.notEqual(em.pid, old);
      [nB, nC] = [atB.count, atC.count];
      await send(lan, 'a', a.address, c.address, 10);
      await send(lan, 'a', a.address, b.address, 10);
      await nothingCame(atC, nC, atB, nB, 10);
      assert.equal((await em.counters()).byTarget['c@eth0']?.dropped, 10);
      await em.clear();
    });

    await t.test('stop: final counters, rules gone, a→b direct again', async () => {
      const final = await em.stop();
      assert.ok(final && final.received === 20, `final counters ${JSON.stringify(final)}`);
      assert.doesNotMatch(await tables(lan, 'a'), /nemesis_link/);
      assert.deepEqual(liveOf([em.pid!]), []);
      const base = atB.count;
      await send(lan, 'a', a.address, b.address, 5);
      const got = await atB.await(base, 5, 'direct');
      assert.ok(got.every((d) => d.from === a.address && d.port !== 7999));
    });
  });
});

test('partitions: one way, a split, heal; the relay\'s copies are cut too', async (t) => {
  await onLan(t, async (lan, pids) => {
    const [a, b, c] = [await lan.addHost('a', 1), await lan.addHost('b', 2), await lan.addHost('c', 3)];
    const [atA, atB, atC] = [await Listener.start(lan, 'a', a.address), await Listener.start(lan, 'b', b.address), await Listener.start(lan, 'c', c.address)];

    await partition(lan, [{ from: 'a', to: 'b' }]);
    let [nA, nB, nC] = [atA.count, atB.count, atC.count];
    await send(lan, 'a', a.address, b.address, 10);
    await send(lan, 'b', b.address, a.address, 10);
    await send(lan, 'a', a.address, c.address, 10);
    await atC.await(nC, 10, 'a→c beside a one-way cut');
    await nothingCame(atB, nB, atA, nA, 10);
    assert.match(await tables(lan, 'b'), /table inet nemesis_part/);
    // A node answers from the virtual IPs it holds: those are cut too (by its MAC).
    await inNs(a.ns, ['ip', 'addr', 'add', '10.231.7.100/24', 'dev', 'eth0']);
    nA = atA.count;
    await send(lan, 'a', '10.231.7.100', b.address, 10);
    await send(lan, 'b', b.address, a.address, 10);
    await nothingCame(atB, nB, atA, nA, 10);

    await heal(lan);
    for (const h of ['a', 'b', 'c']) assert.doesNotMatch(await tables(lan, h), /nemesis_part/);
    nB = atB.count;
    await send(lan, 'a', a.address, b.address, 10);
    await atB.await(nB, 10, 'a→b after heal');

    await partition(lan, split([['a'], ['b', 'c']]));
    [nA, nB, nC] = [atA.count, atB.count, atC.count];
    await send(lan, 'a', a.address, b.address, 10);
    await send(lan, 'c', c.address, a.address, 10);
    await send(lan, 'b', b.address, c.address, 10);
    await nothingCame(atB, nB, atC, nC, 10);
    assert.equal(atA.count, nA, 'c→a crossed a split');

    // The relay's copies leave a from a's own address over the same cable: cut as well.
    await heal(lan);
    const em = await LinkEmulator.install(lan, 'a', ['b', 'c'], 1);
    pids.push(em.pid!);
    await partition(lan, [{ from: 'a', to: 'b' }]);
    [nB, nC] = [atB.count, atC.count];
    await send(lan, 'a', a.address, b.address, 10);
    await send(lan, 'a', a.address, c.address, 10);
    await nothingCame(atB, nB, atC, nC, 10);
    assert.equal((await em.counters()).byTarget['b@eth0']?.forwarded, 10);
    await heal(lan, ['b']);
    await send(lan, 'a', a.address, b.address, 10);
    await atB.await(nB, 10, 'a→b through the relay after heal');
    await em.stop();
  });
});

test('a second bridge: eth1 carries traffic, cutting it leaves eth0 alone; impairment per medium; broadcast', async (t) => {
  await onLan(t, async (lan, pids) => {
    const a = await lan.addHost('a', 1);
    const b = await lan.addHost('b', 2);
    await lan.addBridge('br1', '10.231.9');
    const a1 = await lan.attach('a', 'br1', 1, 'eth1');
    const b1 = await lan.attach('b', 'br1', 2, 'eth1');
    assert.equal(b1.address, '10.231.9.2');
    const on0 = await Listener.start(lan, 'b', b.address);
    const on1 = await Listener.start(lan, 'b', b1.address);

    await send(lan, 'a', a1.address, b1.address, 10);
    const got = await on1.await(0, 10, 'over eth1');
    assert.ok(got.every((d) => d.from === a1.address));

    await cutMedium(lan, 'eth1');
    let [n0, n1] = [on0.count, on1.count];
    await send(lan, 'a', a1.address, b1.address, 10);
    await send(lan, 'a', a.address, b.address, 10);
    await nothingCame(on1, n1, on0, n0, 10);

    await restoreMedium(lan, 'eth1');
    n1 = on1.count;
    await waitFor('eth1 to carry traffic again', async () => {
      await send(lan, 'a', a1.address, b1.address, 1);
      return on1.count > n1;
    }, { timeoutMs: 10_000, pollMs: 200 });

    // A partition of one medium only.
    await partition(lan, [{ from: 'a', to: 'b', iface: 'eth1' }]);
    [n0, n1] = [on0.count, on1.count];
    await send(lan, 'a', a1.address, b1.address, 10);
    await send(lan, 'a', a.address, b.address, 10);
    await nothingCame(on1, n1, on0, n0, 10);
    await heal(lan, ['b']);

    const em = await LinkEmulator.install(lan, 'a', ['b'], 9, { ifaces: ['eth0', 'eth1'], broadcast: true });
    pids.push(em.pid!);
    assert.deepEqual(em.select(), ['b@eth0', 'broadcast@eth0', 'b@eth1', 'broadcast@eth1']);
    assert.deepEqual(em.select({ peers: ['b'], ifaces: ['eth1'] }), ['b@eth1']);
    await em.set({ lossPct: 100 }, { ifaces: ['eth1'] });
    [n0, n1] = [on0.count, on1.count];
    await send(lan, 'a', a1.address, b1.address, 10);
    await send(lan, 'a', a.address, b.address, 10);
    await nothingCame(on1, n1, on0, n0, 10);
    assert.equal((await em.counters()).byTarget['b@eth1']?.dropped, 10);

    // A bcast medium: b listens on the broadcast address, as hbd does; the relay re-broadcasts.
    const bcast = await Listener.start(lan, 'b', '10.231.7.255');
    await send(lan, 'a', a.address, '10.231.7.255', 5);
    const heard = await bcast.await(0, 5, 'broadcast through the relay');
    assert.ok(heard.every((d) => d.from === a.address && d.port === 7999));
    assert.equal((await em.counters()).byTarget['broadcast@eth0']?.forwarded, 5);
    await em.stop();
  });
});
