// The rolling upgrade, end to end: two real Heartbeat 3.0.6 nodes serve a VIP; the standby's
// daemon is stopped and hbd started in its place on the same files (and the same uuid and
// generation files); hb_standby on the real node moves the group to hbd; the other node is
// replaced the same way (its return as the preferred node fails the group back). A client on
// the LAN pings the VIP all along: it must never go without an answer for longer than one
// failover (deadtime), and neither log may show Heartbeat's failure patterns. Needs root,
// namespaces and the heartbeat package; skips without them, except under CI=true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REAL, withRealHeartbeat, type RealCluster } from '../helpers/real-heartbeat.js';
import { heartbeatErrors, mixedFiles, mixedSkip, ourClStatus, pingVip, realHbStandby, TIMERS, vipHeldBy, vipHolders } from '../helpers/mixed-cluster.js';
import { waitFor } from '../../src/lib/wait.js';

const SUBNET = '10.231.185';
const VIP = `${SUBNET}.50`;
const NODES = { node1: 1, node2: 2, client: 9 };
const MOVE_MS = 90_000;

const SERVERS = ['node1', 'node2'];
const holders = (c: RealCluster) => vipHolders(c, SERVERS, VIP);
const heldBy = (c: RealCluster, node: string, what: string) => vipHeldBy(c, SERVERS, VIP, node, what, MOVE_MS);

/** Until `node` sees `peer` active, asking the daemon `node` runs now. */
async function seesActive(c: RealCluster, node: string, peer: string, hbd: boolean): Promise<void> {
  const argv = hbd ? [...ourClStatus(), 'nodestatus', peer] : [REAL.cl_status, 'nodestatus', peer];
  await waitFor(`${node} sees ${peer} active`, async () => (await c.run(node, argv)).stdout === 'active\n', { timeoutMs: MOVE_MS, pollMs: 500, detail: () => c.dump() });
}

test('rolling upgrade: two real Heartbeat nodes replaced by hbd one at a time, the VIP served throughout', { timeout: 600_000 }, async (t) => {
  const skip = await mixedSkip();
  if (skip) return t.skip(skip);
  const hbd = new Set<string>();
  await withRealHeartbeat(
    SUBNET,
    NODES,
    (lan) => mixedFiles(lan, ['node1', 'node2'], 'sha1', `node1 IPaddr::${VIP}/24/eth0\n`),
    async (c) => {
      // Heartbeat alone, as the cluster runs before the upgrade (the preferred node first: its
      // cold start with both at once can fall into its own race).
      c.start('node1');
      await heldBy(c, 'node1', 'Heartbeat cluster');
      c.start('node2');
      await seesActive(c, 'node1', 'node2', false);
      const ping = pingVip(c, 'client', VIP);
      try {
        // 1. The standby is replaced.
        await c.kill('node2', 'SIGTERM');
        hbd.add('node2');
        c.start('node2');
        await seesActive(c, 'node1', 'node2', false);
        await seesActive(c, 'node2', 'node1', true);
        await new Promise((r) => setTimeout(r, 5000));
        // 2. The group moves to it.
        await realHbStandby(c, 'node1');
        await heldBy(c, 'node2', 'hb_standby on the real node');
        await new Promise((r) => setTimeout(r, 3000));
        // 3. The other node is replaced; back as the preferred node, it gets the group back.
        await c.kill('node1', 'SIGTERM');
        hbd.add('node1');
        c.start('node1');
        await seesActive(c, 'node2', 'node1', true);
        await heldBy(c, 'node1', 'node1 replaced: failback');
        await new Promise((r) => setTimeout(r, 2000));
      } finally {
        ping.child.kill('SIGKILL');
      }
      const a = ping.answers;
      assert.ok(a.length > 50, `the client's ping answered ${a.length} times`);
      const gap = ping.longestGapMs();
      console.log(`# rolling upgrade: ${a.length} answers over ${(a[a.length - 1]! - a[0]!).toFixed(1)} s, longest gap ${gap} ms`);
      assert.ok(gap < TIMERS.deadtime * 1000, `the client went ${gap} ms without an answer (more than one failover, deadtime ${TIMERS.deadtime} s)`);
      for (const n of ['node1', 'node2']) {
        const bad = heartbeatErrors(c.log(n)).filter((l) => /Both machines own|No one owns/.test(l));
        assert.deepEqual(bad, [], `${n}'s log\n${c.dump()}`);
      }
    },
    { hbd: (n) => hbd.has(n), label: 'hiroll' },
  );
});
