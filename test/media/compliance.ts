// One behaviour for every medium (in the spirit of js-libp2p's transport compliance
// suite): each medium's test file gives a way to make two connected endpoints A and B, and
// this file checks the same promises of the Transport interface on all of them.
//
// An endpoint is a Transport seen from the test: in this process (ucast, serial) or in a
// child process inside a network namespace (bcast, mcast), hence the async methods.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_PACKET_BYTES, type LinkStats } from '../../src/media/index.js';
import { sleep, waitFor, Wakeup } from '../../src/lib/wait.js';

export interface Arrival {
  packet: Buffer;
  from: string;
}

export interface Endpoint {
  readonly name: string;
  /** What the endpoint's packet handler got, in order. */
  readonly packets: Inbox<Arrival>;
  /** Messages of the errors reported through onError. */
  readonly errors: Inbox<string>;
  /** Resolves when Transport.send returned; rejects only if it threw. */
  send(packet: Buffer): Promise<void>;
  stats(): Promise<LinkStats>;
  open(): Promise<void>;
  close(): Promise<void>;
  /** Adds a second packet handler that throws on every packet. */
  addThrowingHandler(): Promise<void>;
}

export interface Pair {
  a: Endpoint;
  b: Endpoint;
  /** Closes both ends and frees what pair() made; also after a failed test. */
  dispose(): Promise<void>;
}

export interface ComplianceTarget {
  /** Why this medium cannot be tested here (printed), or false. */
  skip?: string | false;
  before?(): Promise<void>;
  after?(): Promise<void>;
  /** Two fresh, open endpoints of one link. */
  pair(): Promise<Pair>;
}

/** Collects items and lets a test wait for them. */
export class Inbox<T> {
  private items: T[] = [];
  private readonly arrived = new Wakeup();

  push(item: T): void {
    this.items.push(item);
    this.arrived.notify();
  }

  get size(): number {
    return this.items.length;
  }

  /** Removes and returns the first n items, waiting for them up to timeoutMs. */
  async take(n: number, timeoutMs = 5_000): Promise<T[]> {
    await this.waitFor(() => this.items.length >= n, timeoutMs, () => `expected ${n} items within ${timeoutMs} ms, got ${this.items.length}`);
    return this.items.splice(0, n);
  }

  /** Waits for an item that matches, removes it and everything before it, and returns it. */
  async until(match: (item: T) => boolean, timeoutMs = 5_000): Promise<T> {
    let index = -1;
    await this.waitFor(() => (index = this.items.findIndex(match)) >= 0, timeoutMs, () => `no matching item within ${timeoutMs} ms (${this.items.length} others)`);
    return this.items.splice(0, index + 1)[index] as T;
  }

  /** What arrived within ms (for checks that nothing does). */
  async settle(ms: number): Promise<T[]> {
    await sleep(ms);
    return this.items.splice(0);
  }

  private async waitFor(done: () => boolean, timeoutMs: number, why: () => string): Promise<void> {
    await waitFor('items', done, { timeoutMs, pollMs: timeoutMs, wake: this.arrived, error: () => new Error(why()) });
  }
}

/** Polls until check() stops throwing (counters are updated by callbacks a moment after delivery). */
export async function eventually(check: () => Promise<void>, timeoutMs = 3_000): Promise<void> {
  await waitFor('check', async () => (await check(), true), { timeoutMs, pollMs: 20, error: (err) => err as Error });
}

const text = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Packets a serial framing could mistake for its own markers, and every byte value. */
function awkwardPayloads(): Buffer[] {
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  return [
    Buffer.concat([bytes, bytes, Buffer.from(bytes).reverse(), bytes]),
    text('>>>\nt=status\nsrc=node1\nseq=1\n<<<\n'),
    text('>>>\n$$$\n<<<\n'),
    text('>>>\n<<<\n>>>\nhalf'),
    text('\n$$$AAAA 00000000\n'),
    text('###\n(1)t=status%%%\n'),
    Buffer.from([0x0a, 0x0d, 0x00, 0xff, 0x0a, 0x0a]),
  ];
}

export function transportCompliance(name: string, target: ComplianceTarget): void {
  describe(`${name}: transport compliance`, { skip: target.skip ?? false }, () => {
    before(async () => target.before?.());
    after(async () => target.after?.());

    const withPair = (title: string, body: (p: Pair) => Promise<void>): void => {
      it(title, async () => {
        const pair = await target.pair();
        try {
          await body(pair);
        } finally {
          await pair.dispose();
        }
      });
    };

    withPair('delivers A -> B and B -> A', async ({ a, b }) => {
      await a.send(text('hello from A'));
      const [atB] = await b.packets.take(1);
      assert.equal(atB?.packet.toString(), 'hello from A');
      assert.ok(atB?.from, 'a non-empty sender');
      await b.send(text('hello from B'));
      const [atA] = await a.packets.take(1);
      assert.equal(atA?.packet.toString(), 'hello from B');
    });

    withPair('a node does not receive its own packets', async ({ a, b }) => {
      await a.send(text('echo?'));
      await b.packets.take(1);
      assert.deepEqual(await a.packets.settle(200), []);
    });

    withPair('many packets in a row all arrive, in order', async ({ a, b }) => {
      const count = 500;
      const packets = Array.from({ length: count }, (_, i) => text(`seq ${i} ${'x'.repeat((i * 37) % 300)}`));
      await Promise.all(packets.map((p) => a.send(p)));
      const got = await b.packets.take(count, 10_000);
      assert.deepEqual(
        got.map((g) => g.packet.toString()),
        packets.map((p) => p.toString()),
      );
    });

    withPair('binary payloads with every byte value, and framing look-alikes, survive', async ({ a, b }) => {
      const payloads = awkwardPayloads();
      for (const p of payloads) await a.send(p);
      const got = await b.packets.take(payloads.length);
      got.forEach((g, i) => assert.ok(g.packet.equals(payloads[i] as Buffer), `payload ${i} intact`));
    });

    withPair(`a packet of the maximum size (${MAX_PACKET_BYTES} bytes) passes`, async ({ a, b }) => {
      const big = Buffer.alloc(MAX_PACKET_BYTES);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
      await a.send(big);
      const [got] = await b.packets.take(1, 10_000);
      assert.ok(got?.packet.equals(big), 'max-size packet intact');
    });

    withPair('an oversize packet is refused, counted and reported', async ({ a, b }) => {
      await a.send(Buffer.alloc(MAX_PACKET_BYTES + 1));
      await a.errors.until((m) => m.includes(`${MAX_PACKET_BYTES + 1} bytes`));
      const stats = await a.stats();
      assert.equal(stats.sendErrors, 1);
      assert.equal(stats.sent, 0);
      await a.send(text('still fine'));
      const [got] = await b.packets.take(1);
      assert.equal(got?.packet.toString(), 'still fine', 'nothing of the oversize packet arrived');
    });

    withPair('stats count what was sent and received', async ({ a, b }) => {
      for (let i = 0; i < 20; i++) await a.send(text(`a${i}`));
      for (let i = 0; i < 5; i++) await b.send(text(`b${i}`));
      await b.packets.take(20);
      await a.packets.take(5);
      await eventually(async () => {
        assert.deepEqual(await a.stats(), { sent: 20, received: 5, sendErrors: 0, dropped: 0 });
        assert.deepEqual(await b.stats(), { sent: 5, received: 20, sendErrors: 0, dropped: 0 });
      });
    });

    withPair('close() is idempotent and frees the link for a new open()', async ({ a, b }) => {
      await Promise.all([a.close(), a.close()]);
      await a.close();
      await a.send(text('while closed'));
      await a.errors.until((m) => /not open/.test(m));
      assert.equal((await a.stats()).sendErrors, 1, 'a send on a closed link is counted');
      await a.open(); // the same port or device again: only works if close() let go of it
      await b.send(text('welcome back'));
      assert.equal((await a.packets.until((g) => g.packet.toString() === 'welcome back')).packet.toString(), 'welcome back');
      await a.send(text('glad to be back'));
      await b.packets.until((g) => g.packet.toString() === 'glad to be back');
    });

    withPair('sending after the peer closed does not throw, and the link recovers', async ({ a, b }) => {
      await b.close();
      for (let i = 0; i < 3; i++) await a.send(text(`into the void ${i}`));
      await sleep(100);
      await b.open();
      await a.send(text('after'));
      await b.packets.until((g) => g.packet.toString() === 'after');
    });

    withPair('a packet handler that throws does not stop the link', async ({ a, b }) => {
      await b.addThrowingHandler();
      await a.send(text('one'));
      await a.send(text('two'));
      const got = await b.packets.take(2);
      assert.deepEqual(got.map((g) => g.packet.toString()), ['one', 'two']);
      await b.errors.until((m) => /handler/.test(m));
      await b.send(text('still here'));
      await a.packets.until((g) => g.packet.toString() === 'still here');
    });
  });
}
