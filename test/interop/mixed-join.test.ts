// A real Heartbeat 3.0.6 node and an hbd node in one cluster, on the same unchanged ha.cf,
// authkeys and haresources, once for each authentication method Heartbeat has (crc, md5,
// sha1): the three pairs run at once, each on its own namespace LAN. Each node has its own
// network, UTS and mount namespace (its own /etc/ha.d, /var/lib/heartbeat, /var/log, /run).
// The real node must finish joining (its reqnodes answered), see ours `active` and let
// cl_status sign on; ours must see it `active`; its log must have no flow-control, auth or
// protocol errors, and ours no drift warning. Needs root, namespaces and the heartbeat
// package; skips without them, except under CI=true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REAL, withRealHeartbeat, type RealCluster } from '../helpers/real-heartbeat.js';
import { heartbeatErrors, mixedFiles, mixedSkip, ourClStatus } from '../helpers/mixed-cluster.js';
import { waitFor } from '../../src/lib/wait.js';

const METHODS = [
  { method: 'crc', subnet: '10.231.180' },
  { method: 'md5', subnet: '10.231.181' },
  { method: 'sha1', subnet: '10.231.182' },
] as const;
const NODES = { node1: 1, node2: 2 };
/** initdead of mixedFiles, plus the slack a loaded 2-core machine needs to start Heartbeat. */
const JOIN_MS = 12_000 + 30_000;

async function joined(c: RealCluster, method: string): Promise<void> {
  const real = (args: string[]) => c.run('node1', [REAL.cl_status, ...args]);
  const ours = (args: string[]) => c.run('node2', [...ourClStatus(), ...args]);
  let last: unknown[] = [];
  await waitFor(
    `${method}: each node sees the other active`,
    async () => {
      const answers = await Promise.all([real(['nodestatus', 'node2']), real(['listnodes']), ours(['nodestatus', 'node1'])]);
      last = answers;
      const [r2, list, o1] = answers;
      return r2!.code === 0 && r2!.stdout === 'active\n' && list!.stdout.split('\n').sort().join(' ').trim() === 'node1 node2' && o1!.stdout === 'active\n';
    },
    { timeoutMs: JOIN_MS, pollMs: 500, detail: () => `last answers: ${JSON.stringify(last)}\n${c.dump()}` },
  );
  // Some seconds of steady state: flow control and retransmission have time to go wrong.
  await new Promise((r) => setTimeout(r, Number(process.env.HI_STEADY_MS ?? 8000)));
  const realLog = c.log('node1');
  const ourLog = c.log('node2');
  if (process.env.HI_SHOW_LOGS) console.log(`--- ${method} node1\n${realLog}\n--- ${method} node2\n${ourLog}`);
  assert.deepEqual(heartbeatErrors(realLog), [], `${method}: the real node's log has errors`);
  assert.doesNotMatch(ourLog, /config digest|drift/i, `${method}: our node warned of drift against a Heartbeat peer`);
  assert.match(realLog, /Status update for node node2: status active/);
  assert.match(ourLog, /Status update for node node1: status active/);
  // cl_status on the real node signs on (it could not while the node never finished joining).
  const hb = await real(['hbstatus']);
  assert.equal(hb.code, 0, `cl_status hbstatus: ${JSON.stringify(hb)}`);
}

test('a real Heartbeat 3.0.6 node and hbd join one cluster under crc, md5 and sha1', { timeout: 240_000 }, async (t) => {
  const skip = await mixedSkip();
  if (skip) return t.skip(skip);
  await Promise.all(
    METHODS.map(({ method, subnet }) =>
      withRealHeartbeat(
        subnet,
        NODES,
        (lan) => mixedFiles(lan, Object.keys(NODES), method, ''),
        async (c) => {
          c.start('node1');
          c.start('node2');
          await joined(c, method);
        },
        { hbd: (n) => n === 'node2', label: `hi${method}` },
      ),
    ),
  );
});
