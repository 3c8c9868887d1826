// The daemon as an operator runs it: daemonised with a pid file, log files in Heartbeat's
// format, SIGHUP, and wall-clock jumps that must not kill anyone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HBD, LocalCluster } from '../helpers/local-cluster.js';
import { request } from '../../src/control/client.js';
import type { ClassicInfo } from '../../src/control/classic-info.js';
import { signalPid } from '../../src/lib/signal.js';

const run = promisify(execFile);

/** Whether the process still exists (signal 0 tests for it without sending anything). */
const alive = (pid: number): boolean => signalPid(pid, 0);

test('hbd without -f daemonises, writes its pid file, and removes it after SIGTERM', async () => {
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'] });
  const pidFile = join(c.dir, 'hbd.pid');
  let pid = 0;
  try {
    const { stdout } = await run(process.execPath, [HBD, '--config-dir', c.configDir('alpha'), '--node', 'alpha', '--state-dir', join(c.dir, 'st'), '--control-socket', c.socket('alpha'), '--local-address', '127.0.0.1', '--pid-file', pidFile]);
    assert.match(stdout, /hbd started \(pid \d+/);
    await c.waitFor('pid file', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim());
    pid = Number(readFileSync(pidFile, 'utf8').trim());
    assert.ok(alive(pid));
    await c.waitFor('control socket answers', () => c.status('alpha'));
    process.kill(pid, 'SIGTERM');
    await c.waitFor('daemon gone', () => !alive(pid));
    assert.equal(existsSync(pidFile), false, 'pid file removed on a clean exit');
  } finally {
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    await c.cleanup();
  }
});

test('logfile and debugfile get Heartbeat-format lines; SIGHUP re-reads the configuration', async () => {
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'] });
  const logfile = join(c.dir, 'ha-log');
  const debugfile = join(c.dir, 'ha-debug');
  try {
    c.writeConfig('alpha', { extra: `logfile ${logfile}\ndebugfile ${debugfile}\ndebug 1` });
    c.startAll();
    await c.waitFor('alpha active', () => c.allActive('alpha'));
    const killedAt = c.kill9('bravo');
    await c.waitFor('bravo dead', () => c.firstLog('alpha', /node bravo: is dead/, killedAt));
    await c.waitFor('lines in the logfile', () => existsSync(logfile) && /node bravo: is dead/.test(readFileSync(logfile, 'utf8')));
    const log = readFileSync(logfile, 'utf8');
    assert.match(log, /^heartbeat\[\d+\]: \d{4}\/\d{2}\/\d{2}_\d{2}:\d{2}:\d{2} WARN: node bravo: is dead$/m);
    assert.match(log, /^heartbeat\[\d+\]: \S+ info: Link bravo:lo dead\.$/m);
    assert.match(log, /^heartbeat\[\d+\]: \S+ info: Link bravo:lo up\.$/m);
    assert.ok(readFileSync(debugfile, 'utf8').includes('node bravo: is dead'));

    // A broken edit is refused and the node keeps running with what it had: none of the
    // file's other changes (here a new deadtime) is applied.
    const digest = (await c.status('alpha')).digest;
    const hacf = join(c.configDir('alpha'), 'ha.cf');
    writeFileSync(hacf, readFileSync(hacf, 'utf8').replace(/^deadtime .*$/m, 'deadtime 7'));
    appendFileSync(hacf, 'frobnicate 1\n');
    const hupAt = performance.now();
    c.procs.get('alpha')!.kill('SIGHUP');
    await c.waitFor('reload refused', () => c.firstLog('alpha', /reload: configuration not valid; keeping the running configuration/, hupAt));
    assert.ok(c.firstLog('alpha', /reload: .*ha\.cf:\d+: error: unknown directive "frobnicate"/, hupAt));
    assert.ok((await c.status('alpha')).nodes.length === 2, 'still answering');
    assert.equal((await c.status('alpha')).digest, digest, 'the running configuration is kept');
    const info = await request<ClassicInfo>(c.socket('alpha'), { cmd: 'info' }, 2000);
    assert.ok(info.ok && info.result.deadtimeMs === 1000, 'the deadtime of the broken file is not applied');
  } finally {
    await c.cleanup();
  }
});

test('a wall-clock jump does not kill anyone: liveness runs on the monotonic clock', async () => {
  // Run two daemons in this process with Date.now() jumping around; timers and liveness
  // use performance.now() and setTimeout, which a wall-clock change does not move.
  const { Daemon } = await import('../../src/daemon/daemon.js');
  const { memoryLogger } = await import('../../src/daemon/log.js');
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'], keepalive: '100ms', deadtime: '1' });
  const realNow = Date.now;
  const daemons: InstanceType<typeof Daemon>[] = [];
  try {
    for (const [i, n] of ['alpha', 'bravo'].entries()) {
      const mem = memoryLogger(0);
      const logger = Object.assign(mem, { reopen: () => undefined, close: async () => undefined, tagged: () => mem });
      const r = Daemon.load({ configDir: c.configDir(n), nodeName: n, stateDir: join(c.dir, n, 'st'), localAddress: `127.0.0.${i + 1}`, foreground: false, logger });
      if ('errors' in r) throw new Error(r.errors.join('\n'));
      daemons.push(r.daemon);
      await r.daemon.start();
    }
    const allActive = () => daemons.every((d) => Object.values(d.nodeState.membership.peers).every((p) => p.status === 'active'));
    await c.waitFor('both active', () => allActive());
    let offset = 0;
    Date.now = () => realNow() + offset;
    for (const jump of [3_600_000, -7_200_000, 86_400_000, -86_400_000]) {
      offset += jump;
      await new Promise((r) => setTimeout(r, 600));
      assert.ok(allActive(), `still active after a ${jump / 1000} s jump`);
    }
    await new Promise((r) => setTimeout(r, 1200));
    assert.ok(allActive());
  } finally {
    Date.now = realNow;
    for (const d of daemons) await d.abort();
    await c.cleanup();
  }
});

test('logfacility: hbd\'s lines reach a real syslog daemon (rsyslogd) with the right facility and severity', async (t) => {
  const { skipUnlessTools, startRsyslog } = await import('../helpers/rsyslog.js');
  if (skipUnlessTools(t)) return;
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'], extra: 'logfacility local0' });
  const sock = join(c.dir, 'log.sock');
  const rs = await startRsyslog(c.dir, sock, 'hbd');
  try {
    c.start('alpha', ['--syslog-socket', sock]);
    c.start('bravo', ['--syslog-socket', sock]);
    await c.waitFor('alpha active', () => c.allActive('alpha'));
    const killedAt = c.kill9('bravo');
    await c.waitFor('bravo dead', () => c.firstLog('alpha', /node bravo: is dead/, killedAt));
    await c.waitFor('syslog has it', () => rs.lines().some((l) => /^local0\.warning heartbeat\[\d+\]: WARN: node bravo: is dead$/.test(l)));
    assert.ok(rs.lines().some((l) => /^local0\.info heartbeat\[\d+\]: info: Link bravo:lo dead\.$/.test(l)));
  } finally {
    await rs.stop();
    await c.cleanup();
  }
});
