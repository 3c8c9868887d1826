import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pollUntil, waitFor, Wakeup } from '../../src/lib/wait.js';

test('waitFor returns the first truthy value; a throw only means "not yet"', async () => {
  let n = 0;
  const v = await waitFor('three tries', () => {
    n++;
    if (n === 1) throw new Error('not up');
    return n >= 3 && `try ${n}`;
  }, { pollMs: 1 });
  assert.equal(v, 'try 3');
});

test('a timeout names what was awaited, the last error and the detail', async () => {
  await assert.rejects(
    waitFor('godot', () => {
      throw new Error('still on the road');
    }, { timeoutMs: 30, pollMs: 5, detail: () => 'the logs' }),
    { message: 'timed out after 30 ms waiting for godot (last error: still on the road)\nthe logs' },
  );
  await assert.rejects(waitFor('x', () => false, { timeoutMs: 10, error: () => new Error('mine') }), { message: 'mine' });
});

test('a timeout after a throw and then clean "not yet" answers blames no error', async () => {
  let n = 0;
  await assert.rejects(
    waitFor('the group', () => {
      if (n++ === 0) throw new Error('no socket yet');
      return false;
    }, { timeoutMs: 30, pollMs: 5 }),
    { message: 'timed out after 30 ms waiting for the group' },
  );
});

test('pollUntil gives null at the deadline; notify() wakes a long poll at once', async () => {
  assert.equal(await pollUntil(() => false, { timeoutMs: 10, pollMs: 2 }), null);
  const wake = new Wakeup();
  let ready = false;
  setTimeout(() => {
    ready = true;
    wake.notify();
  }, 20);
  const t0 = performance.now();
  assert.equal(await pollUntil(() => ready, { timeoutMs: 5000, pollMs: 5000, wake }), true);
  assert.ok(performance.now() - t0 < 1000);
});
