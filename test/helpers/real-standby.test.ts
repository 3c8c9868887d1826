// realHbStandby, the mixed-cluster tests' hb_standby on a real Heartbeat node, against a
// scripted Heartbeat log. CI once ran hb_standby in the second when Heartbeat's auto_failback
// retried a hand-back: Heartbeat logged "Standby in progress- new request from node1 ignored",
// the request was lost, and the rolling-upgrade test waited 90 s for a move never asked for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realHbStandby } from './mixed-cluster.js';
import type { RealCluster } from './real-heartbeat.js';

/** A cluster whose node1 log answers each hb_standby with the next of `answers` (lines, and lines that follow later). */
function scripted(answers: { now: string[]; later?: string[] }[]): { c: RealCluster; runs: () => number } {
  let log = 'Dec 06 02:02:57 node1 heartbeat: [6784]: info: Status update for node node2: status active\n';
  let runs = 0;
  const c = {
    log: () => log,
    dump: () => log,
    run: async () => {
      const a = answers[runs++];
      if (a) {
        log += a.now.map((l) => `${l}\n`).join('');
        setTimeout(() => (log += (a.later ?? []).map((l) => `${l}\n`).join('')), 300);
      }
      return { code: 0, stdout: '', stderr: '' };
    },
  } as unknown as RealCluster;
  return { c, runs: () => runs };
}

const ACCEPTED = { now: ['info: node1 wants to go standby [all]'] };

test('a request Heartbeat accepts is made once', async () => {
  const { c, runs } = scripted([ACCEPTED]);
  await realHbStandby(c, 'node1', 5000);
  assert.equal(runs(), 1);
});

test('a request dropped while an auto_failback standby is under way is made again once that one is over', async () => {
  const { c, runs } = scripted([
    {
      now: ['info: node1 wants to go standby [foreign]', 'WARN: Standby in progress- new request from node1 ignored [3600 seconds left]'],
      later: ['info: Local standby process completed [foreign].', 'info: Other node completed standby takeover of foreign resources.'],
    },
    ACCEPTED,
  ]);
  await realHbStandby(c, 'node1', 10_000);
  assert.equal(runs(), 2);
});

test('a hand-back of foreign resources is not taken for our request, and a Heartbeat that never answers is an error', async () => {
  const { c, runs } = scripted([{ now: ['info: node1 wants to go standby [foreign]'] }]);
  await assert.rejects(realHbStandby(c, 'node1', 1500), /node1's Heartbeat to answer hb_standby/);
  assert.equal(runs(), 1);
});
