// A mixed pair (hbd on node1, the preferred node; real Heartbeat 3.0.6 on node2) where an
// operator moves the group twice, one second apart, from either side: hb_standby then
// hb_takeover on the same node, and hb_takeover on one node then on the other. Heartbeat
// ignores a move while the last one is in flight ("Standby in progress", "Other side is in
// flux"); whatever it ignores, the group must end up running on exactly one node, and stay so.
// Needs root, namespaces and the heartbeat package; skips without them, except under CI=true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REAL, withRealHeartbeat, type RealCluster } from '../helpers/real-heartbeat.js';
import { heartbeatErrors, mixedFiles, mixedSkip, ourHandover, vipHeldBy, vipHolders } from '../helpers/mixed-cluster.js';
import { waitFor } from '../../src/lib/wait.js';

const NODES = { node1: 1, node2: 2 };
const SERVERS = ['node1', 'node2'];
const SUBNET = '10.241.186';
const VIP = `${SUBNET}.50`;
const SETTLE_MS = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Tool = 'hb_standby' | 'hb_takeover';
const tool = (c: RealCluster, n: string, t: Tool) => c.run(n, n === 'node1' ? ourHandover(t) : [REAL[t]]);

/** Until one node alone has held the VIP for 8 s running; which one. */
async function settledOwner(c: RealCluster, what: string): Promise<string> {
  let owner: string | null = null;
  let since = Date.now();
  let last: string[] = [];
  await waitFor(
    `${what}: the VIP on one node, for 8 s`,
    async () => {
      last = await vipHolders(c, SERVERS, VIP);
      const now = last.length === 1 ? last[0]! : null;
      if (now !== owner) {
        owner = now;
        since = Date.now();
      }
      return owner !== null && Date.now() - since >= 8000;
    },
    { timeoutMs: SETTLE_MS, pollMs: 250, detail: () => `holders: ${JSON.stringify(last)}\n${c.dump()}` },
  );
  return owner!;
}

const MOVES: [string, Tool, string, Tool][] = [
  ['node1', 'hb_standby', 'node1', 'hb_takeover'],
  ['node2', 'hb_takeover', 'node2', 'hb_standby'],
  ['node2', 'hb_standby', 'node2', 'hb_takeover'],
  ['node1', 'hb_takeover', 'node2', 'hb_takeover'],
  ['node2', 'hb_takeover', 'node1', 'hb_takeover'],
];

test('a mixed pair: two moves one second apart leave the group running on one node', { timeout: 600_000 }, async (t) => {
  const skip = await mixedSkip();
  if (skip) return t.skip(skip);
  await withRealHeartbeat(
    SUBNET,
    NODES,
    (lan) => mixedFiles(lan, SERVERS, 'sha1', `node1 IPaddr::${VIP}/24/eth0\n`),
    async (c) => {
      c.start('node1');
      c.start('node2');
      await vipHeldBy(c, SERVERS, VIP, 'node1', 'cold start', SETTLE_MS);
      await sleep(5000);
      for (const [n1, t1, n2, t2] of MOVES) {
        const what = `${t1} on ${n1}, ${t2} on ${n2} a second later`;
        await tool(c, n1, t1);
        await sleep(1000);
        await tool(c, n2, t2);
        const owner = await settledOwner(c, what);
        console.log(`# ${what}: the group settled on ${owner}`);
      }
      const bad = heartbeatErrors(c.log('node2')).filter((l) => /Both machines own|No one owns/.test(l));
      assert.deepEqual(bad, [], c.dump());
    },
    { hbd: (n) => n === 'node1', label: 'ixmov' },
  );
});
