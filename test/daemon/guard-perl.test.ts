// The address guard's program (src/daemon/guard-perl.ts) on its own, with a stand-in `ip` first
// on its PATH: what it runs and what it refuses to run, that a failed removal keeps the last
// words back, that only EOF ends it, its title, and that it needs nothing beyond Debian's
// perl-base (Essential). The real `ip` in namespaces: test/failover/guard*.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, closeSync, existsSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AddressGuard, GUARD_ARGV, heldLine, lastWordsLine } from '../../src/daemon/guard.js';
import { GUARD_PERL } from '../../src/daemon/guard-perl.js';
import { sleep } from '../../src/lib/wait.js';

const FAKE_IP = `#!/bin/sh
printf '%s\\n' "$*" >> "$FAKE_IP_LOG"
case "$1" in
  addr) if [ "$FAKE_IP_DEL" = fail ]; then echo "RTNETLINK answers: Operation not permitted" >&2; exit 2; fi; exit 0 ;;
  -o) case "$FAKE_IP_SHOW" in fail) echo "Cannot talk to rtnetlink" >&2; exit 1 ;; hang) exec sleep 30 ;; esac
      cat "$FAKE_IP_LISTING"; exit 0 ;;
esac
exit 1
`;

interface Run {
  /** Each `ip` command line the guard ran. */
  ipCalls: string[];
  stderr: string;
  packets: number;
}

interface Options {
  held: string;
  /** Lines after `held`, before EOF (without the last words: they are added). */
  more?: string[];
  del?: 'ok' | 'fail';
  show?: 'ok' | 'fail' | 'hang';
  /** What `ip -o addr show` prints after the removals. */
  listing?: string;
  /** Between the input and EOF. */
  meanwhile?: (pid: number) => Promise<void>;
  journal?: boolean;
  perlArgv?: string[];
  /** Written last, without its '\n': hbd died in the middle of a line. */
  cut?: string;
}

async function guard(o: Options): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'cg-guard-'));
  const rx = createSocket('udp4');
  let packets = 0;
  rx.on('message', () => packets++);
  await new Promise<void>((resolve) => rx.bind(0, '127.0.0.1', () => resolve()));
  writeFileSync(join(dir, 'ip'), FAKE_IP);
  chmodSync(join(dir, 'ip'), 0o755);
  writeFileSync(join(dir, 'listing'), o.listing ?? '');
  const errFile = join(dir, 'stderr');
  const errFd = openSync(errFile, 'w');
  const st = fstatSync(errFd, { bigint: true });
  const env = { ...process.env, PATH: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}`, FAKE_IP_LOG: join(dir, 'calls'), FAKE_IP_DEL: o.del ?? 'ok', FAKE_IP_SHOW: o.show ?? 'ok', FAKE_IP_LISTING: join(dir, 'listing'), JOURNAL_STREAM: o.journal ? `${st.dev}:${st.ino}` : '' };
  const [cmd, ...args] = o.perlArgv ?? GUARD_ARGV;
  const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', errFd], env });
  closeSync(errFd);
  const stdin = child.stdin!;
  const stdout = child.stdout!;
  stdin.on('error', () => undefined); // a guard that died early: the assertions say so
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  try {
    let out = '';
    stdout.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      stdout.on('data', (c: string) => ((out += c), out.includes('ready\n') && resolve()));
      child.once('exit', (code) => reject(new Error(`exited ${code} before ready: ${readFileSync(errFile, 'utf8')}`)));
    });
    stdin.write([o.held, ...(o.more ?? []), lastWordsLine([Buffer.from('last words')], [{ local: '127.0.0.1', destinations: [{ address: '127.0.0.1', port: rx.address().port }] }])].join('\n') + '\n' + (o.cut ?? ''));
    await o.meanwhile?.(child.pid!);
    assert.equal(child.exitCode, null, 'still running before EOF');
    stdin.end();
    const code = await exited;
    assert.equal(code, 0);
    await sleep(100);
    const calls = existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').split('\n').filter((l) => l !== '') : [];
    const stderr = readFileSync(errFile, 'utf8');
    // Nothing but its own lines: no warning from perl itself (at compile time, on every start).
    for (const line of stderr.split('\n').filter((l) => l !== '')) assert.match(line, /^(<\d>)?hbd guard: /);
    return { ipCalls: calls, stderr, packets };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('it removes exactly the well-formed copies hbd holds, checks they are gone, then says the last words', async () => {
  const held = heldLine([
    { ip: '10.242.1.100', prefix: 24, dev: 'eth0' },
    { ip: 'fd42::100', prefix: 64, dev: 'br-lan.7' },
  ]);
  const bad = ['10.242.1.101/24/eth0;reboot', '10.242.1.102/33/eth0', '10.242.1.256/24/eth0', '-f/24/eth0', '10.242.1.103/24/a-very-long-device-name', 'fd42::1/129/eth0', '10.242.1.104/24'];
  // Still listed, but on other devices (the same IP on lo for LVS-DR is not ours), or others' addresses.
  const listing = '1: lo    inet 10.242.1.100/32 scope host lo\\       valid_lft forever\n3: eth0    inet 10.242.1.5/24 scope global eth0\\       valid_lft forever\n';
  const r = await guard({ held: `${held} ${bad.join(' ')}`, listing });
  assert.deepEqual(r.ipCalls, ['addr del 10.242.1.100/24 dev eth0', 'addr del fd42::100/64 dev br-lan.7', '-o addr show']);
  for (const b of bad) assert.ok(r.stderr.includes(`ignored a malformed address from hbd: ${b}\n`), `refused: ${b}`);
  assert.match(r.stderr, /hbd guard: hbd died; removed 10\.242\.1\.100 from eth0 \(\/24\)\n/);
  assert.match(r.stderr, /hbd guard: hbd died; removed fd42::100 from br-lan\.7 \(\/64\)\n/);
  assert.match(r.stderr, /told the peers that hbd died \(2 packets\)/);
  assert.equal(r.packets, 2);
});

test('a copy that could not be removed: CRITICAL, and no last words (the peers wait for deadtime)', async () => {
  // ip writes an IPv6 address in its own short form: compared as addresses, not as text.
  const listing = '3: eth0    inet 10.242.1.100/24 scope global secondary eth0:1\\       valid_lft forever\n3: eth0    inet6 fd42::100/64 scope global\\       valid_lft forever\n';
  const r = await guard({ held: 'held 10.242.1.100/24/eth0 fd42:0:0::0100/64/eth0', del: 'fail', listing });
  assert.match(r.stderr, /ip addr del 10\.242\.1\.100\/24 dev eth0: RTNETLINK answers: Operation not permitted\n/);
  assert.match(r.stderr, /CRITICAL: 10\.242\.1\.100\/24 on eth0, fd42:0:0::0100\/64 on eth0 could not be removed; not telling the peers/);
  assert.doesNotMatch(r.stderr, /told the peers that hbd died/);
  assert.equal(r.packets, 0);
});

test('when it cannot check that the copies are gone (ip fails or hangs), it says nothing to the peers', async () => {
  const failed = await guard({ held: 'held 10.242.1.100/24/eth0', show: 'fail' });
  assert.match(failed.stderr, /CRITICAL: cannot check that the addresses are gone \(Cannot talk to rtnetlink\)/);
  assert.equal(failed.packets, 0);
  const hung = await guard({ held: 'held 10.242.1.100/24/eth0', show: 'hang' });
  assert.match(hung.stderr, /CRITICAL: cannot check that the addresses are gone \(no answer within 5 s\)/);
  assert.equal(hung.packets, 0);
});

test('only EOF ends it: SIGTERM, SIGINT, SIGHUP do not; a line cut short by hbd\'s death is not read; its title', async () => {
  const r = await guard({
    held: 'held 10.242.1.100/24/eth0',
    meanwhile: async (pid) => {
      assert.equal(readFileSync(`/proc/${pid}/cmdline`, 'latin1'), 'heartbeat: address guard\0');
      assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8'), 'heartbeat\n');
      for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.kill(pid, sig);
      await sleep(300);
    },
    // An empty list, cut short: it would clear what hbd holds if it were read.
    cut: 'held',
  });
  assert.deepEqual(r.ipCalls, ['addr del 10.242.1.100/24 dev eth0', '-o addr show']);
  assert.equal(r.packets, 2);
});

test('its lines carry journald priorities when stderr is the journal', async () => {
  const r = await guard({ held: 'held 10.242.1.100/24/eth0 10.242.1.101/24/eth0', del: 'fail', listing: '3: eth0    inet 10.242.1.101/24 scope global eth0\n', journal: true });
  assert.match(r.stderr, /^<3>hbd guard: ip addr del 10\.242\.1\.100/m);
  assert.match(r.stderr, /^<2>hbd guard: CRITICAL: 10\.242\.1\.101\/24 on eth0 could not be removed/m);
});

test('it needs nothing beyond perl-base, which Debian marks Essential', async () => {
  const essential = execFileSync('dpkg-query', ['-W', '-f', '${Essential}', 'perl-base'], { encoding: 'utf8' });
  assert.equal(essential, 'yes');
  // Only perl-base's module directory on @INC: a `use` of anything else would fail to compile.
  const onlyBase = `BEGIN { @INC = grep { m{/perl-base$} } @INC; die "no perl-base directory\\n" unless @INC } ${GUARD_PERL}`;
  const r = await guard({ held: 'held 10.242.1.100/24/eth0', perlArgv: ['perl', '-e', onlyBase] });
  assert.equal(r.packets, 2);
  const owner = execFileSync('dpkg', ['-S', execFileSync('perl', ['-e', 'print $^X'], { encoding: 'utf8' })], { encoding: 'utf8' });
  assert.match(owner, /^perl-base: /);
});

test('hbd\'s side: a guard that cannot start (no perl on the PATH) is said at once, not after the timeout', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-guard-'));
  const path = process.env.PATH;
  process.env.PATH = dir;
  try {
    const started = Date.now();
    await assert.rejects(new AddressGuard().start(10_000), /cannot run perl: .*ENOENT/);
    assert.ok(Date.now() - started < 5000, 'long before the 10 s timeout');
  } finally {
    process.env.PATH = path;
    rmSync(dir, { recursive: true, force: true });
  }
});
