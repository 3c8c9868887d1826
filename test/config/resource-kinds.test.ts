// What a resource word names: init scripts in several directories, Heartbeat's classic
// resource.d names mapped onto the real OCF agents of resource-agents, the direct ocf: form,
// OCF::type::instance with its file, systemd units, IPv6 addresses; each checked through
// loadConfig and, for the words a user reads, through `hbctl check-config`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig, type LoadOptions } from '../../src/config/load.js';
import { formatIssue } from '../../src/config/issues.js';
import { BUILTIN_IP_NAMES, CLASSIC_NAMES } from '../../src/config/ocf-names.js';
import { parseMetaData, parseOcfTimeout } from '../../src/config/ocf-meta.js';
import { canonicalIpv6, parseVip } from '../../src/config/vip.js';
import type { ResourceSpec } from '../../src/config/types.js';
import { textFixture } from '../helpers/config-fixture.js';
import { fromRoot } from '../helpers/repo.js';
import { skipWithoutTools } from '../helpers/tools.js';

const run = promisify(execFile);
const HACF = 'keepalive 1\ndeadtime 10\nbcast eth0\nnode alpha beta\nauto_failback on\n';
const AUTH = 'auth 1\n1 sha1 s3cret\n';
/** The real OCF agents, for the tests that need them (resource-agents; install-deps.sh installs it). */
const RESOURCE_AGENTS = [{ cmd: '/usr/lib/ocf/resource.d/heartbeat/Dummy', pkg: 'resource-agents' }];

interface Loaded {
  ok: boolean;
  specs: ResourceSpec[];
  text: string;
}

/** Loads a one-group haresources with an empty resource.d (so no installed Heartbeat's scripts win). */
function load(resources: string, over: Partial<LoadOptions> = {}, setup?: (dir: string) => void): Loaded {
  const fx = textFixture({ hacf: HACF, authkeys: AUTH, haresources: `alpha ${resources}\n` });
  try {
    mkdirSync(join(fx.dir, 'resource.d'));
    setup?.(fx.dir);
    const r = loadConfig({ configDir: fx.dir, nodeName: 'alpha', roots: { initD: join(fx.dir, 'none') }, ...over });
    const issues = [...r.notes, ...r.warnings, ...(r.ok ? [] : r.errors)].map(formatIssue).join('\n');
    return { ok: r.ok, specs: r.ok ? (r.config.groups[0]?.resources ?? []) : [], text: issues };
  } finally {
    fx.cleanup();
  }
}

function script(path: string): void {
  writeFileSync(path, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
}

test('init scripts are searched in each init directory in order; the first that has it wins', () => {
  const fx = textFixture({ hacf: HACF, authkeys: AUTH, haresources: 'alpha foo bar\n' });
  try {
    for (const d of ['init.d', 'rc.d']) mkdirSync(join(fx.dir, d));
    script(join(fx.dir, 'rc.d', 'foo'));
    script(join(fx.dir, 'init.d', 'bar'));
    script(join(fx.dir, 'rc.d', 'bar'));
    const r2 = loadConfig({ configDir: fx.dir, nodeName: 'alpha', roots: { initD: `${join(fx.dir, 'init.d')}:${join(fx.dir, 'rc.d')}` } });
    assert.ok(r2.ok, JSON.stringify(r2));
    const [foo, bar] = r2.config.groups[0]!.resources;
    assert.deepEqual(foo!.agent, { kind: 'init.d', path: join(fx.dir, 'rc.d', 'foo') });
    assert.deepEqual(bar!.agent, { kind: 'init.d', path: join(fx.dir, 'init.d', 'bar') });
    const missing = loadConfig({ configDir: fx.dir, nodeName: 'alpha', roots: { initD: join(fx.dir, 'init.d') } });
    assert.equal(missing.ok, false);
    assert.match(missing.ok ? '' : missing.errors.map(formatIssue).join('\n'), /haresources:1: error: resource "foo" not found: no executable .*resource\.d\/foo or .*init\.d\/foo — .*systemd:foo/);
  } finally {
    fx.cleanup();
  }
});

test('hbctl check-config names the init directories it searched and where each script was found', async () => {
  const fx = textFixture({ hacf: HACF, authkeys: AUTH, haresources: 'alpha mysqld\n' });
  try {
    mkdirSync(join(fx.dir, 'rc.d'));
    script(join(fx.dir, 'rc.d', 'mysqld'));
    const dirs = `${join(fx.dir, 'init.d')}:${join(fx.dir, 'rc.d')}`;
    const { stdout } = await run(process.execPath, [fromRoot('dist', 'src', 'cli', 'hbctl.js'), 'check-config', '--config-dir', fx.dir, '--init-dir', dirs, '--node', 'alpha']);
    assert.match(stdout, new RegExp(`Init scripts: +searched in ${join(fx.dir, 'init.d')}, ${join(fx.dir, 'rc.d')} \\(after resource\\.d\\)`));
    assert.match(stdout, new RegExp(`1\\. mysqld +\\(init script ${join(fx.dir, 'rc.d', 'mysqld')}\\)`));
  } finally {
    fx.cleanup();
  }
});

test('systemd units: systemd:NAME is NAME.service; a typed name is kept; arguments are refused', () => {
  const r = load('systemd:nginx systemd:backup.timer');
  assert.ok(r.ok, r.text);
  assert.deepEqual(r.specs.map((s) => s.agent), [
    { kind: 'systemd', unit: 'nginx.service' },
    { kind: 'systemd', unit: 'backup.timer' },
  ]);
  assert.match(load('systemd:-H').text, /"systemd:-H" is not a systemd unit/);
  const bad = load('systemd:nginx::reload');
  assert.match(bad.text, /haresources:1: error: "systemd:nginx::reload" is not a systemd unit — write systemd:NAME/);
});

test('IPv6 addresses: IPv6addr and IPaddr2 take them (with their own "::"), IPaddr says what to use', () => {
  assert.equal(canonicalIpv6('2001:0db8:0:0:0:0:0:0010'), '2001:db8::10');
  assert.equal(canonicalIpv6('2001:db8:0:1:0:0:0:1'), '2001:db8:0:1::1');
  assert.equal(canonicalIpv6('2001:db8:1:0:1:1:1:1'), '2001:db8:1:0:1:1:1:1');
  assert.deepEqual(parseVip('2001:DB8::10/64/eth0', [6]), { ok: true, vip: { ip: '2001:db8::10', family: 6, cidr: 64, iface: 'eth0', broadcast: null, gateway: null } });
  assert.match(JSON.stringify(parseVip('2001:db8::10/129', [6])), /1\.\.128/);
  assert.match(JSON.stringify(parseVip('fe80::10/64', [6])), /link-local: name the interface/);
  assert.match(JSON.stringify(parseVip('::ffff:10.0.0.1', [6])), /an IPv4 address written as IPv6: write it as IPv4 \(IPaddr::10\.0\.0\.1\)/);
  const r = load('IPv6addr::2001:db8::10/64/eth0 IPaddr2::2001:db8::11 IPaddr2::10.0.0.12/24');
  assert.ok(r.ok, r.text);
  assert.deepEqual(r.specs.map((s) => [s.raw, s.args, s.agent]), [
    ['IPv6addr::2001:db8::10/64/eth0', ['2001:db8::10/64/eth0'], { kind: 'builtin', id: 'IPv6addr' }],
    ['IPaddr2::2001:db8::11', ['2001:db8::11'], { kind: 'builtin', id: 'IPaddr2' }],
    ['IPaddr2::10.0.0.12/24', ['10.0.0.12/24'], { kind: 'builtin', id: 'IPaddr2' }],
  ]);
  assert.match(load('IPaddr::2001:db8::11').text, /error: IPaddr::2001:db8::11: "2001:db8::11" is not an IPv4 address — for an IPv6 address use IPv6addr::2001:db8::11/);
  assert.match(load('IPv6addr::10.0.0.1').text, /"10\.0\.0\.1" is not an IPv6 address/);
  assert.match(load('2001:db8::11').text, /is not a resource name .* an IPv6 address is written IPv6addr::2001:db8::11/);
});

test('meta-data: parameters, required ones and timeouts are read from the OCF XML', () => {
  assert.equal(parseOcfTimeout('20s'), 20_000);
  assert.equal(parseOcfTimeout('2m'), 120_000);
  assert.equal(parseOcfTimeout('90'), 90_000);
  assert.equal(parseOcfTimeout('500ms'), 500);
  assert.equal(parseOcfTimeout('soon'), null);
  const xml = `<?xml version="1.0"?><resource-agent name="X"><parameters>
    <parameter name="device" required="1"><content type="string"/></parameter>
    <parameter name="options" unique="0"></parameter></parameters>
    <actions><action name="start" timeout="60s" /><action name="monitor" depth="0" timeout="40s" interval="20s"/>
    <action name="monitor" depth="10" timeout="120s"/></actions></resource-agent>`;
  assert.deepEqual(parseMetaData(xml), {
    ok: true,
    meta: { params: [{ name: 'device', required: true }, { name: 'options', required: false }], timeouts: { start: 60_000, monitor: 40_000 } },
  });
  assert.equal(parseMetaData('usage: foo').ok, false);
});

test('without resource-agents, a classic name says which package brings its agent', () => {
  const r = load('Filesystem::/dev/sda1::/data1::ext2', { roots: { initD: '/nonexistent', ocfRoot: '/nonexistent/ocf' } });
  assert.match(r.text, /haresources:1: error: Filesystem::\/dev\/sda1::\/data1::ext2: Filesystem is Heartbeat's name for the OCF agent Filesystem, which is not installed: no executable \/nonexistent\/ocf\/resource\.d\/heartbeat\/Filesystem — install Debian's resource-agents package/);
});

test("every classic resource.d name passes check-config with its usage line's arguments (real resource-agents)", (t) => {
  if (skipWithoutTools(t, RESOURCE_AGENTS)) return;
  for (const [name, c] of Object.entries(CLASSIC_NAMES)) {
    const word = c.example ? `${name}::${c.example}` : name;
    const r = load(word);
    assert.ok(r.ok, `${word}:\n${r.text}`);
    const agent = r.specs[0]!.agent;
    assert.equal(agent.kind, 'ocf', word);
    if (agent.kind !== 'ocf') continue;
    assert.equal(agent.ocf.path, `/usr/lib/ocf/resource.d/heartbeat/${c.type}`);
    assert.ok(agent.ocf.timeouts.start && agent.ocf.timeouts.stop, `${word}: timeouts from meta-data ${JSON.stringify(agent.ocf.timeouts)}`);
  }
  for (const [name, b] of Object.entries(BUILTIN_IP_NAMES)) assert.ok(load(`${name}::${b.example}`).ok, name);
  const fs = load('Filesystem::/dev/sda1::/data1::ext2::noatime').specs[0]!.agent;
  assert.deepEqual(fs.kind === 'ocf' && [fs.ocf.params, fs.ocf.instance, fs.ocf.timeouts], [
    [['device', '/dev/sda1'], ['directory', '/data1'], ['fstype', 'ext2'], ['options', 'noatime']],
    'Filesystem_/dev/sda1',
    { start: 60_000, stop: 60_000, monitor: 40_000 },
  ]);
  const delay = load('Delay').specs[0]!.agent;
  assert.deepEqual(delay.kind === 'ocf' && [delay.ocf.params, delay.ocf.instance], [[['startdelay', '10'], ['mondelay', '10']], 'Delay_10']);
  const arp = load('SendArp::10.0.0.10/eth0').specs[0]!.agent;
  assert.deepEqual(arp.kind === 'ocf' && arp.ocf.params, [['ip', '10.0.0.10'], ['nic', 'eth0']]);
  const was = load('WAS::/etc/was.conf').specs[0]!.agent;
  assert.deepEqual(was.kind === 'ocf' && was.ocf.params, [['config', '/etc/was.conf']]);
  const alarm = load('AudibleAlarm::alpha::beta').specs[0]!.agent;
  assert.deepEqual(alarm.kind === 'ocf' && alarm.ocf.params, [['nodelist', 'alpha beta']]);
  // The wrappers' argument counts.
  assert.match(load('portblock::tcp::80').text, /error: portblock::tcp::80: portblock takes 3 argument\(s\), got 2 — usage: portblock::<protocol>::<portlist>::<action>/);
  assert.match(load('ids::a').text, /ids takes 0 or 3 argument\(s\), got 1/);
  // Filesystem without its fstype: Heartbeat's wrapper allowed it; the agent's meta-data calls it required.
  const noType = load('Filesystem::/dev/sda1::/data1');
  assert.ok(noType.ok, noType.text);
  assert.match(noType.text, /warning: Filesystem::\/dev\/sda1::\/data1: heartbeat\/Filesystem requires the parameter "fstype" \(the agent may refuse to start without it\)/);
});

test('a script of the same name in resource.d still wins over the mapped OCF agent', (t) => {
  if (skipWithoutTools(t, RESOURCE_AGENTS)) return;
  const r = load('Filesystem::/dev/sda1::/data1::ext2', {}, (dir) => script(join(dir, 'resource.d', 'Filesystem')));
  assert.ok(r.ok, r.text);
  assert.equal(r.specs[0]!.agent.kind, 'resource.d');
});

test('ocf:PROVIDER:TYPE::name=value: checked against meta-data, with a did-you-mean', (t) => {
  if (skipWithoutTools(t, RESOURCE_AGENTS)) return;
  const ok = load('ocf:heartbeat:Dummy::state=/run/d1.state::fake=x ocf:heartbeat:IPaddr2::ip=2001:db8::5::cidr_netmask=64');
  assert.ok(ok.ok, ok.text);
  const [dummy, ip] = ok.specs.map((s) => s.agent);
  assert.deepEqual(dummy?.kind === 'ocf' && [dummy.ocf.provider, dummy.ocf.type, dummy.ocf.params, dummy.ocf.form, dummy.ocf.timeouts], [
    'heartbeat',
    'Dummy',
    [['state', '/run/d1.state'], ['fake', 'x']],
    'direct',
    { start: 20_000, stop: 20_000, monitor: 20_000 },
  ]);
  assert.deepEqual(ip?.kind === 'ocf' && ip.ocf.params, [['ip', '2001:db8::5'], ['cidr_netmask', '64']]);
  assert.match(load('ocf:heartbeat:Dummy::stat=/run/x').text, /haresources:1: error: ocf:heartbeat:Dummy::stat=\/run\/x: heartbeat\/Dummy has no parameter "stat"; did you mean "state"\?/);
  assert.match(load('ocf:heartbeat:Filesystem::device=/dev/sda1').text, /error: .*heartbeat\/Filesystem requires the parameter "directory" — add ::directory=VALUE; heartbeat\/Filesystem requires the parameter "fstype" — add ::fstype=VALUE/);
  assert.match(load('ocf:heartbeat:NoSuchAgent').text, /error: ocf:heartbeat:NoSuchAgent: ocf:heartbeat:NoSuchAgent is an OCF agent, which is not installed/);
  assert.match(load('ocf:heartbeat').text, /is not an OCF agent name — write ocf:PROVIDER:TYPE/);
  assert.match(load('ocf:heartbeat:Dummy::state').text, /"state" is not name=value/);
  assert.match(load('ocf:heartbeat:Dummy::state=a::state=b').text, /parameter "state" is given twice/);
});

test('OCF::type::instance reads its parameters from CONFIG-DIR/conf/OCF/type/instance', (t) => {
  if (skipWithoutTools(t, RESOURCE_AGENTS)) return;
  const withFile = (body: string) => (dir: string) => {
    mkdirSync(join(dir, 'conf', 'OCF', 'Dummy'), { recursive: true });
    writeFileSync(join(dir, 'conf', 'OCF', 'Dummy', 'web'), body);
  };
  const r = load('OCF::Dummy::web', {}, withFile('# the web dummy\nOCF_RESKEY_state=/run/web.state\nexport fake="a b"\n'));
  assert.ok(r.ok, r.text);
  const a = r.specs[0]!.agent;
  assert.deepEqual(a.kind === 'ocf' && [a.ocf.params, a.ocf.instance, a.ocf.form], [[['state', '/run/web.state'], ['fake', 'a b']], 'web', 'instance-file']);
  assert.match(load('OCF::Dummy::web').text, /error: OCF::Dummy::web: instance file .*conf\/OCF\/Dummy\/web cannot be read \(ENOENT\)/);
  assert.match(load('OCF::Dummy::web', {}, withFile('state /run/x\n')).text, /conf\/OCF\/Dummy\/web:1: "state \/run\/x" is not name=value/);
  assert.match(load('OCF::Dummy::web', {}, withFile('stat=/run/x\n')).text, /did you mean "state"/);
});

test('check-config --validate runs each OCF agent\'s validate-all here and names a failure', async (t) => {
  if (skipWithoutTools(t, RESOURCE_AGENTS)) return;
  const fx = textFixture({ hacf: HACF, authkeys: AUTH, haresources: 'alpha ocf:heartbeat:Dummy::state=/run/hbt-validate.state\nbeta ocf:heartbeat:Dummy::state=/nonexistent/dir/x.state\n' });
  try {
    mkdirSync(join(fx.dir, 'resource.d'));
    const hbctl = fromRoot('dist', 'src', 'cli', 'hbctl.js');
    const plain = await run(process.execPath, [hbctl, 'check-config', '--config-dir', fx.dir, '--node', 'alpha']);
    assert.doesNotMatch(plain.stdout + plain.stderr, /validate-all/, 'only when asked');
    const r = await run(process.execPath, [hbctl, 'check-config', '--config-dir', fx.dir, '--node', 'alpha', '--validate']).then(
      () => assert.fail('a failing validate-all must exit 1'),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    assert.equal(r.code, 1);
    assert.match(r.stdout, /haresources:1: ok: ocf:heartbeat:Dummy::state=\/run\/hbt-validate\.state: validate-all returned 0 \(OCF_SUCCESS\)/);
    assert.match(r.stderr, /haresources:2: error: ocf:heartbeat:Dummy::state=\/nonexistent\/dir\/x\.state: validate-all returned 2 \(OCF_ERR_ARGS\): State file "\/nonexistent\/dir\/x\.state" is not writable/);
  } finally {
    fx.cleanup();
  }
});

/** Heartbeat 3.0.6's /etc/ha.d/resource.d (Debian's heartbeat 1:3.0.6), hto-mapfuncs (their shared library) left out. */
const HEARTBEAT_RESOURCE_D = [
  'AudibleAlarm', 'Delay', 'Filesystem', 'ICP', 'IPaddr', 'IPaddr2', 'IPsrcaddr', 'IPv6addr', 'LVM', 'LinuxSCSI', 'MailTo',
  'OCF', 'Raid1', 'SendArp', 'ServeRAID', 'WAS', 'WinPopup', 'Xinetd', 'apache', 'db2', 'ids', 'portblock',
];

test("every name of Heartbeat 3.0.6's resource.d is built in or mapped (and the installed package, where it is, lists no other)", () => {
  const known = new Set([...Object.keys(CLASSIC_NAMES), ...Object.keys(BUILTIN_IP_NAMES), 'OCF']);
  assert.deepEqual(HEARTBEAT_RESOURCE_D.filter((n) => !known.has(n)), []);
  assert.deepEqual([...known].filter((n) => !HEARTBEAT_RESOURCE_D.includes(n)), [], 'nothing invented');
  const installed = '/etc/ha.d/resource.d';
  if (existsSync(join(installed, 'hto-mapfuncs'))) {
    const names = readdirSync(installed).filter((n) => n !== 'hto-mapfuncs').sort();
    assert.deepEqual(names, [...HEARTBEAT_RESOURCE_D].sort(), `Debian's heartbeat package installed at ${installed}`);
  }
});
