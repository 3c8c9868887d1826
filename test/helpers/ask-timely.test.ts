// askTimely, the comparison's way to get real Heartbeat's settled cl_status answer. CI once ran
// `cl_status clientstatus -m alpha ipfail` on a loaded machine: Heartbeat did not reply within
// cl_status's 500 ms, and the comparison took its "No timely response." for Heartbeat's answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { askTimely, type Ran } from './real-heartbeat.js';

const TIMED_OUT: Ran = {
  code: 13,
  stdout: '',
  stderr: "Dec 06 03:01:02 alpha cl_status: [77]: ERROR: Cannot get heartbeat client ipfail's status\nDec 06 03:01:02 alpha cl_status: [77]: ERROR: REASON: No timely response.\n",
};
const OFFLINE: Ran = { code: 1, stdout: 'offline\n', stderr: '' };
const NO_NODE: Ran = { code: 1, stdout: '', stderr: 'ERROR: Cannot get node status\nERROR: REASON: no such node\n' };

function scripted(answers: Ran[]): { ask: () => Promise<Ran>; asked: () => number } {
  let n = 0;
  return { ask: async () => answers[Math.min(n++, answers.length - 1)]!, asked: () => n };
}

test('an answer that came in time is taken as it is, asked once', async () => {
  for (const answer of [OFFLINE, NO_NODE]) {
    const s = scripted([answer]);
    const r = await askTimely(s.ask);
    assert.deepEqual({ code: r.code, stdout: r.stdout, stderr: r.stderr }, answer);
    assert.equal(s.asked(), 1);
  }
});

test('a reply that came too late is asked for again, and the timely answer is the one kept', async () => {
  const s = scripted([TIMED_OUT, TIMED_OUT, OFFLINE]);
  const r = await askTimely(s.ask);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'offline\n');
  assert.equal(r.tries, 3);
  assert.equal(s.asked(), 3);
});

test('a query that never gets a reply keeps its timeout after the tries allowed', async () => {
  const s = scripted([TIMED_OUT]);
  const r = await askTimely(s.ask, 4);
  assert.equal(r.code, 13);
  assert.match(r.stderr, /No timely response/);
  assert.equal(s.asked(), 4);
});
