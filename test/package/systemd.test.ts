// The Debian package under a real systemd: built by scripts/build-deb.sh, installed with
// `apt-get install ./heartbeat-ts_*.deb` into Debian 13 (nodejs pulled from Debian), two
// containers with systemd as PID 1 on one bridge, and the seed tutorial's steps run as a
// sysadmin runs them: `systemctl enable --now heartbeat`, `service heartbeat reload` after a
// haresources change, `kill -9` of hbd's main process under the unit's restart policy,
// `systemctl stop heartbeat`, `apt-get purge`. The kernel's address events (in each
// container's network namespace) say who held the virtual IP when: never two at once.
// secondary runs with the hardened drop-in (packaging/systemd/hardened.conf), so the VIP and
// the web service are shown to work under it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Lan } from '../../src/lib/netns.js';
import { AddressMonitor, heldByTwo } from '../helpers/address-monitor.js';
import { netnsSkip } from '../helpers/netns.js';
import { fromRoot } from '../helpers/repo.js';
import { Container, containerToolsMissing, debianImage, installedRoot, run, waitUntil } from '../helpers/debian-container.js';

const SUBNET = '10.231.61';
const VIP = `${SUBNET}.100`;
const VIP2 = `${SUBNET}.101`;
const NODES = [
  { name: 'primary', octet: 11 },
  { name: 'secondary', octet: 12 },
];

function skipReason(): string | null {
  const missing = containerToolsMissing();
  if (!missing) return null;
  if (process.env.CI === 'true') throw new Error(`CI=true but the systemd container test cannot run: ${missing}`);
  return missing;
}

const hacf = NODES.map((n) => `node ${n.name}\nucast eth0 ${SUBNET}.${n.octet}\n`).join('') + 'keepalive 1\ndeadtime 10\ninitdead 20\nauto_failback on\n';
const haresources = (extra: boolean) => `primary IPaddr::${VIP}/24/eth0 web\n${extra ? `secondary IPaddr::${VIP2}/24/eth0\n` : ''}`;

// The tutorial's web server stands in as a classic init script: it starts the demo web
// service shipped in the package, with a pid file.
const webScript = (name: string, address: string) => `#!/bin/sh
PIDFILE=/run/web.pid
running() { [ -f $PIDFILE ] && kill -0 "$(cat $PIDFILE)" 2>/dev/null; }
case "$1" in
  start) running && exit 0
         /usr/bin/node /usr/lib/heartbeat-ts/dist/src/demo/web.js ${name} ${address} 80 >/dev/null 2>&1 &
         echo $! > $PIDFILE; exit 0 ;;
  stop)  running && kill "$(cat $PIDFILE)"; rm -f $PIDFILE; exit 0 ;;
  status) if running; then echo "web is running"; exit 0; else echo "web is stopped"; exit 3; fi ;;
  *) echo "usage: $0 {start|stop|status}"; exit 1 ;;
esac
`;

test('the .deb under a real systemd: enable --now, reload, kill -9 with restart, stop, purge', { timeout: 900_000 }, async (t) => {
  const why = skipReason() ?? (await netnsSkip());
  if (why) {
    console.log(`# skipped: ${why}`);
    t.skip(String(why));
    return;
  }
  const work = mkdtempSync('/var/tmp/hbts-pkg-');
  const lan = new Lan({ subnet: SUBNET, label: 'pkg' });
  const boxes: Container[] = [];
  const monitors: AddressMonitor[] = [];
  try {
    const built = await run(['bash', fromRoot('scripts', 'build-deb.sh'), join(work, 'out')], { timeoutMs: 300_000 });
    assert.equal(built.code, 0, built.stderr);
    const deb = built.stdout.trim().split('\n').pop()!;
    const image = await debianImage();
    const base = join(work, 'base');
    await installedRoot(image, base, [deb]);
    await lan.create();
    for (const n of NODES) {
      const root = join(work, n.name);
      const copied = await run(['cp', '-a', base, root], { timeoutMs: 300_000 });
      assert.equal(copied.code, 0, copied.stderr);
      const box = new Container(n.name, root);
      boxes.push(box);
      box.write('/etc/hostname', `${n.name}\n`);
      box.write('/etc/ha.d/ha.cf', hacf);
      box.write('/etc/ha.d/authkeys', 'auth 1\n1 sha1 tutorial-secret-for-the-package-test\n', 0o600);
      box.write('/etc/ha.d/haresources', haresources(false));
      box.write('/etc/init.d/web', webScript(n.name, `${SUBNET}.${n.octet}`), 0o755);
      // As README says: the package's example drop-in, copied into place.
      if (n.name === 'secondary') box.write('/etc/systemd/system/heartbeat.service.d/hardened.conf', readFileSync(join(root, 'usr/share/doc/heartbeat-ts/examples/hardened.conf'), 'utf8'));
      await lan.addHost(n.name, n.octet);
      const monitor = new AddressMonitor(lan, n.name, VIP);
      monitors.push(monitor);
      await monitor.ready();
    }
    rmSync(base, { recursive: true, force: true });
    const [primary, secondary] = boxes as [Container, Container];
    const dump = async () => (await Promise.all(boxes.map(async (b) => `--- ${b.name} journal ---\n${await b.journal()}`))).join('\n');
    const holds = async (b: Container, address = VIP) => (await b.exec(['ip', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout.includes(` ${address}/`);

    await Promise.all(boxes.map((b) => b.boot(lan.host(b.name).ns)));
    // The package enabled the unit and the missing ha.cf kept it from starting: it now exists,
    // so this is the tutorial's `systemctl enable --now`, on both nodes at once.
    await Promise.all(boxes.map((b) => b.sh(['systemctl', 'enable', '--now', 'heartbeat'], 120_000))).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await dump()}`);
    });
    for (const b of boxes) {
      // Type=notify: active means hbd said READY=1.
      assert.equal((await b.exec(['systemctl', 'is-active', 'heartbeat'])).stdout.trim(), 'active', await dump());
      assert.equal((await b.exec(['systemctl', 'is-active', 'heartbeat-ts'])).stdout.trim(), 'active', 'the alias names the same unit');
      // The address guard runs (secondary's under the hardened drop-in too), and perl said nothing of its own.
      const pids = (await b.exec(['pgrep', '-x', '-f', 'heartbeat: address guard'])).stdout.trim();
      assert.match(pids, /^\d+$/, `${b.name}: one address guard: ${await b.journal()}`);
      assert.doesNotMatch(await b.journal(), /address guard did not start| at -e line \d+/);
    }
    await waitUntil('the VIP on primary', () => holds(primary), 60_000, dump);
    await waitUntil('both nodes up in the unit status', async () => (await primary.exec(['systemctl', 'show', '-p', 'StatusText', '--value', 'heartbeat'])).stdout.includes('2/2 nodes up'), 30_000, dump);
    // Each log line once in the journal (through syslog, tagged heartbeat), not again from stderr.
    const started = (await primary.journal()).split('\n').filter((l) => l.includes('Configuration validated. Starting heartbeat-ts'));
    assert.equal(started.length, 1, started.join('\n'));
    assert.match(started[0]!, / heartbeat\[\d+\]: info: Configuration validated/);
    const status = await primary.exec(['cl_status', 'hbstatus']);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    const answer = await secondary.exec(['node', '-e', `fetch('http://${VIP}/').then((r) => r.text()).then((t) => process.stdout.write(t))`]);
    assert.match(answer.stdout, /^Droplet: primary, IP Address: 10\.231\.61\.11/, answer.stderr);
    assert.equal(await holds(secondary), false);

    // `service heartbeat reload` after haresources gains a group, non-owner first.
    for (const b of boxes) b.write('/etc/ha.d/haresources', haresources(true));
    await secondary.sh(['service', 'heartbeat', 'reload']);
    // Seed 003's own words; on a systemd machine the init script hands them to systemctl.
    await primary.sh(['/etc/init.d/heartbeat', 'reload']);
    await waitUntil('the new group on secondary', () => holds(secondary, VIP2), 60_000, dump);
    assert.equal(await holds(primary), true, 'reload kept the unchanged group where it was');

    // kill -9 of hbd: its guard removes the VIP and says hbd's last words, secondary takes over
    // at once, systemd restarts hbd (Restart=on-failure), and the group comes back (auto_failback on).
    const mainPid = (await primary.sh(['systemctl', 'show', '-p', 'MainPID', '--value', 'heartbeat'])).trim();
    assert.match(mainPid, /^[1-9]\d*$/);
    await primary.sh(['kill', '-9', mainPid]);
    await waitUntil('secondary to take the VIP', () => holds(secondary), 30_000, dump);
    await waitUntil('systemd to restart hbd', async () => {
      const r = await primary.exec(['systemctl', 'show', '-p', 'NRestarts', '-p', 'ActiveState', '-p', 'MainPID', 'heartbeat']);
      return /NRestarts=1/.test(r.stdout) && /ActiveState=active/.test(r.stdout) && !r.stdout.includes(`MainPID=${mainPid}\n`);
    }, 60_000, dump);
    await waitUntil('the VIP back on primary', async () => (await holds(primary)) && !(await holds(secondary)), 90_000, dump);
    const journal = await primary.journal();
    assert.match(journal, /heartbeat\.service: Main process exited, code=killed, status=9\/KILL/, journal);
    // The guard (Perl, from the image's perl-base) did it, not deadtime; journald read its
    // lines' priorities ("<6>"), so they show without them.
    assert.match(journal, /hbd guard: hbd died; removed 10\.231\.61\.100 from eth0 \(\/24\)/, journal);
    assert.match(journal, /hbd guard: told the peers that hbd died \(\d+ packets\)/, journal);
    assert.doesNotMatch(journal, /<\d>hbd guard/, journal);

    // systemctl stop hands the group over cleanly.
    await primary.sh(['systemctl', 'stop', 'heartbeat'], 200_000);
    assert.equal(await holds(primary), false);
    await waitUntil('secondary to hold the VIP after the stop', () => holds(secondary), 30_000, dump);
    assert.match(await primary.journal(), /Heartbeat shutdown complete/);

    // The unit is clean, and its exposure is what README says.
    const verify = await primary.exec(['systemd-analyze', 'verify', 'heartbeat.service']);
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(verify.stderr.trim(), '', verify.stderr);
    for (const b of boxes) {
      const sec = await b.exec(['systemd-analyze', 'security', '--no-pager', 'heartbeat.service']);
      const score = /Overall exposure level for heartbeat\.service: ([\d.]+)/.exec(sec.stdout)?.[1];
      console.log(`# systemd-analyze security on ${b.name}${b.name === 'secondary' ? ' (hardened.conf)' : ''}: ${score}`);
      assert.ok(score, sec.stdout + sec.stderr);
    }

    // apt-get purge: every file of the package gone, its state and enablement too; the
    // operator's own files in /etc/ha.d stay (Debian policy: purge removes what the package made).
    const files = (await primary.sh(['dpkg', '-L', 'heartbeat-ts'])).split('\n').filter((f) => f && !['/.', '/etc', '/usr', '/usr/bin', '/usr/lib', '/usr/share', '/usr/share/doc', '/usr/share/man', '/etc/default', '/etc/init.d', '/etc/logrotate.d', '/usr/lib/systemd', '/usr/lib/systemd/system'].includes(f) && !/^\/usr\/share\/man\/man\d$/.test(f));
    await primary.sh(['apt-get', 'purge', '-y', '-q', 'heartbeat-ts'], 120_000);
    const left = files.filter((f) => f !== '/etc/ha.d' && primary.exists(f));
    assert.deepEqual(left, [], `left behind by purge: ${left.join(', ')}`);
    for (const gone of ['/var/lib/heartbeat-ts', '/etc/systemd/system/multi-user.target.wants/heartbeat.service', '/etc/systemd/system/heartbeat-ts.service']) {
      assert.equal(primary.exists(gone), false, `${gone} is left after purge`);
    }
    for (const kept of ['/etc/ha.d/ha.cf', '/etc/ha.d/haresources', '/etc/ha.d/authkeys']) assert.equal(primary.exists(kept), true, `${kept} was removed`);
    assert.notEqual((await primary.exec(['systemctl', 'cat', 'heartbeat.service'])).code, 0, 'the unit is gone');

    const end = Date.now();
    const holdings = monitors.flatMap((m) => m.holdings(end));
    assert.ok(!heldByTwo(holdings), `the VIP was on two hosts at once: ${JSON.stringify(holdings)}`);
    assert.ok(holdings.filter((h) => h.node === 'secondary').length >= 2, JSON.stringify(holdings));
  } finally {
    for (const m of monitors) m.stop();
    for (const b of boxes) await b.destroy().catch(() => undefined);
    await lan.destroy();
    rmSync(work, { recursive: true, force: true });
  }
});
