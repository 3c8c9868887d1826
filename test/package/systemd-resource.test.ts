// `systemd:UNIT` resources under a real systemd: the package installed in a Debian 13 container
// booted with systemd as PID 1 (test/helpers/debian-container.ts, as the package test does),
// one node whose groups are a unit that runs and a unit that fails. hbd starts the first
// through systemctl and it runs; the second's failure is logged with systemd's own reason and
// the group is rolled back; `systemctl stop heartbeat` stops the unit again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Lan } from '../../src/lib/netns.js';
import { netnsSkip } from '../helpers/netns.js';
import { fromRoot } from '../helpers/repo.js';
import { Container, containerToolsMissing, debianImage, installedRoot, run, waitUntil } from '../helpers/debian-container.js';

const SUBNET = '10.231.62';

function skipReason(): string | null {
  const missing = containerToolsMissing();
  if (!missing) return null;
  if (process.env.CI === 'true') throw new Error(`CI=true but the systemd container test cannot run: ${missing}`);
  return missing;
}

const UNITS: Record<string, string> = {
  'hts-demo.service': '[Unit]\nDescription=a service heartbeat-ts runs\n[Service]\nExecStart=/usr/bin/sleep infinity\n',
  // A oneshot: systemctl start waits for it, and it fails.
  'hts-broken.service': '[Unit]\nDescription=a service that cannot start\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/sh -c "echo cannot start >&2; exit 3"\n',
};

test('systemd:UNIT resources in a systemd container: started and stopped through systemctl, a failing unit rolled back with its reason', { timeout: 900_000 }, async (t) => {
  const why = skipReason() ?? (await netnsSkip());
  if (why) {
    console.log(`# skipped: ${why}`);
    t.skip(String(why));
    return;
  }
  const work = mkdtempSync('/var/tmp/ocf-sd-');
  const lan = new Lan({ subnet: SUBNET, label: 'ocf' });
  let box: Container | null = null;
  try {
    const built = await run(['bash', fromRoot('scripts', 'build-deb.sh'), join(work, 'out')], { timeoutMs: 300_000 });
    assert.equal(built.code, 0, built.stderr);
    const deb = built.stdout.trim().split('\n').pop()!;
    const root = join(work, 'node1');
    await installedRoot(await debianImage(), root, [deb]);
    await lan.create();
    await lan.addHost('node1', 11);
    const c = new Container('node1', root);
    box = c;
    c.write('/etc/hostname', 'node1\n');
    c.write('/etc/ha.d/ha.cf', `node node1\nucast eth0 ${SUBNET}.11\nkeepalive 1\ndeadtime 5\ninitdead 10\nauto_failback on\n`);
    c.write('/etc/ha.d/authkeys', 'auth 1\n1 sha1 systemd-resource-test\n', 0o600);
    c.write('/etc/ha.d/haresources', 'node1 systemd:hts-demo\nnode1 systemd:hts-broken.service\n');
    for (const [name, text] of Object.entries(UNITS)) c.write(`/etc/systemd/system/${name}`, text);
    const dump = async () => `--- journal ---\n${await c.journal()}`;
    const state = async (unit: string) => (await c.exec(['systemctl', 'is-active', unit])).stdout.trim();

    await c.boot(lan.host('node1').ns);
    const check = await c.exec(['hbctl', 'check-config']);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /1\. systemd args \[hts-demo\.service\] +\(systemd unit hts-demo\.service\)/);
    // The package enabled heartbeat.service, and ha.cf was in place before boot: it started at
    // boot. `enable --now` is what the tutorial says; here it finds it running.
    await c.sh(['systemctl', 'enable', '--now', 'heartbeat'], 120_000);
    await waitUntil('hbd to start hts-demo.service', async () => (await state('hts-demo.service')) === 'active', 60_000, dump);
    await waitUntil('the failed start of hts-broken to be logged', async () => /hts-broken\.service failed \(exit code 1\): Result=exit-code/.test(await c.journal()), 60_000, dump);
    const journal = await c.journal();
    assert.match(journal, /Running systemctl --no-ask-password start -- hts-demo\.service/);
    assert.match(journal, /systemctl --no-ask-password start -- hts-broken\.service failed \(exit code 1\): Result=exit-code, ExecMainStatus=3, ActiveState=failed/);
    // The failed group was rolled back: its stop ran, and the unit is not left active.
    await waitUntil('the rollback of hts-broken', async () => /Running systemctl --no-ask-password stop -- hts-broken\.service/.test(await c.journal()), 30_000, dump);
    assert.notEqual(await state('hts-broken.service'), 'active');
    assert.equal(await state('hts-demo.service'), 'active', 'the other group keeps running');

    await c.sh(['systemctl', 'stop', 'heartbeat'], 120_000);
    assert.equal(await state('hts-demo.service'), 'inactive', 'stopping heartbeat stopped the unit through systemctl');
  } finally {
    await box?.destroy();
    await lan.destroy();
    rmSync(work, { recursive: true, force: true });
  }
});
