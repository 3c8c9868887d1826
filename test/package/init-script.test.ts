// packaging/init.d/heartbeat, the LSB init script for systems without systemd, run as the boot
// sequence or `service` would run it, in a network namespace with a one-node cluster: hbd is
// this build (through a wrapper at $HBD), the files are in a scratch $HA_DIR. Every action
// with its LSB exit status, the pid file, the group's virtual IP, and the LSB functions both
// present and absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inNs, withLan, type Host, type Lan } from '../../src/lib/netns.js';
import { isLive, readProcStat, waitGone } from '../../src/lib/proc-stat.js';
import { waitFor } from '../../src/lib/wait.js';
import { stepper } from '../helpers/cluster.js';
import { netnsSkip } from '../helpers/netns.js';
import { fromRoot } from '../helpers/repo.js';
import { skipWithoutTools } from '../helpers/tools.js';

const SCRIPT = fromRoot('packaging', 'init.d', 'heartbeat');
const HBD_JS = fromRoot('dist', 'src', 'cli', 'hbd.js');
const VIP = '10.231.9.100';
const SLOW = 30_000;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

class Node1 {
  readonly configDir: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly defaults: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly lan: Lan,
    readonly host: Host,
    readonly dir: string,
  ) {
    this.configDir = join(dir, 'ha.d');
    this.pidFile = join(dir, 'run', 'heartbeat.pid');
    this.logFile = join(dir, 'ha-log');
    this.defaults = join(dir, 'default-heartbeat-ts');
    // hbd as the package will install it: one executable at $HBD.
    const wrapper = join(dir, 'hbd');
    writeFileSync(wrapper, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(HBD_JS)} "$@"\n`);
    chmodSync(wrapper, 0o755);
    this.env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', HBD: wrapper, HA_DIR: this.configDir, PIDFILE: this.pidFile, HBD_DEFAULTS: this.defaults };
    this.writeConfig();
    this.writeDefaults();
  }

  writeConfig(extraHaCf = ''): void {
    mkdirSync(join(this.configDir, 'resource.d'), { recursive: true });
    mkdirSync(join(this.dir, 'init.d'), { recursive: true });
    writeFileSync(
      join(this.configDir, 'ha.cf'),
      ['# one-node cluster of test/package/init-script.test.ts', `logfile ${this.logFile}`, 'keepalive 200ms', 'warntime 1', 'deadtime 2', 'initdead 4', 'bcast eth0', 'node alpha', 'auto_failback on', extraHaCf, ''].join('\n'),
    );
    writeFileSync(join(this.configDir, 'authkeys'), 'auth 1\n1 sha1 init-script-test-secret\n', { mode: 0o600 });
    chmodSync(join(this.configDir, 'authkeys'), 0o600);
    writeFileSync(join(this.configDir, 'haresources'), `alpha IPaddr::${VIP}/24/eth0 slowstop\n`);
    // A service whose stop takes 4 s while $HA_DIR/slow-stop exists.
    const slow = join(this.configDir, 'resource.d', 'slowstop');
    writeFileSync(
      slow,
      [
        '#!/bin/sh',
        'mark="$HA_DIR/../slowstop.running"',
        'case "$1" in',
        '  start) : > "$mark" ;;',
        '  stop) if [ -f "$HA_DIR/slow-stop" ]; then sleep 4; fi; rm -f "$mark" ;;',
        '  status) if [ -f "$mark" ]; then echo running; else echo stopped; fi ;;',
        'esac',
        'exit 0',
        '',
      ].join('\n'),
    );
    chmodSync(slow, 0o755);
  }

  writeDefaults(extra = ''): void {
    const opts = ['--node alpha', `--state-dir ${join(this.dir, 'state')}`, `--control-socket ${join(this.dir, 'run', 'hbd.sock')}`, `--init-dir ${join(this.dir, 'init.d')}`];
    writeFileSync(this.defaults, `HBD_OPTS="${opts.join(' ')}"\nSTOP_TIMEOUT=20\n${extra}`);
  }

  /** Runs the init script in the node's namespace; `lsb: false` hides /lib/lsb/init-functions. */
  initd(action: string, opts: { lsb?: boolean } = {}): Promise<Outcome> {
    const env = { ...this.env, INIT_FUNCTIONS: opts.lsb === false ? join(this.dir, 'no-init-functions') : '/lib/lsb/init-functions' };
    return new Promise((resolve) => {
      execFile('ip', ['netns', 'exec', this.host.ns, '/bin/sh', SCRIPT, action], { env, timeout: 90_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  pid(): number | null {
    if (!existsSync(this.pidFile)) return null;
    const n = Number(readFileSync(this.pidFile, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  }

  /**
   * The main hbd processes on the host (the address guard has a title of its own). A child
   * hbd has just forked (the guard, chrt, a resource script) shows its title until it execs:
   * a process whose parent is one of them is not counted.
   */
  async daemons(): Promise<number[]> {
    const titled: number[] = [];
    for (const pid of await this.lan.pids(this.host.name)) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('heartbeat: master')) titled.push(pid);
      } catch {
        /* gone */
      }
    }
    return titled.filter((pid) => !titled.includes(readProcStat(pid)?.ppid ?? 0));
  }

  async hasVip(): Promise<boolean> {
    const { stdout } = await inNs(this.host.ns, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    return stdout.includes(` ${VIP}/`);
  }

  reloadLines(): number {
    const text = existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
    return text.split('\n').filter((l) => /\breload\b/i.test(l)).length;
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').split('\n').slice(-30).join('\n') : '(no log)';
  }
}

const show = (o: Outcome): string => `exit ${o.code}\nstdout: ${o.stdout}\nstderr: ${o.stderr}`;

test('packaging/init.d/heartbeat: start, status, reload, restart, stop and their LSB exit statuses', async (t) => {
  const skip = await netnsSkip();
  if (skip) {
    t.skip(skip);
    return;
  }
  if (skipWithoutTools(t, [{ cmd: 'start-stop-daemon', pkg: 'dpkg' }])) return;
  await withLan(
    async (lan) => {
      const host = await lan.addHost('alpha', 1);
      const n = new Node1(lan, host, lan.tempDir('hbt-initd-'));
      const step = stepper(t);
      const wait = <T>(what: string, check: () => Promise<T> | T): Promise<T> =>
        waitFor(what, check as () => Promise<T>, { timeoutMs: SLOW, pollMs: 50, detail: () => n.log() });
      let first = 0;

      await step('start: exit 0 once hbd is up, its pid in the pid file, the group and its VIP up; status 0', async () => {
        const r = await n.initd('start');
        assert.equal(r.code, 0, show(r));
        assert.match(r.stdout, /Starting High-Availability services.*heartbeat/);
        const pid = n.pid();
        assert.ok(pid !== null && isLive(pid), `pid file ${n.pidFile}: ${pid}`);
        assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8'), 'heartbeat\n');
        assert.deepEqual(await n.daemons(), [pid]);
        first = pid;
        await wait('the VIP on eth0', () => n.hasVip());
        const s = await n.initd('status');
        assert.equal(s.code, 0, show(s));
        assert.match(s.stdout, new RegExp(`running \\(pid ${pid}\\)`));
      });

      await step('start again: exit 0, and still one hbd', async () => {
        const r = await n.initd('start');
        assert.equal(r.code, 0, show(r));
        assert.match(r.stdout, /already running/);
        assert.deepEqual(await n.daemons(), [first]);
        assert.equal(n.pid(), first);
      });

      await step('reload and force-reload: SIGHUP, hbd logs its reload each time and keeps running', async () => {
        const before = n.reloadLines();
        const r = await n.initd('reload');
        assert.equal(r.code, 0, show(r));
        await wait('the reload line', () => n.reloadLines() > before);
        const mid = n.reloadLines();
        const f = await n.initd('force-reload');
        assert.equal(f.code, 0, show(f));
        await wait('a second reload line', () => n.reloadLines() > mid);
        assert.deepEqual(await n.daemons(), [first]);
        assert.ok(await n.hasVip());
      });

      await step('reload with a broken ha.cf: exit 6 with the file:line error, hbd not signalled', async () => {
        appendFileSync(join(n.configDir, 'ha.cf'), 'frobnicate 1\n');
        const before = n.reloadLines();
        const r = await n.initd('reload');
        assert.equal(r.code, 6, show(r));
        assert.match(r.stderr, /ha\.cf:\d+: error: unknown directive "frobnicate"/);
        await new Promise((res) => setTimeout(res, 1000));
        assert.equal(n.reloadLines(), before, 'hbd was sent SIGHUP anyway');
        n.writeConfig();
        assert.deepEqual(await n.daemons(), [first]);
      });

      await step('restart, without the LSB functions: a new hbd, the VIP up again', async () => {
        const r = await n.initd('restart', { lsb: false });
        assert.equal(r.code, 0, show(r));
        assert.match(r.stdout, /Stopping High-Availability services: heartbeat\./);
        assert.match(r.stdout, /Starting High-Availability services: heartbeat\./);
        const pid = n.pid();
        assert.ok(pid !== null && pid !== first && isLive(pid), `pid file: ${pid} (before: ${first})`);
        assert.equal(isLive(first), false, 'the old hbd still runs');
        assert.deepEqual(await n.daemons(), [pid]);
        await wait('the VIP on eth0', () => n.hasVip());
        first = pid;
      });

      await step('stop: the group is released before it returns (VIP gone), hbd and its pid file gone, status 3', async () => {
        const r = await n.initd('stop');
        assert.equal(r.code, 0, show(r));
        assert.equal(await n.hasVip(), false, 'the VIP is still configured after stop returned');
        assert.equal(isLive(first), false);
        assert.equal(existsSync(n.pidFile), false, 'pid file left behind');
        assert.deepEqual(await n.daemons(), []);
        assert.match(readFileSync(n.logFile, 'utf8'), /Heartbeat shutdown complete\./);
        const s = await n.initd('status');
        assert.equal(s.code, 3, show(s));
        const again = await n.initd('stop');
        assert.equal(again.code, 0, show(again));
      });

      await step('status with a stale pid file: 1, for a dead PID and for a live process that is not hbd', async () => {
        mkdirSync(join(n.dir, 'run'), { recursive: true });
        const gone = await new Promise<number>((resolve) => {
          const c = execFile('/bin/true', () => resolve(c.pid ?? 0));
        });
        await waitGone([gone], 5000);
        writeFileSync(n.pidFile, `${gone}\n`);
        for (const lsb of [true, false]) {
          const s = await n.initd('status', { lsb });
          assert.equal(s.code, 1, show(s));
          assert.match(s.stdout, /not running, but .*heartbeat\.pid exists/);
        }
        // This test's own process: alive, but its command name is not heartbeat.
        writeFileSync(n.pidFile, `${process.pid}\n`);
        const s = await n.initd('status');
        assert.equal(s.code, 1, show(s));
      });

      await step('start over that stale pid file: starts, and the file names the new hbd', async () => {
        const r = await n.initd('start');
        assert.equal(r.code, 0, show(r));
        const pid = n.pid();
        assert.ok(pid !== null && pid !== process.pid && isLive(pid));
        assert.deepEqual(await n.daemons(), [pid]);
        await wait('the VIP on eth0', () => n.hasVip());
        first = pid;
      });

      await step('a stop slower than STOP_TIMEOUT: exit 1 saying so; hbd finishes its clean stop by itself', async () => {
        writeFileSync(join(n.configDir, 'slow-stop'), '');
        n.writeDefaults('STOP_TIMEOUT=1\n');
        const r = await n.initd('stop');
        assert.equal(r.code, 1, show(r));
        assert.match(r.stderr, new RegExp(`hbd \\(pid ${first}\\) has not finished stopping after 1 s`));
        assert.ok(isLive(first), 'the stop did not wait for hbd, or killed it');
        await wait('hbd to finish its stop', () => !isLive(first));
        assert.equal(await n.hasVip(), false);
        assert.equal(existsSync(n.pidFile), false);
        assert.equal((await n.initd('status')).code, 3);
        unlinkSync(join(n.configDir, 'slow-stop'));
        n.writeDefaults();
      });

      await step('start with a broken ha.cf: exit 6, the file:line error printed, no hbd', async () => {
        n.writeConfig('frobnicate 1\n');
        const hacf = join(n.configDir, 'ha.cf');
        const line = readFileSync(hacf, 'utf8').split('\n').indexOf('frobnicate 1') + 1;
        for (const lsb of [true, false]) {
          const r = await n.initd('start', { lsb });
          assert.equal(r.code, 6, show(r));
          assert.ok(r.stderr.includes(`${hacf}:${line}: error: unknown directive "frobnicate"`), show(r));
          assert.match(r.stdout + r.stderr, /not valid; not starting/);
          assert.equal(existsSync(n.pidFile), false);
          assert.deepEqual(await n.daemons(), []);
        }
        unlinkSync(join(n.configDir, 'ha.cf'));
        const missing = await n.initd('start');
        assert.equal(missing.code, 6, show(missing));
        assert.match(missing.stderr, /ha\.cf does not exist/);
        n.writeConfig();
      });

      await step('reload when stopped: 7; an unknown action: usage and 3', async () => {
        const r = await n.initd('reload');
        assert.equal(r.code, 7, show(r));
        const u = await n.initd('frobnicate');
        assert.equal(u.code, 3, show(u));
        assert.match(u.stderr, /Usage: .*\{start\|stop\|restart\|reload\|force-reload\|status\}/);
      });
    },
    { subnet: '10.231.9' },
  );
});
