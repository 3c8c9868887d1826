// Every configuration example of the five seeds parses to what the seed means.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { ClusterConfig, LoadResult } from '../../src/config/index.js';
import { seedFixture } from '../helpers/config-fixture.js';

function load(name: string, node: string, variants: { hacf?: string; haresources?: string } = {}): { cfg: ClusterConfig; result: LoadResult } {
  const fx = seedFixture(name, variants);
  try {
    const result = loadConfig({ configDir: fx.dir, roots: { initD: join(fx.dir, 'init.d') }, nodeName: node });
    if (!result.ok) assert.fail(`expected ${name} to load, got:\n${result.errors.map((e) => `${e.file}:${e.line}: ${e.message}`).join('\n')}`);
    return { cfg: result.config, result };
  } finally {
    fx.cleanup();
  }
}

const warned = (r: LoadResult, text: RegExp) => r.warnings.some((w) => text.test(w.message));

test('DigitalOcean floating IP tutorial: ucast pair, sha1 with "auth1", floatip init script, Heartbeat defaults', () => {
  const { cfg } = load('do-floatip', 'primary');
  assert.deepEqual(cfg.ha.nodes, ['primary', 'secondary']);
  assert.deepEqual(
    cfg.ha.media.map((m) => (m.kind === 'ucast' ? [m.kind, m.iface, m.address] : [m.kind])),
    [
      ['ucast', 'eth0', '104.236.6.11'],
      ['ucast', 'eth0', '104.236.6.22'],
    ],
  );
  assert.equal(cfg.ha.keepaliveMs, 1000);
  assert.equal(cfg.ha.deadtimeMs, 30000);
  assert.equal(cfg.ha.warntimeMs, 15000);
  assert.equal(cfg.ha.initdeadMs, 30000);
  assert.equal(cfg.ha.udpport, 694);
  assert.equal(cfg.ha.autoFailback, 'legacy');
  assert.deepEqual(cfg.auth.active, { index: 1, method: 'sha1', secret: 'd1e6557e2fcb30ff8d4d3ae65b50345fa46a2faa' });
  assert.equal(cfg.groups.length, 1);
  const g = cfg.groups[0]!;
  assert.equal(g.preferredNode, 'primary');
  assert.deepEqual(g.resources.map((r) => [r.name, r.args, r.agent.kind]), [['floatip', [], 'init.d']]);
});

test('Arch wiki: bcast, auto_failback on, IPaddr with the IP/gateway form, three init scripts in order', () => {
  const { cfg, result } = load('arch-wiki', 'node1');
  assert.deepEqual(cfg.ha.nodes, ['node1', 'node2']);
  assert.deepEqual(cfg.ha.media.map((m) => [m.kind, 'iface' in m ? m.iface : '']), [['bcast', 'eth0']]);
  assert.equal(cfg.ha.deadtimeMs, 5000);
  assert.equal(cfg.ha.warntimeMs, 10000);
  assert.equal(cfg.ha.initdeadMs, 15000);
  assert.equal(cfg.ha.keepaliveMs, 1000);
  assert.equal(cfg.ha.autoFailback, 'on');
  assert.equal(cfg.ha.useLogd, true);
  assert.ok(warned(result, /warntime .* is not below deadtime/), 'warntime 10 > deadtime 5 is pointed out');
  // use_logd is acted on now: hbd logs where the logging daemon would have (syslog, daemon).
  assert.ok(warned(result, /use_logd yes: hbd has no logging daemon, so it logs to syslog itself, facility daemon/));
  const g = cfg.groups[0]!;
  assert.equal(g.preferredNode, 'node1');
  assert.deepEqual(g.resources.map((r) => [r.name, r.args]), [
    ['IPaddr', ['100.200.230.1/100.200.230.6']],
    ['named', []],
    ['httpd', []],
    ['mysqld', []],
  ]);
  assert.deepEqual(g.resources[0]!.agent, { kind: 'builtin', id: 'IPaddr' });
});

test('Arch wiki: two virtual IPs in one group keep their order', () => {
  const { cfg } = load('arch-wiki', 'node1', { haresources: 'haresources.two-vips' });
  assert.deepEqual(cfg.groups[0]!.resources.map((r) => r.raw), [
    'IPaddr::100.200.230.1/100.200.230.6',
    'IPaddr::100.200.230.0/100.200.230.6',
    'named',
    'httpd',
    'mysqld',
  ]);
});

test('Configuring heartbeat: ucast by host name, several nodes on one line, resource.d script', () => {
  const { cfg } = load('configuring-heartbeat', 'server1');
  assert.deepEqual(cfg.ha.nodes, ['server1', 'server2']);
  assert.deepEqual(cfg.ha.media.map((m) => (m.kind === 'ucast' ? m.address : '')), ['server1', 'server2']);
  assert.equal(cfg.ha.warntimeMs, 3000);
  assert.equal(cfg.ha.deadtimeMs, 5000);
  assert.equal(cfg.ha.initdeadMs, 10000);
  assert.equal(cfg.ha.keepaliveMs, 1000);
  assert.equal(cfg.ha.autojoin, 'none');
  assert.equal(cfg.ha.autoFailback, 'on');
  assert.equal(cfg.ha.logfile, '/var/log/ha-log');
  assert.equal(cfg.ha.debugfile, '/var/log/ha-debug');
  assert.deepEqual(cfg.auth.active, { index: 1, method: 'sha1', secret: 'PutYourSuperSecretKeyHere' });
  const [vip, script] = cfg.groups[0]!.resources;
  assert.deepEqual([vip!.name, vip!.args], ['IPaddr', ['192.168.1.100']]);
  assert.equal(script!.name, 'failback.sh');
  assert.equal(script!.agent.kind, 'resource.d');
});

test('Heartbeat V1 cluster: timers, auto_failback off, crm/apiauth/respawn understood with warnings, md5 key 1 and crc key 2', () => {
  const { cfg, result } = load('v1-cluster', 'twin1');
  assert.deepEqual(cfg.ha.nodes, ['twin1', 'twin2']);
  assert.equal(cfg.ha.keepaliveMs, 2000);
  assert.equal(cfg.ha.deadtimeMs, 10000);
  assert.equal(cfg.ha.warntimeMs, 6000);
  assert.equal(cfg.ha.initdeadMs, 60000);
  assert.equal(cfg.ha.logfacility, 'local0');
  assert.equal(cfg.ha.autoFailback, 'off');
  assert.equal(cfg.ha.crm, 'on');
  assert.deepEqual(cfg.ha.apiauth.map((a) => [a.client, a.uid]), [['mgmtd', ['root']]]);
  assert.deepEqual(cfg.ha.respawn.map((r) => [r.user, r.command]), [['root', '/usr/lib/heartbeat/mgmtd -v']]);
  for (const d of ['crm', 'apiauth', 'respawn']) assert.ok(warned(result, new RegExp(`"${d}" is understood but not acted on`)), d);
  // auth 2 selects crc; key 1 stays valid for verifying. The quoted md5 key keeps only its
  // first word, as Heartbeat's sscanf("%d%s%s") does, so both sides sign alike.
  assert.deepEqual(cfg.auth.active, { index: 2, method: 'crc', secret: '' });
  assert.deepEqual(cfg.auth.keys.find((k) => k.index === 1), { index: 1, method: 'md5', secret: '"cluster' });
  assert.ok(warned(result, /only the first word/));
  assert.deepEqual(cfg.groups[0]!.resources.map((r) => [r.name, r.args]), [['IPaddr', ['192.168.252.205']]]);
});

test('Heartbeat V1 cluster variants: two VIPs, a VIP and ssh, serial, ucast and mcast media', () => {
  assert.deepEqual(load('v1-cluster', 'twin1', { haresources: 'haresources.two-vips' }).cfg.groups[0]!.resources.map((r) => r.args[0]), [
    '192.168.252.205',
    '192.168.252.206',
  ]);
  assert.deepEqual(load('v1-cluster', 'twin1', { haresources: 'haresources.ssh' }).cfg.groups[0]!.resources.map((r) => r.name), ['IPaddr', 'ssh']);
  const serial = load('v1-cluster', 'twin1', { hacf: 'ha.cf.serial' }).cfg.ha;
  assert.equal(serial.baud, 19200);
  assert.deepEqual(serial.media.map((m) => [m.kind, m.kind === 'serial' ? m.device : m.kind === 'bcast' ? m.iface : '']), [
    ['bcast', 'eth0'],
    ['serial', '/dev/ttyS0'],
  ]);
  const ucast = load('v1-cluster', 'twin1', { hacf: 'ha.cf.ucast' }).cfg.ha.media;
  assert.deepEqual(ucast, [{ kind: 'ucast', iface: 'eth1', address: '192.168.252.201', line: 1 }]);
  const mcast = load('v1-cluster', 'twin1', { hacf: 'ha.cf.mcast' }).cfg.ha.media;
  assert.deepEqual(mcast, [{ kind: 'mcast', iface: 'eth1', group: '225.0.0.1', port: 694, ttl: 1, loop: false, line: 1 }]);
});

test('Configuring High Availability Linux: bcast, md5, legacy auto_failback, apache2 init script', () => {
  const { cfg, result } = load('ha-linux', 'prime');
  assert.deepEqual(cfg.ha.nodes, ['calc', 'prime']);
  assert.equal(cfg.ha.keepaliveMs, 2000);
  assert.equal(cfg.ha.deadtimeMs, 10000);
  assert.equal(cfg.ha.warntimeMs, 5000);
  assert.equal(cfg.ha.initdeadMs, 20000);
  assert.equal(cfg.ha.autoFailback, 'legacy');
  assert.ok(warned(result, /auto_failback is "legacy"/));
  assert.deepEqual(cfg.auth.active, { index: 1, method: 'md5', secret: '86e07a217fcd61fb981872ec57b68845' });
  assert.deepEqual(cfg.groups.map((g) => [g.preferredNode, g.resources.map((r) => r.name)]), [['prime', ['apache2']]]);
});
