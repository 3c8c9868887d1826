import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseDuration } from '../../src/config/duration.js';
import { parseVip } from '../../src/config/vip.js';
import { loadConfig } from '../../src/config/load.js';
import { textFixture } from '../helpers/config-fixture.js';

test('times: seconds by default, fractions, ms/s/us suffixes', () => {
  assert.equal(parseDuration('2'), 2000);
  assert.equal(parseDuration('1.5'), 1500);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('3s'), 3000);
  assert.equal(parseDuration('250000us'), 250);
  for (const bad of ['', 'ms', '-1', '1,5', '2 s', '1e3', 'ten']) assert.equal(parseDuration(bad), null, bad);
});

test('IPaddr arguments: ip, /cidr, /netmask, /iface, /broadcast and the IP/gateway form', () => {
  assert.deepEqual(parseVip('10.0.0.5'), { ok: true, vip: { ip: '10.0.0.5', family: 4, cidr: null, iface: null, broadcast: null, gateway: null } });
  assert.deepEqual(parseVip('10.0.0.5/24/eth0/10.0.0.255'), {
    ok: true,
    vip: { ip: '10.0.0.5', family: 4, cidr: 24, iface: 'eth0', broadcast: '10.0.0.255', gateway: null },
  });
  assert.deepEqual(parseVip('10.0.0.5/255.255.254.0'), { ok: true, vip: { ip: '10.0.0.5', family: 4, cidr: 23, iface: null, broadcast: null, gateway: null } });
  assert.deepEqual(parseVip('100.200.230.1/100.200.230.6'), {
    ok: true,
    vip: { ip: '100.200.230.1', family: 4, cidr: null, iface: null, broadcast: null, gateway: '100.200.230.6' },
  });
  assert.equal(parseVip('10.0.0.5/33').ok, false);
  assert.equal(parseVip('10.0.0.5/24/eth0/x').ok, false);
  assert.equal(parseVip('10.0.0.5/24/eth0/10.0.0.255/extra').ok, false);
  assert.equal(parseVip('fe80::1').ok, false);
});

test('a bare address in haresources means IPaddr::address, as in Heartbeat', () => {
  const fx = textFixture({ hacf: 'bcast eth0\nnode a b\ndeadtime 10\nauto_failback on\n', authkeys: 'auth 1\n1 sha1 k\n', haresources: 'a 10.1.1.1/24 \\\n   10.1.1.2\n' });
  try {
    const r = loadConfig({ configDir: fx.dir, nodeName: 'a' });
    assert.ok(r.ok);
    if (r.ok) assert.deepEqual(r.config.groups[0]!.resources.map((x) => [x.name, x.args[0]]), [['IPaddr', '10.1.1.1/24'], ['IPaddr', '10.1.1.2']]);
  } finally {
    fx.cleanup();
  }
});

test('the digest ignores comments, spacing and node order, and changes with what matters', () => {
  const base = { authkeys: 'auth 1\n1 sha1 k\n', haresources: 'a IPaddr::10.0.0.1\n' };
  const digestOf = (files: { hacf: string; authkeys?: string; haresources?: string }) => {
    const fx = textFixture({ ...base, ...files });
    try {
      const r = loadConfig({ configDir: fx.dir, nodeName: 'a', roots: { initD: join(fx.dir, 'x') } });
      assert.ok(r.ok, JSON.stringify(r));
      return r.ok ? r.config : assert.fail();
    } finally {
      fx.cleanup();
    }
  };
  const a = digestOf({ hacf: 'bcast eth0\nnode a b\ndeadtime 10\nauto_failback on\n' });
  const b = digestOf({ hacf: '# a comment\n  bcast   eth0   # trailing\n\nnode b\nnode a\ndeadtime 10000ms\nauto_failback on\n' });
  assert.equal(a.digest, b.digest);
  const c = digestOf({ hacf: 'bcast eth0\nnode a b\ndeadtime 11\nauto_failback on\n' });
  assert.notEqual(a.digest, c.digest);
  assert.notEqual(a.partDigests.hacf, c.partDigests.hacf);
  assert.equal(a.partDigests.haresources, c.partDigests.haresources);
  const d = digestOf({ hacf: 'bcast eth0\nnode a b\ndeadtime 10\nauto_failback on\n', haresources: 'a IPaddr::10.0.0.2\n' });
  assert.notEqual(a.partDigests.haresources, d.partDigests.haresources);
  assert.equal(a.partDigests.hacf, d.partDigests.hacf);
  const e = digestOf({ hacf: 'bcast eth0\nnode a b\ndeadtime 10\nauto_failback on\n', authkeys: 'auth 1\n1 sha1 other\n' });
  assert.notEqual(a.partDigests.authkeys, e.partDigests.authkeys);
  assert.ok(!JSON.stringify(e).includes('"digest":"other"'));
});
