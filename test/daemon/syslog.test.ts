import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../../src/daemon/log.js';
import { loggerArgv, parseFacility, priority, SyslogWriter } from '../../src/daemon/syslog.js';
import { sleep, waitFor } from '../../src/lib/wait.js';
import { skipUnlessTools, startRsyslog, withTmp, WAIT, type Rsyslog } from '../helpers/rsyslog.js';

// ---- pure parts ----------------------------------------------------------------------

test('facility names, priorities and logger argv', () => {
  assert.equal(parseFacility('local0'), 16);
  assert.equal(parseFacility('LOCAL7'), 23);
  assert.equal(parseFacility('daemon'), 3);
  assert.equal(parseFacility('authpriv'), 10);
  assert.equal(parseFacility('none'), null);
  assert.throws(() => parseFacility('local8'), /Log facility\(local8\) not valid/);
  assert.equal(priority(16, 4), 132);
  assert.equal(priority(3, 7), 31);
  assert.deepEqual(loggerArgv({ ident: 'hbd', pid: 4241, socket: '/run/x.sock' }), [
    '--socket-errors=on',
    '--prio-prefix',
    '-t',
    'hbd',
    '--id=4241',
    '-u',
    '/run/x.sock',
  ]);
  assert.deepEqual(loggerArgv({ ident: 'hbd', pid: 1 }).slice(-2), ['-u', '/dev/log']);
});

test('a missing logger binary is reported once and never crashes', async () => {
  await withTmp(async (dir) => {
    // stat() of the socket must succeed to get as far as spawning; any file will do.
    const fakeSock = join(dir, 'sock');
    await writeFile(fakeSock, '');
    const errors: string[] = [];
    const w = new SyslogWriter({
      ident: 'hbd',
      pid: 1,
      facility: 16,
      socket: fakeSock,
      loggerPath: join(dir, 'no-such-logger'),
      restartMinMs: 10,
      restartMaxMs: 20,
      onError: (m) => errors.push(m),
    });
    for (let i = 0; i < 100; i++) w.write(6, `info: line ${i}`);
    await waitFor('a few restart attempts', () => w.spawns >= 3, WAIT);
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0] ?? '', /no-such-logger.*ENOENT/);
    assert.equal(w.running, false);
    await w.close();
  });
});

test('a missing syslog socket is reported once on stderr; logging goes on', async () => {
  await withTmp(async (dir) => {
    const chunks: string[] = [];
    const log = createLogger({
      pid: 11,
      logfacility: 'daemon',
      syslogSocket: join(dir, 'absent.sock'),
      syslogRestartMinMs: 10,
      syslogRestartMaxMs: 20,
      stderr: { write: (s: string) => void chunks.push(s) },
    });
    for (let i = 0; i < 20; i++) log.warn(`w ${i}`);
    await sleep(150);
    log.warn('more');
    await log.close();
    const text = chunks.join('');
    assert.equal(text.split('\n').filter((l) => l !== '').length, 1, text);
    assert.match(text, /^heartbeat\[11\]: syslog unavailable: syslog socket .*absent\.sock: ENOENT\n$/);
  });
});

// ---- against a real rsyslogd -----------------------------------------------------------

test('lines reach a real rsyslogd with the right facility, severity, tag and text', async (t) => {
  if (skipUnlessTools(t)) return;
  await withTmp(async (dir) => {
    const sock = join(dir, 'run', 'log.sock');
    const rs = await startRsyslog(dir, sock, 'a');
    const logfile = join(dir, 'ha-log');
    const stderr: string[] = [];
    const log = createLogger({
      pid: 4241,
      logfile,
      logfacility: 'local0',
      debugLevel: 1,
      syslogSocket: sock,
      stderr: { write: (s: string) => void stderr.push(s) },
    });
    try {
      log.info('Link prime:eth0 dead.');
      log.warn('node prime: is dead');
      log.error('process_status_message: bad node [nodearch2] in message');
      log.crit('Emergency Shutdown: Master Control process died.');
      log.debug('debug: a  b   c');
      log.warn('two\nlines');
      await waitFor('six lines in rsyslog output', () => rs.lines().length >= 6, WAIT);
      assert.deepEqual(rs.lines(), [
        'local0.info heartbeat[4241]: info: Link prime:eth0 dead.',
        'local0.warning heartbeat[4241]: WARN: node prime: is dead',
        'local0.err heartbeat[4241]: ERROR: process_status_message: bad node [nodearch2] in message',
        'local0.crit heartbeat[4241]: CRIT: Emergency Shutdown: Master Control process died.',
        'local0.debug heartbeat[4241]: debug: debug: a  b   c',
        'local0.warning heartbeat[4241]: WARN: two\\nlines',
      ]);
      assert.deepEqual(stderr, [], 'no trouble reported');
    } finally {
      await log.close();
      await rs.stop();
    }
    // The file sink saw the same run, minus debug.
    assert.equal(readFileSync(logfile, 'utf8').split('\n').filter((l) => l !== '').length, 5);
  });
});

test('logger is restarted when the syslog daemon comes late, goes away and comes back', async (t) => {
  if (skipUnlessTools(t)) return;
  await withTmp(async (dir) => {
    const sock = join(dir, 'log.sock');
    const errors: string[] = [];
    const recovered: number[] = [];
    const w = new SyslogWriter({
      ident: 'hbd',
      pid: 77,
      facility: 16,
      socket: sock,
      restartMinMs: 50,
      restartMaxMs: 200,
      healthyMs: 300,
      onError: (m) => errors.push(m),
      onRecover: (lost) => recovered.push(lost),
    });
    let rs: Rsyslog | null = null;
    try {
      // Daemon up before syslog: lines are queued, the outage is reported once.
      w.write(6, 'info: before syslog 1');
      w.write(4, 'WARN: before syslog 2');
      await sleep(300);
      assert.equal(errors.length, 1);
      assert.match(errors[0] ?? '', /log\.sock: ENOENT/);
      assert.equal(w.spawns, 0, 'no logger started against a missing socket');

      rs = await startRsyslog(dir, sock, 'first');
      await waitFor('queued lines delivered', () => rs!.lines().length >= 2, WAIT);
      assert.deepEqual(rs.lines(), [
        'local0.info hbd[77]: info: before syslog 1',
        'local0.warning hbd[77]: WARN: before syslog 2',
      ]);
      await waitFor('recovery reported', () => recovered.length === 1, WAIT);
      assert.deepEqual(recovered, [0]);
      const firstPid = w.childPid;
      assert.ok(firstPid !== undefined);

      // A quick syslog restart is absorbed by logger itself (it reconnects). A longer outage
      // makes it exit on the next line; we report that once and keep retrying.
      await rs.stop();
      rs = null;
      w.write(3, 'ERROR: while syslog is down');
      await waitFor('second outage reported', () => errors.length === 2, WAIT);
      assert.match(errors[1] ?? '', /exited \(code 1\).*log\.sock/);
      w.write(3, 'ERROR: queued while down');
      rs = await startRsyslog(dir, sock, 'second');
      const rs2 = rs;
      await waitFor('line queued during the outage', () => rs2.lines().includes('local0.err hbd[77]: ERROR: queued while down'), WAIT);
      assert.equal(w.spawns, 2);
      assert.notEqual(w.childPid, firstPid);

      // logger killed outright: restarted too.
      const secondPid = w.childPid;
      assert.ok(secondPid !== undefined);
      process.kill(secondPid, 'SIGKILL');
      await waitFor('third logger', () => w.spawns === 3 && w.running, WAIT);
      w.write(2, 'CRIT: after kill');
      await waitFor('line after kill', () => rs2.lines().includes('local0.crit hbd[77]: CRIT: after kill'), WAIT);
    } finally {
      await w.close();
      await rs?.stop();
    }
  });
});
