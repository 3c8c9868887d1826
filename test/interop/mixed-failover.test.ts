// A mixed pair with a virtual IP (haresources mode, auto_failback on), each implementation as
// the preferred node in turn (two clusters at once, each on its own namespace LAN): cold start
// from the preferred node, kill -9 of the preferred node's daemon and the other takes over,
// restart and the group fails back; then hb_standby on the preferred node moves it across and
// hb_takeover there brings it back, hb_takeover and hb_standby on the other node the same; a
// kill -9 and restart of the other node move nothing. Neither log may show Heartbeat's failure
// patterns, nor a loss of hbd's packets (its last words come in sequence). Both hosts serve
// HTTP; a client asks the VIP every 100 ms: never two nodes answering at once, and never none
// for longer than deadtime plus a takeover. Needs root, namespaces and the heartbeat package;
// skips without them, except under CI=true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REAL, withRealHeartbeat, type RealCluster } from '../helpers/real-heartbeat.js';
import { heartbeatErrors, mixedFiles, mixedSkip, ourHandover, probeHttp, realHbStandby, serveHttp, TIMERS, vipHeldBy, vipHolders } from '../helpers/mixed-cluster.js';
import { waitFor } from '../../src/lib/wait.js';

const NODES = { node1: 1, node2: 2, client: 9 };
const SERVERS = ['node1', 'node2'];
const CASES = [
  { preferred: 'heartbeat', subnet: '10.241.183' },
  { preferred: 'hbd', subnet: '10.241.184' },
] as const;
const MOVE_MS = 60_000;
/** What a takeover may take on a loaded machine after deadtime, for the client's longest wait. */
const TAKEOVER_S = 5;

const holders = (c: RealCluster, vip: string) => vipHolders(c, SERVERS, vip);
const heldBy = (c: RealCluster, vip: string, node: string, what: string) => vipHeldBy(c, SERVERS, vip, node, what, MOVE_MS);

/** After a kill -9 of real Heartbeat its VIP stays configured (nothing removes it): there only the taker is checked. */
async function takenBy(c: RealCluster, vip: string, node: string, what: string): Promise<void> {
  await waitFor(`${what}: ${node} holds the VIP`, async () => (await holders(c, vip)).includes(node), { timeoutMs: MOVE_MS, pollMs: 250, detail: () => c.dump() });
}

function noFailurePatterns(c: RealCluster, what: string): void {
  for (const n of SERVERS) {
    const bad = heartbeatErrors(c.log(n)).filter((l) => /Both machines own|No one owns/.test(l));
    assert.deepEqual(bad, [], `${what}: ${n}'s log\n${c.dump()}`);
  }
}

async function scenario(c: RealCluster, preferred: 'heartbeat' | 'hbd', vip: string): Promise<void> {
  const label = `${preferred} preferred`;
  const isHbd = (n: string) => (n === 'node1') === (preferred === 'hbd');
  const standby = (n: string) => (isHbd(n) ? c.run(n, ourHandover('hb_standby')) : realHbStandby(c, n));
  const takeover = (n: string) => c.run(n, isHbd(n) ? ourHandover('hb_takeover') : [REAL.hb_takeover]);
  serveHttp(c, SERVERS);
  c.start('node1');
  c.start('node2');
  await heldBy(c, vip, 'node1', `${label}, cold start`);
  // A client on the LAN: never without an answer for longer than a deadtime and a takeover.
  const http = probeHttp(c, 'client', vip);
  const marks: [number, string][] = [];
  try {
    await moves(c, label, vip, standby, takeover, (what) => marks.push([Date.now(), what]));
  } finally {
    http.child.kill('SIGKILL');
  }
  const gap = http.longestGapMs();
  console.log(`# ${label}: ${http.answers.length} HTTP answers, longest gap ${gap} ms (${gapAfter(http.answers, marks)})`);
  assert.ok(gap < (TIMERS.deadtime + TAKEOVER_S) * 1000, `${label}: the client went ${gap} ms without an answer`);
  assert.deepEqual(http.bothAnswered(), [], `${label}: two nodes answered at once`);
  noFailurePatterns(c, label);
  for (const n of SERVERS) assert.doesNotMatch(c.log(n), /lost a lot of packets/, `${label}: ${n} lost hbd's packets`);
}

/** Which move the longest gap between two answers followed, for the report. */
function gapAfter(answers: { sent: number }[], marks: [number, string][]): string {
  const a = [...answers].sort((x, y) => x.sent - y.sent);
  let at = 0;
  let gap = 0;
  for (let i = 1; i < a.length; i++) if (a[i]!.sent - a[i - 1]!.sent > gap) [gap, at] = [a[i]!.sent - a[i - 1]!.sent, a[i - 1]!.sent];
  const before = marks.filter(([t]) => t <= at + 1000).at(-1);
  return before ? `${Math.round(at - before[0])} ms after ${before[1]}` : 'before the first move';
}

type Switch = (n: string) => Promise<unknown>;

async function moves(c: RealCluster, label: string, vip: string, standby: Switch, takeover: Switch, mark: (what: string) => void): Promise<void> {
  mark('kill -9 of node1');
  await c.kill('node1');
  await takenBy(c, vip, 'node2', `${label}, kill -9 of node1`);
  mark('restart of node1');
  c.start('node1');
  await heldBy(c, vip, 'node1', `${label}, node1 restarted: failback`);
  // Settled both ways before an operator moves anything (Heartbeat ignores hb_standby in flux).
  await new Promise((r) => setTimeout(r, 5000));
  mark('hb_standby on node1');
  await standby('node1');
  await heldBy(c, vip, 'node2', `${label}, hb_standby on node1`);
  await new Promise((r) => setTimeout(r, 5000));
  mark('hb_takeover on node1');
  await takeover('node1');
  await heldBy(c, vip, 'node1', `${label}, hb_takeover on node1`);
  // The same from the other side.
  await new Promise((r) => setTimeout(r, 5000));
  mark('hb_takeover on node2');
  await takeover('node2');
  await heldBy(c, vip, 'node2', `${label}, hb_takeover on node2`);
  await new Promise((r) => setTimeout(r, 5000));
  mark('hb_standby on node2');
  await standby('node2');
  await heldBy(c, vip, 'node1', `${label}, hb_standby on node2`);
  // kill -9 of the other node changes nothing; its restart neither.
  mark('kill -9 of node2');
  await c.kill('node2');
  await new Promise((r) => setTimeout(r, 8000));
  assert.deepEqual(await holders(c, vip), ['node1'], `${label}: kill -9 of node2 moved the VIP`);
  mark('restart of node2');
  c.start('node2');
  await new Promise((r) => setTimeout(r, 10_000));
  assert.deepEqual(await holders(c, vip), ['node1'], `${label}: node2's restart moved the VIP`);
}

test('a mixed pair with a VIP: cold start, kill -9, failback, hb_standby and hb_takeover', { timeout: 600_000 }, async (t) => {
  const skip = await mixedSkip();
  if (skip) return t.skip(skip);
  await Promise.all(
    CASES.map(({ preferred, subnet }) => {
      const vip = `${subnet}.50`;
      return withRealHeartbeat(
        subnet,
        NODES,
        (lan) => mixedFiles(lan, SERVERS, 'sha1', `node1 IPaddr::${vip}/24/eth0\n`),
        (c) => scenario(c, preferred, vip),
        { hbd: (n) => (n === 'node1') === (preferred === 'hbd'), label: `ixfo${preferred.slice(0, 2)}` },
      );
    }),
  );
});
