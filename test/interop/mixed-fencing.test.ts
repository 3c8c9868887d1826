// A mixed pair with a fence device (issue 18): hbd on node1 (the preferred node), a real
// Heartbeat 3.0.6 on node2, the same ha.cf with `stonith_host` naming a power switch for the
// namespace hosts (test/helpers/power-switch.ts). With fencing, hbd starts a group only once
// an hbd peer acked its run and granted the start; a Heartbeat peer sends neither, and its own
// resource negotiation decides instead. Cold start from the preferred node; kill -9 of
// Heartbeat: hbd fences node2 and keeps the group; kill -9 of hbd: its guard's last words
// hand the group to node2 at once (no "lost a lot of packets!" there); hbd's restart takes it
// back. Needs root, namespaces and the heartbeat package; skips without them, except under CI=true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withRealHeartbeat, type RealCluster } from '../helpers/real-heartbeat.js';
import { heartbeatErrors, mixedFiles, mixedSkip, vipHeldBy, vipHolders } from '../helpers/mixed-cluster.js';
import { PowerSwitch } from '../helpers/power-switch.js';
import { waitFor } from '../../src/lib/wait.js';

const NODES = { node1: 1, node2: 2 };
const SERVERS = ['node1', 'node2'];
const SUBNET = '10.241.185';
const VIP = `${SUBNET}.50`;
const MOVE_MS = 60_000;

const heldBy = (c: RealCluster, node: string, what: string) => vipHeldBy(c, SERVERS, VIP, node, what, MOVE_MS);

async function scenario(c: RealCluster, power: PowerSwitch): Promise<void> {
  power.start();
  c.start('node1');
  c.start('node2');
  await heldBy(c, 'node1', 'cold start with fencing');
  await new Promise((r) => setTimeout(r, 3000));
  await c.kill('node2');
  await waitFor('hbd fences node2', () => /node node2 now reset\./.test(c.log('node1')), { timeoutMs: MOVE_MS, pollMs: 250, detail: () => c.dump() });
  assert.deepEqual(power.offs, ['node2'], 'the switch powered node2 off');
  assert.match(c.log('node1'), /Resetting node node2 with \[stonith external\/ixpower\]/);
  assert.deepEqual(await vipHolders(c, SERVERS, VIP), ['node1'], 'the group stayed on node1');
  await power.powerOn('node2');
  const rejoin = c.log('node2').length;
  c.start('node2');
  await waitFor('node2 rejoins', () => /Status update for node node1: status active/.test(c.log('node2').slice(rejoin)), { timeoutMs: MOVE_MS, pollMs: 250, detail: () => c.dump() });
  await new Promise((r) => setTimeout(r, 5000));
  assert.deepEqual(await vipHolders(c, SERVERS, VIP), ['node1'], 'node2 took nothing on its return');
  const before = c.log('node2').length;
  await c.kill('node1');
  await heldBy(c, 'node2', 'kill -9 of hbd');
  const offs = power.offs.length;
  // Heartbeat takes the last words for a clean goodbye: it fences no one (if it did, node1 is off now).
  if (power.offs.length > 1) await power.powerOn('node1');
  c.start('node1');
  await heldBy(c, 'node1', 'hbd restarted: failback');
  const log = c.log('node2');
  assert.doesNotMatch(log.slice(before), /lost a lot of packets|lost packet\(s\)/, 'the last words came in sequence');
  const bad = heartbeatErrors(log).filter((l) => !/stonith|STONITH/i.test(l));
  assert.deepEqual(bad, [], `node2's log\n${c.dump()}`);
  console.log(`# fencing: switch powered off ${power.offs.join(', ')}; after kill -9 of hbd: ${offs > 1 ? 'Heartbeat fenced node1' : 'Heartbeat fenced nothing (clean goodbye)'}`);
}

test('a mixed pair with fencing: cold start, kill -9 of either, failback', { timeout: 300_000 }, async (t) => {
  const skip = await mixedSkip();
  if (skip) return t.skip(skip);
  let power: PowerSwitch | null = null;
  await withRealHeartbeat(
    SUBNET,
    NODES,
    (lan) => {
      power ??= new PowerSwitch(lan, SERVERS);
      const files = mixedFiles(lan, SERVERS, 'sha1', `node1 IPaddr::${VIP}/24/eth0\n`);
      return { ...files, haCf: `${files.haCf}${power.haCfLine()}\n`, stonithPlugins: power.plugins() };
    },
    async (c) => {
      try {
        await scenario(c, power!);
      } finally {
        power!.stop();
      }
    },
    { hbd: (n) => n === 'node1', label: 'ixfen' },
  );
});
