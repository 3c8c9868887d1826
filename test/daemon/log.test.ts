import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLogger,
  formatLine,
  formatTimestamp,
  memoryLogger,
  nullLogger,
  type LogOptions,
} from '../../src/daemon/log.js';
import { waitFor } from '../../src/lib/wait.js';

// Built from local-time fields, so the expected text holds in any TZ.
const FIXED = new Date(2009, 6, 25, 21, 33, 5);
const clock = (): Date => FIXED;
const WAIT = { timeoutMs: 5000, pollMs: 10 };

function captureStderr(): { write(s: string): void; text(): string; lines(): string[] } {
  const chunks: string[] = [];
  return {
    write: (s: string) => void chunks.push(s),
    text: () => chunks.join(''),
    lines: () => chunks.join('').split('\n').filter((l) => l !== ''),
  };
}

async function withTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'hbd-log-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function logAll(log: ReturnType<typeof createLogger>): void {
  log.info('Link prime:eth0 dead.');
  log.warn('node prime: is dead');
  log.error('process_status_message: bad node [nodearch2] in message');
  log.crit('Emergency Shutdown: Master Control process died.');
  log.debug('debug one');
  log.debug('debug three', 3);
}

test('timestamp and line format match Heartbeat exactly', () => {
  assert.equal(formatTimestamp(FIXED), '2009/07/25_21:33:05');
  assert.equal(formatTimestamp(new Date(2024, 0, 2, 3, 4, 5)), '2024/01/02_03:04:05');
  assert.equal(
    formatLine('hbd', 4241, FIXED, 'warn', 'node prime: is dead'),
    'hbd[4241]: 2009/07/25_21:33:05 WARN: node prime: is dead',
  );
});

test('logfile gets everything but debug, debugfile everything, in Heartbeat form', async () => {
  await withTmp(async (dir) => {
    const logfile = join(dir, 'ha-log');
    const debugfile = join(dir, 'ha-debug');
    const err = captureStderr();
    const log = createLogger({ pid: 4241, logfile, debugfile, debugLevel: 1, clock, stderr: err });
    logAll(log);
    await log.close();
    assert.equal(
      await readFile(logfile, 'utf8'),
      'heartbeat[4241]: 2009/07/25_21:33:05 info: Link prime:eth0 dead.\n' +
        'heartbeat[4241]: 2009/07/25_21:33:05 WARN: node prime: is dead\n' +
        'heartbeat[4241]: 2009/07/25_21:33:05 ERROR: process_status_message: bad node [nodearch2] in message\n' +
        'heartbeat[4241]: 2009/07/25_21:33:05 CRIT: Emergency Shutdown: Master Control process died.\n',
    );
    assert.equal(
      await readFile(debugfile, 'utf8'),
      'heartbeat[4241]: 2009/07/25_21:33:05 info: Link prime:eth0 dead.\n' +
        'heartbeat[4241]: 2009/07/25_21:33:05 WARN: node prime: is dead\n' +
        'heartbeat[4241]: 2009/07/25_21:33:05 ERROR: process_status_message: bad node [nodearch2] in message\n' +
        'heartbeat[4241]: 2009/07/25_21:33:05 CRIT: Emergency Shutdown: Master Control process died.\n' +
        'heartbeat[4241]: 2009/07/25_21:33:05 debug: debug one\n',
    );
    assert.equal(err.text(), '', 'nothing on stderr when not in the foreground');
  });
});

test('debug level 0 drops debug lines everywhere; higher levels let deeper debug through', async () => {
  await withTmp(async (dir) => {
    const debugfile = join(dir, 'ha-debug');
    const quiet = createLogger({ pid: 1, debugfile, clock, stderr: captureStderr() });
    assert.equal(quiet.debugEnabled(), false);
    quiet.debug('hidden');
    quiet.info('shown');
    await quiet.close();
    assert.equal(await readFile(debugfile, 'utf8'), 'heartbeat[1]: 2009/07/25_21:33:05 info: shown\n');

    const verbose = createLogger({ pid: 1, debugfile, debugLevel: 3, clock, stderr: captureStderr() });
    assert.equal(verbose.debugEnabled(3), true);
    assert.equal(verbose.debugEnabled(4), false);
    verbose.debug('level three', 3);
    verbose.debug('level four', 4);
    await verbose.close();
    assert.match(await readFile(debugfile, 'utf8'), /debug: level three\n$/);
  });
});

test('foreground copies every line to stderr; clock may be epoch ms; ident is configurable', async () => {
  const err = captureStderr();
  const log = createLogger({
    ident: 'heartbeat',
    pid: 4071,
    foreground: true,
    debugLevel: 1,
    clock: () => FIXED.getTime(),
    stderr: err,
  });
  logAll(log);
  await log.close();
  log.info('after close: ignored');
  assert.deepEqual(err.lines(), [
    'heartbeat[4071]: 2009/07/25_21:33:05 info: Link prime:eth0 dead.',
    'heartbeat[4071]: 2009/07/25_21:33:05 WARN: node prime: is dead',
    'heartbeat[4071]: 2009/07/25_21:33:05 ERROR: process_status_message: bad node [nodearch2] in message',
    'heartbeat[4071]: 2009/07/25_21:33:05 CRIT: Emergency Shutdown: Master Control process died.',
    'heartbeat[4071]: 2009/07/25_21:33:05 debug: debug one',
  ]);
});

test('control characters from the network cannot split or forge lines', async () => {
  const err = captureStderr();
  const log = createLogger({ pid: 7, foreground: true, clock, stderr: err });
  log.warn('bad node [evil\nhbd[7]: 2009/07/25_21:33:05 CRIT: forged] \x1b[31m\ttab');
  await log.close();
  assert.deepEqual(err.lines(), [
    'heartbeat[7]: 2009/07/25_21:33:05 WARN: bad node [evil\\nhbd[7]: 2009/07/25_21:33:05 CRIT: forged] \\x1b[31m\\ttab',
  ]);
});

test('unwritable log files never throw, are reported once, and other sinks keep working', async () => {
  await withTmp(async (dir) => {
    const debugfile = join(dir, 'ha-debug');
    const cases: { name: string; logfile: string; code: RegExp }[] = [
      { name: 'directory', logfile: dir, code: /EISDIR/ },
      { name: 'missing dir', logfile: join(dir, 'no', 'such', 'ha-log'), code: /ENOENT/ },
      // Every write to /dev/full fails with ENOSPC: a full disk.
      { name: 'disk full', logfile: '/dev/full', code: /ENOSPC/ },
    ];
    for (const c of cases) {
      const err = captureStderr();
      const log = createLogger({ pid: 9, logfile: c.logfile, debugfile, clock, stderr: err });
      assert.doesNotThrow(() => {
        for (let i = 0; i < 50; i++) log.error(`${c.name} line ${i}`);
      });
      await waitFor(`${c.name} report`, () => err.text() !== '', WAIT);
      await new Promise((r) => setTimeout(r, 50));
      for (let i = 50; i < 60; i++) log.error(`${c.name} line ${i}`);
      await log.close();
      const reports = err.lines();
      assert.equal(reports.length, 1, `${c.name}: exactly one report, got ${JSON.stringify(reports)}`);
      assert.match(reports[0] ?? '', c.code);
      assert.match(reports[0] ?? '', /^heartbeat\[9\]: cannot write log file /);
      const dbg = await readFile(debugfile, 'utf8');
      assert.match(dbg, new RegExp(`ERROR: ${c.name} line 59\\n$`), `${c.name}: debugfile still written`);
    }
  });
});

test('a failed log file is retried and says how many lines were lost', async () => {
  await withTmp(async (dir) => {
    const logdir = join(dir, 'later');
    const logfile = join(logdir, 'ha-log');
    const err = captureStderr();
    const log = createLogger({ pid: 3, logfile, clock, stderr: err, fileRetryMs: 0 });
    log.info('lost 1');
    await waitFor('ENOENT report', () => /ENOENT/.test(err.text()), WAIT);
    log.info('lost 2'); // reopen attempt, still no directory: fails quietly
    await new Promise((r) => setTimeout(r, 50));
    await mkdir(logdir);
    log.info('kept');
    await log.close();
    const text = await readFile(logfile, 'utf8');
    assert.match(text, /^heartbeat\[3\]: 2009\/07\/25_21:33:05 WARN: \d+ log lines lost \(.*ha-log failing or too slow\)\n/);
    assert.match(text, /info: kept\n$/);
    assert.doesNotMatch(text, /lost 1|lost 2/);
    assert.equal(err.lines().length, 2, err.text());
    assert.match(err.lines()[1] ?? '', /writable again/);
  });
});

test('reopen() after logrotate renamed the file: new lines go to a new file', async () => {
  await withTmp(async (dir) => {
    const logfile = join(dir, 'ha-log');
    const log = createLogger({ pid: 5, logfile, clock, stderr: captureStderr() });
    log.info('before rotate 1');
    log.info('before rotate 2');
    // Let the stream open and flush so the rename moves a file that holds these lines.
    await waitFor('first lines on disk', () => existsSync(logfile) && statSync(logfile).size > 0, WAIT);
    await rename(logfile, `${logfile}.1`);
    log.info('after rename, before reopen'); // still goes to the open (renamed) file
    log.reopen();
    log.info('after reopen');
    await log.close();
    assert.equal(
      await readFile(`${logfile}.1`, 'utf8'),
      'heartbeat[5]: 2009/07/25_21:33:05 info: before rotate 1\n' +
        'heartbeat[5]: 2009/07/25_21:33:05 info: before rotate 2\n' +
        'heartbeat[5]: 2009/07/25_21:33:05 info: after rename, before reopen\n',
    );
    assert.equal(await readFile(logfile, 'utf8'), 'heartbeat[5]: 2009/07/25_21:33:05 info: after reopen\n');
  });
});

test('files append to what is already there; /dev/null and empty names mean off', async () => {
  await withTmp(async (dir) => {
    const logfile = join(dir, 'ha-log');
    for (const n of [1, 2]) {
      const log = createLogger({ pid: n, logfile, debugfile: '/dev/null', clock, stderr: captureStderr() });
      log.info(`run ${n}`);
      await log.close();
    }
    assert.equal(
      await readFile(logfile, 'utf8'),
      'heartbeat[1]: 2009/07/25_21:33:05 info: run 1\nheartbeat[2]: 2009/07/25_21:33:05 info: run 2\n',
    );
    const off = createLogger({ logfile: '', debugfile: null, logfacility: 'none', stderr: captureStderr() });
    off.crit('goes nowhere');
    await off.close();
    await off.close(); // idempotent
  });
});

test('an unknown logfacility is a configuration error, reported in Heartbeat words', () => {
  const opts: LogOptions = { logfacility: 'local9' };
  assert.throws(() => createLogger(opts), /Log facility\(local9\) not valid/);
});

test('memoryLogger and nullLogger serve other modules’ tests', () => {
  const m = memoryLogger(1);
  m.warn('w');
  m.debug('d');
  m.debug('deep', 2);
  assert.deepEqual(m.records, [
    { level: 'warn', msg: 'w' },
    { level: 'debug', msg: 'd' },
  ]);
  nullLogger.crit('nothing');
  assert.equal(nullLogger.debugEnabled(), false);
});
