import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter, suppressedSuffix } from '../../src/lib/ratelimit.js';

test('first event of a key is allowed, the rest of the window suppressed', () => {
  const rl = new RateLimiter({ windowMs: 60_000 });
  assert.deepEqual(rl.check('10.0.0.9', 1000), { allowed: true, suppressed: 0 });
  for (let i = 1; i <= 12; i++) {
    assert.deepEqual(rl.check('10.0.0.9', 1000 + i * 1000), { allowed: false, suppressed: i });
  }
  // Still inside the window one millisecond before its end.
  assert.equal(rl.check('10.0.0.9', 60_999).allowed, false);
});

test('the next allowed event reports how many were suppressed, then the count restarts', () => {
  const rl = new RateLimiter({ windowMs: 60_000 });
  rl.check('nodearch2', 0);
  for (let i = 0; i < 12; i++) rl.check('nodearch2', 100 + i);
  const next = rl.check('nodearch2', 60_000);
  assert.deepEqual(next, { allowed: true, suppressed: 12 });
  assert.equal(`bad node [nodearch2] in message${suppressedSuffix(next.suppressed)}`,
    'bad node [nodearch2] in message (12 similar messages suppressed)');
  // A new window started at 60 000.
  assert.equal(rl.check('nodearch2', 119_999).allowed, false);
  assert.deepEqual(rl.check('nodearch2', 120_000), { allowed: true, suppressed: 1 });
  // Quiet sender: nothing to report next time.
  assert.deepEqual(rl.check('nodearch2', 500_000), { allowed: true, suppressed: 0 });
});

test('keys are independent', () => {
  const rl = new RateLimiter({ windowMs: 1000 });
  assert.equal(rl.check('a', 0).allowed, true);
  assert.equal(rl.check('b', 10).allowed, true);
  assert.equal(rl.check('a', 20).allowed, false);
  assert.equal(rl.check('b', 30).allowed, false);
  assert.equal(rl.check('b', 40).allowed, false);
  assert.deepEqual(rl.check('a', 1000), { allowed: true, suppressed: 1 });
  assert.equal(rl.check('b', 1009).allowed, false);
  assert.deepEqual(rl.check('b', 1010), { allowed: true, suppressed: 3 });
});

test('the key table is bounded and forgets the oldest window first', () => {
  const rl = new RateLimiter({ windowMs: 60_000, maxKeys: 3 });
  rl.check('a', 0);
  rl.check('b', 1);
  rl.check('c', 2);
  rl.check('a', 60_000); // a's window restarts: it is now the newest
  assert.equal(rl.size, 3);
  rl.check('d', 60_001);
  assert.equal(rl.size, 3);
  assert.equal(rl.has('b'), false, 'b had the oldest window');
  assert.ok(rl.has('a') && rl.has('c') && rl.has('d'));
  assert.equal(rl.evictions, 1);
  // A flood of distinct spoofed keys never grows the table.
  for (let i = 0; i < 10_000; i++) rl.check(`spoof-${i}`, 70_000 + i);
  assert.equal(rl.size, 3);
  assert.equal(rl.evictions, 10_001);
  // A forgotten key starts afresh.
  assert.deepEqual(rl.check('b', 80_000), { allowed: true, suppressed: 0 });
});

test('sweep returns quiet keys that still owe a suppressed count and frees them', () => {
  const rl = new RateLimiter({ windowMs: 1000 });
  rl.check('x', 0);
  rl.check('x', 1);
  rl.check('x', 2);
  rl.check('y', 0);
  rl.check('z', 900);
  rl.check('z', 901);
  assert.deepEqual(rl.sweep(999), []);
  assert.deepEqual(rl.sweep(1000), [{ key: 'x', suppressed: 2 }]);
  assert.equal(rl.has('y'), false);
  assert.equal(rl.has('z'), true);
  assert.deepEqual(rl.sweep(5000), [{ key: 'z', suppressed: 1 }]);
  assert.equal(rl.size, 0);
});

test('suffix wording and option validation', () => {
  assert.equal(suppressedSuffix(0), '');
  assert.equal(suppressedSuffix(1), ' (1 similar message suppressed)');
  assert.equal(suppressedSuffix(12), ' (12 similar messages suppressed)');
  assert.equal(new RateLimiter().windowMs, 60_000);
  assert.throws(() => new RateLimiter({ maxKeys: 0 }), RangeError);
  assert.throws(() => new RateLimiter({ windowMs: Number.NaN }), RangeError);
  assert.throws(() => new RateLimiter({ windowMs: -1 }), RangeError);
});

test('a clock running backwards keeps the key quiet instead of re-allowing it', () => {
  const rl = new RateLimiter({ windowMs: 1000 });
  rl.check('k', 5000);
  assert.equal(rl.check('k', 10).allowed, false);
});

test('a budget shared by all keys bounds what a flood of new keys can log; the overflow is reported later', () => {
  const rl = new RateLimiter({ windowMs: 60_000, maxPerWindow: 3 });
  const allowed = Array.from({ length: 1000 }, (_, i) => rl.check(`10.0.${i >> 8}.${i & 255}`, i)).filter((d) => d.allowed).length;
  assert.equal(allowed, 3, 'three lines a minute, whatever the number of sources');
  // A source that was over budget is due as soon as the budget allows, with its count.
  assert.deepEqual(rl.check('10.0.0.5', 60_000), { allowed: true, suppressed: 1 });
  assert.throws(() => new RateLimiter({ maxPerWindow: 0 }), RangeError);
});
