// hbd as the system around it sees it: the process titles and command name ps, pidof and
// netstat find Heartbeat by, Heartbeat's log tags in files, syslog and journald (with
// priorities), Heartbeat's start and stop lines, logging that never ends up nowhere, --version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger, DEFAULT_IDENT, logAs } from '../../src/daemon/log.js';
import { IpAddrAgent, runResource } from '../../src/agents/index.js';
import { FakeNet } from '../helpers/agents-fakenet.js';
import { builtin } from '../helpers/agents-fixtures.js';
import { isJournalStream, journalPrefix } from '../../src/lib/journal.js';
import { processTree } from '../../src/lib/proc-tree.js';
import { loadConfig } from '../../src/config/load.js';
import { effectiveLogFacility } from '../../src/config/hacf-defaults.js';
import { formatIssue } from '../../src/config/issues.js';
import { HBD, LocalCluster } from '../helpers/local-cluster.js';
import { textFixture } from '../helpers/config-fixture.js';
import { skipUnlessTools, startRsyslog, withTmp, WAIT } from '../helpers/rsyslog.js';
import { which } from '../helpers/tools.js';
import { fromRoot } from '../helpers/repo.js';

const run = promisify(execFile);
const VERSION = (JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { version: string }).version;
/** Generous: the host may be busy with long runs. */
const SLOW = 30_000;

function hbdArgs(c: LocalCluster, node: string): string[] {
  return [HBD, '-f', '--config-dir', c.configDir(node), '--node', node, '--state-dir', join(c.dir, node, 'state'), '--control-socket', c.socket(node), '--local-address', c.addr.get(node) ?? '127.0.0.1', '--init-dir', join(c.dir, node, 'init.d')];
}

const read = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8') : '');

test('hbd --version and -V print the package version', async () => {
  for (const flag of ['--version', '-V']) {
    const { stdout } = await run(process.execPath, [HBD, flag]);
    assert.equal(stdout, `hbd (heartbeat-ts) ${VERSION}\n`);
  }
});

test('ps, pidof and /proc see heartbeat: its titles and command name; the log has its tags and start/stop lines', async () => {
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'], initdead: '2', deadtime: '1' });
  const logfile = join(c.dir, 'ha-log');
  try {
    c.writeConfig('alpha', { extra: `logfile ${logfile}` });
    const hbd = c.start('alpha');
    const pid = hbd.pid ?? 0;
    await c.waitFor('alpha answers', () => c.status('alpha'), SLOW);

    assert.match(readFileSync(`/proc/${pid}/cmdline`, 'latin1'), /^heartbeat: master control process\0/);
    assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8'), 'heartbeat\n');
    if (which('pidof') !== null) {
      const { stdout } = await run('pidof', ['heartbeat']);
      assert.ok(stdout.trim().split(' ').includes(String(pid)), `pidof heartbeat: ${stdout}`);
    }
    const guard = await c.waitFor('the address guard', () => processTree(pid).find((p) => p !== pid && read(`/proc/${p}/cmdline`).startsWith('heartbeat: address guard')), SLOW);
    assert.equal(read(`/proc/${guard}/comm`), 'heartbeat\n');

    // alpha is alone: after initdead it takes its group, through "ResourceManager".
    await c.waitFor('the group started', () => /svc start$/m.test(read(logfile)), SLOW);
    const log = read(logfile);
    assert.match(log, new RegExp(`^heartbeat\\[${pid}\\]: \\S+ info: Configuration validated\\. Starting heartbeat-ts ${VERSION.replace(/\./g, '\\.')} as node alpha`, 'm'));
    assert.match(log, new RegExp(`^ResourceManager\\[${pid}\\]: \\S+ info: Acquiring resource group: alpha svc$`, 'm'));
    assert.match(log, new RegExp(`^ResourceManager\\[${pid}\\]: \\S+ info: Running \\S+/resource\\.d/svc start$`, 'm'));
    assert.doesNotMatch(log, /^hbd\[/m);

    c.term('alpha');
    assert.equal(await c.exited('alpha', SLOW), 0);
    assert.match(read(logfile), new RegExp(`^heartbeat\\[${pid}\\]: \\S+ info: Heartbeat shutdown in progress\\. \\(${pid}\\)$`, 'm'));
    assert.match(read(logfile), new RegExp(`^heartbeat\\[${pid}\\]: \\S+ info: alpha Heartbeat shutdown complete\\.$`, 'm'));
  } finally {
    await c.cleanup();
  }
});

test('log_tag (ha.cf) and --log-tag bring back hbd[PID] for every line, resource lines included', async () => {
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'], initdead: '2', deadtime: '1' });
  const logfile = join(c.dir, 'ha-log');
  try {
    c.writeConfig('alpha', { extra: `logfile ${logfile}\nlog_tag hbd` });
    c.start('alpha');
    await c.waitFor('the group started', () => /svc start$/m.test(read(logfile)), SLOW);
    const log = read(logfile);
    assert.match(log, /^hbd\[\d+\]: \S+ info: Configuration validated\./m);
    assert.match(log, /^hbd\[\d+\]: \S+ info: Running \S+\/resource\.d\/svc start$/m);
    assert.doesNotMatch(log, /^(heartbeat|ResourceManager)\[/m);
    c.term('alpha');
    await c.exited('alpha', SLOW);

    // The command line beats ha.cf.
    const { stderr } = await run(process.execPath, [HBD, '--log-tag', 'bad tag', '-t'], { encoding: 'utf8' }).catch((e: { stderr: string }) => ({ stderr: e.stderr }));
    assert.match(stderr, /--log-tag "bad tag" must be a name/);
  } finally {
    await c.cleanup();
  }
});

test('tagged lines reach a real rsyslogd under their own tags', async (t) => {
  if (skipUnlessTools(t)) return;
  await withTmp(async (dir) => {
    const sock = join(dir, 'log.sock');
    const rs = await startRsyslog(dir, sock, 'tags');
    const log = createLogger({ pid: 4241, logfacility: 'local0', syslogSocket: sock, stderr: { write: () => undefined } });
    try {
      log.warn('node prime: is dead');
      log.tagged('ResourceManager').info('Running /etc/ha.d/resource.d/IPaddr 10.0.0.5 start');
      log.tagged('IPaddr').error('ip addr add failed');
      await waitLines(rs, 3);
      assert.deepEqual(rs.lines().sort(), [
        'local0.err IPaddr[4241]: ERROR: ip addr add failed',
        'local0.info ResourceManager[4241]: info: Running /etc/ha.d/resource.d/IPaddr 10.0.0.5 start',
        'local0.warning heartbeat[4241]: WARN: node prime: is dead',
      ]);
    } finally {
      await log.close();
      await rs.stop();
    }
  });
});

test('IPaddr lines are tagged IPaddr2[PID] (without the agent name again), its Running line ResourceManager[PID]', async () => {
  await withTmp(async (dir) => {
    const logfile = join(dir, 'ha-log');
    for (const own of [DEFAULT_IDENT, 'hbd']) {
      const log = createLogger({ ident: own, pid: 9, logfile, stderr: { write: () => undefined } });
      const net = FakeNet.host(['lo', '127.0.0.1/8'], ['eth0', '10.0.0.1/24']);
      const agent = new IpAddrAgent(net);
      const call = await runResource(builtin('IPaddr2::10.0.0.100'), 'start', {
        timeoutMs: 5000,
        nodeName: 'alpha',
        ipaddr: agent,
        log: (level, text, tag) => logAs(log, own, level, text, tag),
      });
      agent.stopAllArps();
      assert.equal(call.ok, true, call.output);
      await log.close();
    }
    const text = read(logfile);
    assert.match(text, /^ResourceManager\[9\]: \S+ info: Running IPaddr2 10\.0\.0\.100 start$/m);
    assert.match(text, /^IPaddr2\[9\]: \S+ info: ip addr add 10\.0\.0\.100\/24 dev eth0 label eth0:0$/m);
    // With a tag of one's own, every line is under it, as before.
    assert.match(text, /^hbd\[9\]: \S+ info: Running IPaddr2 10\.0\.0\.100 start$/m);
    assert.match(text, /^hbd\[9\]: \S+ info: IPaddr2: ip addr add 10\.0\.0\.100\/24 dev eth0 label eth0:0$/m);
  });
});

async function waitLines(rs: { lines(): string[] }, n: number): Promise<void> {
  const { waitFor } = await import('../../src/lib/wait.js');
  await waitFor(`${n} lines in rsyslog`, () => rs.lines().length >= n, WAIT);
}

test('journald: <N> priorities only while stderr is the stream JOURNAL_STREAM names', async () => {
  await withTmp(async (dir) => {
    const file = join(dir, 'stderr');
    const fd = openSync(file, 'w');
    try {
      const st = fstatSync(fd, { bigint: true });
      assert.equal(isJournalStream({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }, fd), true);
      assert.equal(isJournalStream({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1n}` }, fd), false);
      assert.equal(isJournalStream({ JOURNAL_STREAM: 'garbage' }, fd), false);
      assert.equal(isJournalStream({}, fd), false);
    } finally {
      closeSync(fd);
    }
    assert.equal(journalPrefix(true, 4), '<4>');
    assert.equal(journalPrefix(false, 4), '');
  });

  const c = new LocalCluster({ nodes: ['alpha', 'bravo'] });
  try {
    for (const matching of [true, false]) {
      const file = join(c.dir, `stderr-${matching}`);
      const fd = openSync(file, 'w');
      const st = fstatSync(fd, { bigint: true });
      const stream = matching ? `${st.dev}:${st.ino}` : `${st.dev}:${st.ino + 1n}`;
      const child = spawn(process.execPath, hbdArgs(c, 'alpha'), { stdio: ['ignore', 'ignore', fd], env: { ...process.env, JOURNAL_STREAM: stream } });
      closeSync(fd);
      c.procs.set('alpha', child);
      // Answering on the control socket means its signal handlers are in place too.
      await c.waitFor('alpha answers', () => c.status('alpha'), SLOW);
      c.term('alpha');
      await c.exited('alpha', SLOW);
      const lines = read(file).split('\n').filter((l) => l !== '');
      const pid = child.pid ?? 0;
      if (matching) {
        // A configuration warning (initdead 3 s) is a warning to journald too. journald adds
        // the tag, PID and time itself: the line carries neither a second tag nor a stamp.
        assert.ok(lines.some((l) => /^<4>WARN: .*initdead \(3000 ms\) may be too small/.test(l)), lines.join('\n'));
        assert.ok(lines.some((l) => l.startsWith('<6>info: Configuration validated.')), lines.join('\n'));
        assert.ok(lines.some((l) => l.startsWith('<6>info: alpha Heartbeat shutdown complete.')), lines.join('\n'));
        assert.ok(lines.every((l) => /^<[0-7]>/.test(l) && !l.includes(`heartbeat[${pid}]: `) && !/\d{4}\/\d\d\/\d\d_\d\d:/.test(l)), lines.join('\n'));
      } else {
        assert.ok(lines.some((l) => l.startsWith(`heartbeat[${pid}]: `)), lines.join('\n'));
        assert.ok(lines.every((l) => !l.startsWith('<')), lines.join('\n'));
      }
    }
    // `hbd -t` (systemd's ExecStartPre) files its warnings as warnings too.
    const file = join(c.dir, 'stderr-t');
    const fd = openSync(file, 'w');
    const st = fstatSync(fd, { bigint: true });
    const r = spawnSync(process.execPath, [HBD, '-t', '--config-dir', c.configDir('alpha'), '--node', 'alpha'], { stdio: ['ignore', 'ignore', fd], env: { ...process.env, JOURNAL_STREAM: `${st.dev}:${st.ino}` } });
    closeSync(fd);
    assert.equal(r.status, 0);
    assert.match(read(file), /^<4>.*warning: initdead \(3000 ms\) may be too small/m);
  } finally {
    await c.cleanup();
  }
});

test('use_logd yes, or no log lines at all: syslog facility daemon, with a warning saying so', () => {
  const cases: { hacf: string; facility: string | null; warn?: RegExp; error?: RegExp }[] = [
    { hacf: '', facility: 'daemon', warn: /no logfile, debugfile or logfacility: hbd has no logging daemon, so it logs to syslog itself, facility daemon/ },
    { hacf: 'use_logd yes\n', facility: 'daemon', warn: /no logfile, debugfile or logfacility and use_logd yes: .* facility daemon/ },
    { hacf: 'use_logd yes\nlogfile /var/log/ha-log\n', facility: 'daemon', warn: /use_logd yes: hbd has no logging daemon \(logd\.cf is not read\); it logs to syslog facility daemon .*, logfile \/var\/log\/ha-log itself/ },
    { hacf: 'use_logd yes\nlogfacility local3\n', facility: 'local3', warn: /use_logd yes: .* it logs to syslog facility local3 itself/ },
    { hacf: 'logfile /var/log/ha-log\n', facility: null },
    { hacf: 'use_logd no\n', facility: null, error: /no logfile, debugfile or logfacility, and use_logd is off: nothing would be logged/ },
  ];
  for (const k of cases) {
    const fx = textFixture({ hacf: `bcast eth0\nnode a b\nauto_failback on\n${k.hacf}`, authkeys: 'auth 1\n1 sha1 x\n', haresources: 'a 10.0.0.5\n', authMode: 0o600 });
    try {
      const r = loadConfig({ configDir: fx.dir, nodeName: 'a' });
      if (k.error) {
        assert.equal(r.ok, false, k.hacf);
        assert.ok(!r.ok && r.errors.some((e) => k.error!.test(formatIssue(e))), k.hacf);
        continue;
      }
      assert.ok(r.ok, `${k.hacf}: ${!r.ok ? r.errors.map(formatIssue).join('; ') : ''}`);
      assert.equal(effectiveLogFacility(r.config.ha), k.facility, k.hacf);
      const warnings = r.warnings.map(formatIssue);
      if (k.warn) assert.ok(warnings.some((w) => k.warn!.test(w)), `${k.hacf}: ${warnings.join('; ')}`);
      else assert.ok(!warnings.some((w) => /logging daemon|use_logd/.test(w)), warnings.join('; '));
    } finally {
      fx.cleanup();
    }
  }
});

test('an ha.cf with use_logd yes and no log lines logs to a real syslog, facility daemon, as heartbeat', async (t) => {
  if (skipUnlessTools(t)) return;
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'] });
  try {
    const sock = join(c.dir, 'log.sock');
    const rs = await startRsyslog(c.dir, sock, 'logd', 'daemon');
    try {
      c.writeConfig('alpha', { extra: 'use_logd yes' });
      c.start('alpha', ['--syslog-socket', sock]);
      const pid = c.procs.get('alpha')?.pid ?? 0;
      await c.waitFor('the start line in syslog', () => rs.lines().some((l) => l.startsWith(`daemon.info heartbeat[${pid}]: info: Configuration validated. Starting heartbeat-ts ${VERSION}`)), SLOW);
      assert.ok(rs.lines().some((l) => l.startsWith(`daemon.warning heartbeat[${pid}]: WARN: `) && l.includes('use_logd yes')), rs.lines().join('\n'));
    } finally {
      c.term('alpha');
      await c.exited('alpha', SLOW).catch(() => undefined);
      await rs.stop();
    }
  } finally {
    await c.cleanup();
  }
});
