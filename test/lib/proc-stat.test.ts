import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLive, loadAverageEvery, parseProcStat, readProcStat } from '../../src/lib/proc-stat.js';

test('fields are counted from the last ")": a command name may hold spaces and parentheses', () => {
  const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
  fields[0] = 'S';
  const st = parseProcStat(`4242 (a) b (c) d) ${fields.join(' ')}\n`);
  assert.ok(st);
  assert.equal(st.pid, 4242);
  assert.equal(st.comm, 'a) b (c) d');
  assert.equal(st.state, 'S');
  assert.deepEqual([st.ppid, st.pgrp, st.utime, st.stime, st.cutime, st.cstime, st.nice, st.rtPriority, st.policy], [4, 5, 14, 15, 16, 17, 19, 40, 41]);
});

test('this process reads as itself and is live; a PID that does not exist is neither', () => {
  const st = readProcStat(process.pid);
  assert.equal(st?.pid, process.pid);
  assert.equal(st?.ppid, process.ppid);
  assert.equal(isLive(process.pid), true);
  assert.equal(readProcStat(2 ** 22 + 1), null);
  assert.equal(isLive(2 ** 22 + 1), false);
});

test('the load average is read at most once per interval, and again after it', () => {
  let reads = 0;
  let now = 0;
  const ld = loadAverageEvery(1000, () => `0.0${++reads} 0.00 0.00 1/100 42`, () => now);
  assert.equal(ld(), '0.01 0.00 0.00 1/100 42');
  for (now = 100; now < 1000; now += 100) assert.equal(ld(), '0.01 0.00 0.00 1/100 42');
  assert.equal(reads, 1, 'ten heartbeats a second, one read');
  now = 1000;
  assert.equal(ld(), '0.02 0.00 0.00 1/100 42');
  assert.equal(reads, 2);
  assert.match(loadAverageEvery(1000)() ?? '', /^\d+\.\d+ \d+\.\d+ \d+\.\d+ \d+\/\d+ \d+$/, 'the real /proc/loadavg');
});
