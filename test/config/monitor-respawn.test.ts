// ha.cf's `monitor` (ours) and `respawn` (Heartbeat's): what they read into, and the errors
// a wrong line gets, each with file:line and what to write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type LoadResult } from '../../src/config/load.js';
import { monitorsOf } from '../../src/config/monitor.js';
import { classifyRespawn } from '../../src/config/respawn.js';
import { textFixture } from '../helpers/config-fixture.js';

const HACF = 'keepalive 1\ndeadtime 10\ninitdead 20\nbcast eth0\nnode alpha beta\nauto_failback on\n';
const AUTH = 'auth 1\n1 sha1 s3cret\n';
const RES = 'alpha IPaddr::10.0.0.10/24/eth0 websvc dbsvc\nbeta IPaddr::10.0.0.20/24/eth0\n';

function load(extra: string, haresources = RES): LoadResult {
  const fx = textFixture({ hacf: HACF + extra, authkeys: AUTH, haresources });
  try {
    mkdirSync(join(fx.dir, 'resource.d'));
    for (const name of ['websvc', 'dbsvc']) writeFileSync(join(fx.dir, 'resource.d', name), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    return loadConfig({ configDir: fx.dir, nodeName: 'alpha', roots: { initD: join(fx.dir, 'none') } });
  } finally {
    fx.cleanup();
  }
}

function errors(r: LoadResult): string[] {
  return r.ok ? [] : r.errors.map((e) => `${e.file.replace(/^.*\//, '')}:${e.line}: ${e.message}`);
}

test('no monitor line: nothing is monitored (Heartbeat\'s behaviour)', () => {
  const r = load('');
  assert.ok(r.ok, errors(r).join('\n'));
  assert.deepEqual(r.config.ha.ext.monitors, []);
  assert.deepEqual(monitorsOf(r.config.groups[0]!, []), []);
});

test('monitor RESOURCE with settings; group:RESOURCE and all; a later line replaces an earlier one', () => {
  const r = load('monitor all interval=30s\nmonitor group:websvc failures=2\nmonitor websvc interval=500ms failures=1 restarts=0 window=5min keepout=1h\n');
  assert.ok(r.ok, errors(r).join('\n'));
  const [a, b] = r.config.groups;
  const ma = monitorsOf(a!, r.config.ha.ext.monitors);
  assert.deepEqual(ma.map((m) => [m.resource, m.intervalMs, m.failures, m.restarts, m.windowMs, m.keepOutMs]), [
    [0, 10_000, 2, 3, 600_000, null],
    [1, 500, 1, 0, 300_000, 3_600_000],
    [2, 10_000, 2, 3, 600_000, null],
  ]);
  assert.deepEqual(monitorsOf(b!, r.config.ha.ext.monitors).map((m) => [m.resource, m.intervalMs]), [[0, 30_000]]);
});

test('a monitor line changes the ha.cf digest (a reload applies it); no monitor line keeps the digest it had', () => {
  const plain = load('');
  const again = load('');
  const mon = load('monitor websvc\n');
  assert.ok(plain.ok && again.ok && mon.ok);
  assert.equal(plain.config.partDigests.hacf, again.config.partDigests.hacf);
  assert.notEqual(plain.config.partDigests.hacf, mon.config.partDigests.hacf);
});

test('wrong monitor lines: an error at the ha.cf line that says what to write', () => {
  const cases: [string, RegExp][] = [
    ['monitor interval=5s', /ha\.cf:7: monitor needs a resource/],
    ['monitor websvc interval=soon', /ha\.cf:7: monitor: interval="soon" must be a time/],
    ['monitor websvc failures=0', /ha\.cf:7: monitor: failures="0" must be a whole number of at least 1/],
    ['monitor websvc keepout=never', /ha\.cf:7: monitor: keepout="never" must be a time such as 30min, or forever/],
    ['monitor websvc colour=red', /ha\.cf:7: monitor: unknown setting "colour"/],
    ['monitor websvx', /ha\.cf:7: monitor: "websvx" is not a resource of haresources/],
    ['monitor IPaddr', /ha\.cf:7: monitor: "IPaddr" is not a resource of haresources — .*did you mean "IPaddr::10\.0\.0\.10\/24\/eth0"/],
  ];
  for (const [line, re] of cases) {
    const errs = errors(load(`${line}\n`));
    assert.ok(errs.some((e) => re.test(e)), `${line}: ${errs.join('; ')}`);
  }
});

test('respawn lines are sorted in one place: programs, ipfail, Heartbeat API clients', () => {
  assert.deepEqual(classifyRespawn('nobody', '/usr/local/bin/agent -v --x=1'), { kind: 'program', user: 'nobody', argv: ['/usr/local/bin/agent', '-v', '--x=1'] });
  assert.equal(classifyRespawn('hacluster', '/usr/lib/heartbeat/ipfail').kind, 'ipfail');
  assert.equal(classifyRespawn('root', '/usr/lib/heartbeat/mgmtd -v').kind, 'api-client');
  assert.equal(classifyRespawn('hacluster', '/usr/lib64/heartbeat/crmd').kind, 'api-client');
});

test('respawn of a program: read as user and argv, no warning; apiauth for it accepted silently, for others warned', () => {
  const r = load('respawn nobody /usr/local/bin/agent -v\napiauth agent uid=nobody\napiauth other uid=root\n');
  assert.ok(r.ok, errors(r).join('\n'));
  assert.deepEqual(r.config.ha.respawn.map((x) => [x.kind, x.user, x.argv]), [['program', 'nobody', ['/usr/local/bin/agent', '-v']]]);
  const warned = r.warnings.map((w) => `${w.line}: ${w.message}`);
  assert.ok(!warned.some((w) => /"respawn" is understood but not acted on/.test(w)), warned.join('\n'));
  assert.ok(warned.some((w) => /^9: "apiauth" is understood but not acted on/.test(w)), warned.join('\n'));
});

test('respawn of a relative program is an error; of ipfail or mgmtd a warning (not run)', () => {
  assert.ok(errors(load('respawn nobody agent -v\n')).some((e) => /ha\.cf:7: respawn: "agent" is not an absolute path/.test(e)));
  const r = load('respawn hacluster /usr/lib/heartbeat/ipfail\n');
  assert.ok(r.ok);
  assert.equal(r.config.ha.respawn[0]?.kind, 'ipfail');
  assert.ok(r.warnings.some((w) => /"respawn" is understood but not acted on/.test(w.message)));
});
