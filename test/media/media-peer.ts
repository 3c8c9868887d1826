// A link in a child process, for tests that need another network namespace (a Node process
// cannot enter one itself). Started by test/helpers/media-endpoints.ts as
//   node media-peer.js '<PeerSpec as JSON>'
// it prints JSON lines (ready, packet, error, replies) and takes requests on stdin.
// Without an argument it does nothing, so a test runner that picks it up finds no tests.
import { createInterface } from 'node:readline';
import { createTransports } from '../../src/media/index.js';
import type { PeerSpec } from '../helpers/media-endpoints.js';

const out = (msg: object): void => void process.stdout.write(JSON.stringify(msg) + '\n');

async function main(spec: PeerSpec): Promise<void> {
  const links = createTransports({ media: spec.media, udpport: spec.udpport, baud: spec.baud }, { localAddress: spec.localAddress });
  const link = links[0];
  if (!link || links.length !== 1) throw new Error(`media-peer: the spec must make exactly one link, it made ${links.length}`);
  link.onPacket((packet, from) => out({ event: 'packet', data: packet.toString('base64'), from }));
  link.onError((err) => out({ event: 'error', message: err.message }));

  const handle = async (op: string, data: string | undefined): Promise<unknown> => {
    switch (op) {
      case 'open':
        return link.open();
      case 'close':
        return link.close();
      case 'send':
        return link.send(Buffer.from(data ?? '', 'base64'));
      case 'stats':
        return link.stats();
      case 'throwingHandler':
        return link.onPacket(() => {
          throw new Error('a packet handler failing on purpose');
        });
      case 'exit':
        await link.close();
        out({ event: 'bye' });
        process.exit(0);
      default:
        throw new Error(`unknown op ${op}`);
    }
  };

  createInterface({ input: process.stdin })
    .on('line', (line) => {
      const { id, op, data } = JSON.parse(line) as { id: number; op: string; data?: string };
      handle(op, data).then(
        (result) => out({ reply: id, ok: true, result }),
        (err: unknown) => out({ reply: id, ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
    })
    .on('close', () => process.exit(0)); // the test is gone: so are we
  out({ event: 'ready', kind: link.kind, linkName: link.linkName });
}

const arg = process.argv[2];
if (arg) {
  main(JSON.parse(arg) as PeerSpec).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
