import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLive, parseProcStat, readProcStat } from '../../src/lib/proc-stat.js';

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
