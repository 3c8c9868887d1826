// The serial medium over a real pty pair (socat), as over a null-modem cable.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createTransports, type Transport } from '../../src/media/index.js';
import { encodeFrame } from '../../src/media/serial-frame.js';
import { localEndpoint } from '../helpers/media-endpoints.js';
import { ptyPair, rawEnd, type PtyPair } from '../helpers/media-pty.js';
import { transportCompliance } from './compliance.js';

function serialLink(device: string, baud = 19200): Transport {
  const [link] = createTransports({ media: [{ kind: 'serial', device, line: 7 }], udpport: 694, baud });
  return link as Transport;
}

async function withPty(body: (pty: PtyPair) => Promise<void>): Promise<void> {
  const pty = await ptyPair();
  try {
    await body(pty);
  } finally {
    await pty.dispose();
  }
}

transportCompliance('serial over a pty pair', {
  async pair() {
    const pty = await ptyPair();
    const links = [serialLink(pty.a), serialLink(pty.b)];
    const dispose = async (): Promise<void> => {
      await Promise.all(links.map((l) => l.close()));
      await pty.dispose();
    };
    try {
      for (const link of links) await link.open();
    } catch (err) {
      await dispose();
      throw err;
    }
    return { a: localEndpoint('A', links[0] as Transport), b: localEndpoint('B', links[1] as Transport), dispose };
  },
});

describe('serial', () => {
  const hbMessage = '>>>\nt=status\nst=active\nsrc=hb3\nseq=1\n<<<\n';

  it("speaks Heartbeat's framing on the wire, both ways", async () => {
    await withPty(async (pty) => {
      const link = serialLink(pty.a);
      const node = localEndpoint('A', link);
      const wire = await rawEnd(pty.b);
      try {
        await link.open();
        assert.equal(link.linkName, pty.a, 'the link is named after the device');
        link.send(Buffer.from(hbMessage));
        assert.equal((await wire.waitFor('<<<\n')).toString('latin1'), `\n${hbMessage}`);
        wire.write(hbMessage); // as Heartbeat 3 writes it
        const [got] = await node.packets.take(1);
        assert.equal(got?.packet.toString('latin1'), hbMessage);
        assert.equal(got?.from, pty.a);
      } finally {
        await wire.close();
        await link.close();
      }
    });
  });

  it('resynchronises after noise and frames cut short, and counts what it dropped', async () => {
    await withPty(async (pty) => {
      const link = serialLink(pty.a);
      const node = localEndpoint('A', link);
      const wire = await rawEnd(pty.b);
      try {
        await link.open();
        const one = Buffer.from([0, 1, 2, 0x0a, 0xff]);
        const two = Buffer.from('two');
        wire.write(Buffer.concat([Buffer.from('\x00\xffnoise$$$QUJD', 'latin1'), encodeFrame(one), Buffer.from('>>>\nt=half\n'), encodeFrame(two)]));
        const got = await node.packets.take(2);
        assert.deepEqual(got.map((g) => g.packet), [one, two]);
        assert.equal(link.stats().dropped, 2);
        assert.equal(link.stats().received, 2);
      } finally {
        await wire.close();
        await link.close();
      }
    });
  });

  it('open() explains a missing device, a device that is not a tty and a baud stty refuses', async () => {
    await assert.rejects(serialLink('/dev/ttyS-nonexistent').open(), /^Error: serial \/dev\/ttyS-nonexistent \(ha\.cf:7\): \/dev\/ttyS-nonexistent does not exist; check the serial line/);
    await assert.rejects(serialLink('/dev/null').open(), /serial \/dev\/null \(ha\.cf:7\): \/dev\/null is not a terminal \(serial\) device/);
    await withPty(async (pty) => {
      const link = serialLink(pty.a, 12345);
      await assert.rejects(link.open(), /stty could not set up .* at 12345 baud: .*check baud in ha\.cf/);
      await link.close();
    });
  });

  it('a line nobody reads stalls, loses its backlog with one report, and recovers', async () => {
    await withPty(async (pty) => {
      const a = serialLink(pty.a);
      const b = serialLink(pty.b);
      const [nodeA, nodeB] = [localEndpoint('A', a), localEndpoint('B', b)];
      try {
        await a.open(); // B is not open: socat stops reading A once B's buffers are full
        const chunk = Buffer.alloc(60_000, 0x5a);
        for (let i = 0; i < 40; i++) a.send(chunk);
        await nodeA.errors.until((m) => /write timeout: the line took nothing for 500 ms/.test(m));
        assert.ok(a.stats().sendErrors > 0, 'dropped packets are counted');
        await b.open(); // the peer starts reading: old frames drain, then fresh ones pass
        a.send(Buffer.from('fresh'));
        await nodeB.packets.until((g) => g.packet.toString() === 'fresh', 10_000);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });

  it('reports a line that goes away and can be closed afterwards', async () => {
    await withPty(async (pty) => {
      const link = serialLink(pty.a);
      const node = localEndpoint('A', link);
      try {
        await link.open();
        await pty.dispose(); // socat gone: like unplugging a USB serial adapter
        await node.errors.until((m) => /closed unexpectedly/.test(m));
        link.send(Buffer.from('nobody there'));
        await node.errors.until((m) => /not open/.test(m));
      } finally {
        await link.close();
      }
    });
  });

  it('close() gives the file descriptor back', async () => {
    await withPty(async (pty) => {
      const before = readdirSync('/proc/self/fd').length;
      const link = serialLink(pty.a);
      await link.open();
      assert.equal(readdirSync('/proc/self/fd').length, before + 1);
      await link.close();
      await link.close();
      assert.equal(readdirSync('/proc/self/fd').length, before);
    });
  });
});
