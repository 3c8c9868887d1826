// The compliance target for media that need a real LAN (bcast, mcast): two hosts in network
// namespaces on one bridge, each running its link in a media-peer child process.
import type { Medium } from '../../src/config/types.js';
import type { ComplianceTarget, Pair } from '../media/compliance.js';
import { remoteEndpoint, randomPort, type PeerSpec, type RemoteEndpoint } from './media-endpoints.js';
import { Lan } from '../../src/lib/netns.js';

/** Starts one media-peer per host, each with the medium `medium(port)`, and opens them. */
export async function remotePeers(lan: Lan, hosts: string[], medium: (port: number) => Medium, port = randomPort()): Promise<RemoteEndpoint[]> {
  const spec: PeerSpec = { media: [medium(port)], udpport: port, baud: 19200 };
  const peers: RemoteEndpoint[] = [];
  try {
    for (const host of hosts) {
      peers.push(await remoteEndpoint(host.toUpperCase(), (argv) => lan.spawnIn(host, argv), spec));
    }
    await Promise.all(peers.map((p) => p.open()));
    return peers;
  } catch (err) {
    await Promise.all(peers.map((p) => p.stop()));
    throw err;
  }
}

export function namespaceTarget(subnet: string, medium: (port: number) => Medium, skip: string | false): ComplianceTarget {
  let lan: Lan | undefined;
  return {
    skip,
    async before() {
      lan = new Lan({ subnet });
      await lan.create();
      await lan.addHost('a', 1);
      await lan.addHost('b', 2);
    },
    async after() {
      await lan?.destroy();
    },
    async pair(): Promise<Pair> {
      if (!lan) throw new Error('namespaceTarget: before() did not run');
      const [a, b] = (await remotePeers(lan, ['a', 'b'], medium)) as [RemoteEndpoint, RemoteEndpoint];
      return { a, b, dispose: async () => void (await Promise.all([a.stop(), b.stop()])) };
    },
  };
}
