// hbd over each IP medium between real hosts in network namespaces: ucast, bcast, mcast.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from '../../src/control/client.js';
import type { StatusSnapshot } from '../../src/status/snapshot.js';
import { withLan, type Lan } from '../../src/lib/netns.js';
import { netnsSkip } from '../helpers/netns.js';
import { waitFor } from '../../src/lib/wait.js';
import { HBD } from '../helpers/local-cluster.js';

const MEDIA: Record<string, (peers: string[]) => string[]> = {
  ucast: (peers) => peers.map((p) => `ucast eth0 ${p}`),
  bcast: () => ['bcast eth0'],
  mcast: () => ['mcast eth0 239.1.2.3 694 1 0'],
};

async function waitActive(sock: string, peers: string[], timeoutMs = 15_000): Promise<StatusSnapshot> {
  let last: StatusSnapshot | null = null;
  return waitFor(
    `peers ${peers.join(', ')} active`,
    async () => {
      const r = await request<StatusSnapshot>(sock, { cmd: 'status' }, 1000);
      if (!r.ok) return null;
      last = r.result;
      return peers.every((p) => r.result.nodes.find((n) => n.name === p)?.status === 'active') && r.result;
    },
    { timeoutMs, pollMs: 100, error: () => new Error(`peers ${peers.join(', ')} not active via ${sock}: ${JSON.stringify(last?.nodes)}`) },
  );
}

for (const [kind, lines] of Object.entries(MEDIA)) {
  test(`three nodes form a cluster over ${kind} in network namespaces`, async (t) => {
    const skip = await netnsSkip();
    if (skip) return t.skip(skip);
    const dir = mkdtempSync(join(tmpdir(), `hbts-${kind}-`));
    try {
      await withLan(async (lan: Lan) => {
        const names = ['n1', 'n2', 'n3'];
        const hosts = await Promise.all(names.map((n, i) => lan.addHost(n, i + 1)));
        for (const h of hosts) {
          const cfg = join(dir, h.name);
          mkdirSync(cfg, { recursive: true });
          writeFileSync(
            join(cfg, 'ha.cf'),
            ['keepalive 100ms', 'deadtime 1', 'initdead 3', ...lines(hosts.map((x) => x.address)), `node ${names.join(' ')}`, 'auto_failback on', ''].join('\n'),
          );
          writeFileSync(join(cfg, 'authkeys'), 'auth 1\n1 sha256 netns-secret\n');
          chmodSync(join(cfg, 'authkeys'), 0o600);
          writeFileSync(join(cfg, 'haresources'), 'n1 IPaddr::10.231.7.100/24/eth0\n');
          lan.spawnIn(h.name, [process.execPath, HBD, '-f', '--config-dir', cfg, '--node', h.name, '--state-dir', join(cfg, 'state'), '--control-socket', join(cfg, 'sock')]);
        }
        for (const n of names) {
          const st = await waitActive(join(dir, n, 'sock'), names.filter((x) => x !== n));
          const peerLinks = st.nodes.filter((x) => !x.self).flatMap((x) => x.links);
          assert.ok(peerLinks.length > 0 && peerLinks.every((l) => l.name === 'eth0' && l.up), `${n}: every link up on eth0`);
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
