// ucast between several nodes on one machine: each node owns one 127.0.0.x address.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Medium } from '../../src/config/types.js';
import { createTransports, type Transport } from '../../src/media/index.js';
import { localEndpoint, randomPort } from '../helpers/media-endpoints.js';
import { transportCompliance, type Endpoint } from './compliance.js';

/** The ucast lines of an ha.cf shared by all nodes, one per node. */
function ucastLines(addresses: string[]): Medium[] {
  return addresses.map((address, i) => ({ kind: 'ucast', iface: 'lo', address, line: i + 1 }));
}

function ucastLink(addresses: string[], port: number, localAddress?: string): Transport {
  const links = createTransports({ media: ucastLines(addresses), udpport: port, baud: 19200 }, { localAddress });
  assert.equal(links.length, 1, 'all ucast lines of one interface make one link');
  return links[0] as Transport;
}

async function openAll(links: Transport[]): Promise<void> {
  try {
    for (const link of links) await link.open();
  } catch (err) {
    await Promise.all(links.map((l) => l.close()));
    throw err;
  }
}

/** Runs body with open links (one per local address) and always closes them. */
async function withNodes(locals: string[], addresses: string[], body: (nodes: Endpoint[], links: Transport[]) => Promise<void>): Promise<void> {
  const port = randomPort();
  const links = locals.map((local) => ucastLink(addresses, port, local));
  const nodes = links.map((link, i) => localEndpoint(locals[i] as string, link));
  await openAll(links);
  try {
    await body(nodes, links);
  } finally {
    await Promise.all(links.map((l) => l.close()));
  }
}

transportCompliance('ucast on loopback', {
  async pair() {
    const addresses = ['127.0.0.1', '127.0.0.2'];
    const port = randomPort();
    const links = addresses.map((local) => ucastLink(addresses, port, local)) as [Transport, Transport];
    const [a, b] = [localEndpoint('A', links[0]), localEndpoint('B', links[1])];
    await openAll(links);
    return { a, b, dispose: async () => void (await Promise.all(links.map((l) => l.close()))) };
  },
});

describe('ucast', () => {
  const three = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];

  it('one link per interface sends a copy to every other node and skips its own line', async () => {
    await withNodes(three, three, async ([a, b, c], [linkA]) => {
      assert.equal(linkA?.kind, 'ucast');
      assert.equal(linkA?.linkName, 'lo');
      await a!.send(Buffer.from('to all'));
      for (const node of [b!, c!]) {
        const [got] = await node.packets.take(1);
        assert.equal(got?.packet.toString(), 'to all');
        assert.match(got?.from ?? '', /^127\.0\.0\.1:\d+$/, 'sent from our own address, an ephemeral port');
      }
      assert.deepEqual(await a!.packets.settle(200), []);
      assert.equal(linkA?.stats().sent, 2, 'two copies, none to ourselves');
    });
  });

  it('without localAddress, the addresses of the interface tell which line is ours', async () => {
    const port = randomPort();
    const lines = ['127.0.0.1', '127.0.0.2'];
    const mine = ucastLink(lines, port); // lo has 127.0.0.1
    const peer = ucastLink(lines, port, '127.0.0.2');
    const [a, b] = [localEndpoint('A', mine), localEndpoint('B', peer)];
    await openAll([mine, peer]);
    try {
      await a.send(Buffer.from('ping'));
      assert.match((await b.packets.take(1))[0]?.from ?? '', /^127\.0\.0\.1:/);
      await b.send(Buffer.from('pong'));
      assert.equal((await a.packets.take(1))[0]?.packet.toString(), 'pong');
      assert.equal(mine.stats().sent, 1, 'nothing sent to the line naming this node');
    } finally {
      await Promise.all([mine.close(), peer.close()]);
    }
  });

  it('a peer named by host name is resolved (here through /etc/hosts)', async () => {
    await withNodes(['127.0.0.1', '127.0.0.2'], ['localhost', '127.0.0.2'], async ([a, b]) => {
      await b!.send(Buffer.from('by name'));
      assert.equal((await a!.packets.take(1))[0]?.packet.toString(), 'by name');
    });
  });

  it('open() and close() called in any order end in the state of the last call', async () => {
    const port = randomPort();
    const link = ucastLink(three, port, '127.0.0.1');
    const node = localEndpoint('A', link);
    try {
      await Promise.all([link.open(), link.close(), link.open(), link.open()]);
      link.send(Buffer.from('x'));
      await Promise.all([link.close(), link.open(), link.close()]);
      link.send(Buffer.from('y'));
      assert.deepEqual(await node.errors.take(1), [`ucast lo (ha.cf:1,2,3): link is not open; packet not sent`]);
      const other = ucastLink(three, port, '127.0.0.1');
      await other.open(); // the port is really free
      await other.close();
    } finally {
      await link.close();
    }
  });

  it('a second daemon on the same address and port gets a clear error', async () => {
    const port = randomPort();
    const first = ucastLink(three, port, '127.0.0.1');
    const second = ucastLink(three, port, '127.0.0.1');
    await first.open();
    try {
      await assert.rejects(second.open(), (err: Error) => {
        assert.match(err.message, new RegExp(`^ucast lo \\(ha\\.cf:1,2,3\\): cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use \\(EADDRINUSE\\)`));
        assert.match(err.message, /another heartbeat or hbd/);
        assert.match(err.message, /udpport/);
        return true;
      });
      await second.close();
      first.send(Buffer.from('still working'));
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});
