// Hostile and broken inputs: each gets its own clear error with file:line, never a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chownSync, renameSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { formatIssue } from '../../src/config/issues.js';
import type { ConfigIssue } from '../../src/config/types.js';
import { textFixture } from '../helpers/config-fixture.js';

const GOOD_HACF = 'keepalive 1\ndeadtime 10\ninitdead 20\nudpport 694\nbcast eth0\nnode alpha beta\nauto_failback on\n';
const GOOD_AUTH = 'auth 1\n1 sha1 s3cret\n';
const GOOD_RES = 'alpha IPaddr::10.0.0.10/24/eth0\n';

function errorsFor(files: Parameters<typeof textFixture>[0]): ConfigIssue[] {
  const fx = textFixture({ hacf: GOOD_HACF, authkeys: GOOD_AUTH, haresources: GOOD_RES, ...files });
  try {
    const r = loadConfig({ configDir: fx.dir, nodeName: 'alpha', roots: { initD: join(fx.dir, 'none') } });
    assert.equal(r.ok, false, 'expected the configuration to be refused');
    return r.ok ? [] : r.errors;
  } finally {
    fx.cleanup();
  }
}

function expectError(files: Parameters<typeof textFixture>[0], file: string, line: number | null, text: RegExp): void {
  const errors = errorsFor(files);
  const hit = errors.find((e) => e.file.endsWith(file) && (line === null || e.line === line) && text.test(e.message));
  assert.ok(hit, `no error ${file}:${line ?? '*'} ${text}; got:\n${errors.map((e) => `${e.file}:${e.line}: ${e.message}`).join('\n')}`);
}

test('the good baseline loads', () => {
  const fx = textFixture({ hacf: GOOD_HACF, authkeys: GOOD_AUTH, haresources: GOOD_RES });
  try {
    const r = loadConfig({ configDir: fx.dir, nodeName: 'alpha' });
    assert.ok(r.ok, JSON.stringify(r));
  } finally {
    fx.cleanup();
  }
});

test('empty files', () => {
  expectError({ hacf: '' }, 'ha.cf', 0, /is empty/);
  expectError({ authkeys: '' }, 'authkeys', 0, /is empty/);
});

test('an empty or comment-only haresources is valid: membership only, said in an info line', () => {
  for (const text of ['', '\n\n', '# no resources here yet\n   \n#alpha IPaddr::10.0.0.10\n']) {
    const fx = textFixture({ hacf: GOOD_HACF, authkeys: GOOD_AUTH, haresources: text });
    try {
      const r = loadConfig({ configDir: fx.dir, nodeName: 'alpha' });
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepEqual(r.config.groups, []);
      assert.equal(r.notes.length, 1, JSON.stringify(r.notes));
      assert.match(formatIssue(r.notes[0]!), /haresources: info: lists no resource groups: membership only/);
    } finally {
      fx.cleanup();
    }
  }
  // A missing haresources is still an error: the file must be there, even if empty.
  const fx = textFixture({ hacf: GOOD_HACF, authkeys: GOOD_AUTH });
  try {
    const r = loadConfig({ configDir: fx.dir, nodeName: 'alpha' });
    assert.equal(r.ok, false);
  } finally {
    fx.cleanup();
  }
});

test('a node that is the preferred node of no group gets an info line, not an error', () => {
  const fx = textFixture({ hacf: GOOD_HACF, authkeys: GOOD_AUTH, haresources: GOOD_RES });
  try {
    const r = loadConfig({ configDir: fx.dir, nodeName: 'beta' });
    assert.ok(r.ok, JSON.stringify(r));
    assert.match(r.notes.map(formatIssue).join('\n'), /info: beta is the preferred node of no resource group/);
  } finally {
    fx.cleanup();
  }
});

test('binary garbage', () => {
  const garbage = Buffer.concat([randomBytes(2000), Buffer.from([0])]);
  expectError({ hacf: garbage }, 'ha.cf', 0, /NUL bytes/);
  expectError({ authkeys: Buffer.from([0xff, 0xfe, 0x41, 0x0a]) }, 'authkeys', 1, /not valid UTF-8/);
});

test('a 1 MB line', () => {
  expectError({ hacf: `${GOOD_HACF}${'x'.repeat(1024 * 1024 - 200)}\n` }, 'ha.cf', 8, /characters long/);
});

test('a file over 1 MiB', () => {
  expectError({ haresources: `${GOOD_RES}${'# padding\n'.repeat(110_000)}` }, 'haresources', 0, /bytes/);
});

test('unknown directive, with a did-you-mean hint', () => {
  expectError({ hacf: `${GOOD_HACF}keepalvie 2\n` }, 'ha.cf', 8, /unknown directive "keepalvie" — did you mean "keepalive"/);
  expectError({ hacf: `${GOOD_HACF}frobnicate yes\n` }, 'ha.cf', 8, /unknown directive "frobnicate"/);
});

test('deadtime 0 and nonsense times', () => {
  expectError({ hacf: GOOD_HACF.replace('deadtime 10', 'deadtime 0') }, 'ha.cf', 2, /deadtime must be greater than 0/);
  expectError({ hacf: GOOD_HACF.replace('deadtime 10', 'deadtime soon') }, 'ha.cf', 2, /is not a time/);
  expectError({ hacf: GOOD_HACF.replace('deadtime 10', 'deadtime 2') }, 'ha.cf', 0, /more than twice keepalive/);
  expectError({ hacf: GOOD_HACF.replace('initdead 20', 'initdead 5') }, 'ha.cf', 0, /initdead .* smaller than deadtime/);
});

test('bad mcast lines', () => {
  expectError({ hacf: `${GOOD_HACF}mcast eth0 225.0.0.1 694 1\n` }, 'ha.cf', 8, /mcast takes 5 values/);
  expectError({ hacf: `${GOOD_HACF}mcast eth0 10.0.0.1 694 1 0\n` }, 'ha.cf', 8, /not a multicast group/);
  expectError({ hacf: `${GOOD_HACF}mcast eth0 225.0.0.1 99999 1 0\n` }, 'ha.cf', 8, /port "99999"/);
  expectError({ hacf: `${GOOD_HACF}mcast eth0 225.0.0.1 694 0 0\n` }, 'ha.cf', 8, /ttl "0" must be 1..255/);
  expectError({ hacf: `${GOOD_HACF}mcast eth0 225.0.0.1 694 1 2\n` }, 'ha.cf', 8, /loop "2" must be 0 or 1/);
});

test('ucast with no address', () => {
  expectError({ hacf: `${GOOD_HACF}ucast eth0\n` }, 'ha.cf', 8, /ucast takes an interface and one peer address/);
});

test('no media, no nodes', () => {
  expectError({ hacf: 'node alpha\n' }, 'ha.cf', 0, /no heartbeat media/);
  expectError({ hacf: 'bcast eth0\n' }, 'ha.cf', 0, /no nodes defined/);
});

test('auth 3 when key 3 is missing', () => {
  expectError({ authkeys: 'auth 3\n1 sha1 abc\n2 crc\n' }, 'authkeys', 1, /auth 3 picks key 3, but no key 3 is defined/);
});

test('an unknown auth method, a missing key, a key on crc, no auth line', () => {
  expectError({ authkeys: 'auth 1\n1 rot13 abc\n' }, 'authkeys', 2, /unknown authentication method "rot13"/);
  expectError({ authkeys: 'auth 1\n1 sha1\n' }, 'authkeys', 2, /sha1 requires a key/);
  expectError({ authkeys: 'auth 1\n1 crc abc\n' }, 'authkeys', 2, /crc does not use a key/);
  expectError({ authkeys: '1 sha1 abc\n' }, 'authkeys', 0, /missing "auth N"/);
});

test('a world-readable authkeys names the chmod that fixes it', () => {
  expectError({ authMode: 0o644 }, 'authkeys', 0, /chmod 600 .*authkeys/);
  expectError({ authMode: 0o640 }, 'authkeys', 0, /chmod 600/);
});

/** The baseline config dir, with `change` applied to it before loading. */
function loadWith(change: (dir: string) => void): ReturnType<typeof loadConfig> {
  const fx = textFixture({ hacf: GOOD_HACF, authkeys: GOOD_AUTH, haresources: GOOD_RES });
  try {
    change(fx.dir);
    return loadConfig({ configDir: fx.dir, nodeName: 'alpha' });
  } finally {
    fx.cleanup();
  }
}

test('an authkeys that is a symlink is refused, even to a mode-600 file: whoever can change the link can swap the keys', () => {
  let path = '';
  const r = loadWith((dir) => {
    path = join(dir, 'authkeys');
    renameSync(path, join(dir, 'real-authkeys')); // still mode 600, owned by us
    symlinkSync(join(dir, 'real-authkeys'), path);
  });
  assert.equal(r.ok, false, 'a symlinked authkeys was accepted');
  const e = r.ok ? undefined : r.errors.find((x) => x.file === path);
  assert.ok(e, JSON.stringify(r));
  assert.match(e.message, /symbolic link/);
  assert.match(e.message, /replace the link with the file itself/);
  assert.match(e.message, /chmod 600/);
});

test('an authkeys owned by another user is refused, with the chown that fixes it', { skip: process.getuid?.() !== 0 ? 'needs root to chown a file to another user' : false }, () => {
  let path = '';
  const r = loadWith((dir) => {
    path = join(dir, 'authkeys');
    chownSync(path, 4242, 4242);
  });
  assert.equal(r.ok, false, 'an authkeys owned by uid 4242 was accepted');
  const e = r.ok ? undefined : r.errors.find((x) => x.file === path);
  assert.ok(e, JSON.stringify(r));
  assert.match(e.message, /owned by uid 4242/);
  assert.match(e.message, /chown root/);
});

test('a haresources line naming a node that is not in ha.cf', () => {
  expectError({ haresources: 'gamma IPaddr::10.0.0.10\n' }, 'haresources', 1, /preferred node "gamma" is not a node of ha.cf \(alpha, beta\)/);
});

test('resources that are missing, not executable, or malformed', () => {
  expectError({ haresources: 'alpha nosuchservice\n' }, 'haresources', 1, /resource "nosuchservice" not found/);
  expectError({ haresources: 'alpha IPaddr::\n' }, 'haresources', 1, /IPaddr needs the virtual IP/);
  expectError({ haresources: 'alpha IPaddr::10.0.0.300\n' }, 'haresources', 1, /not an IPv4 address/);
  expectError({ haresources: 'alpha IPaddr::10.0.0.3/99\n' }, 'haresources', 1, /prefix length/);
  expectError({ haresources: 'alpha IPaddr::10.0.0.3 \\\n  IPaddr::10.0.0.3\n' }, 'haresources', 1, /already in the group/);
});

test('a missing directory or file says which', () => {
  const r = loadConfig({ configDir: '/nonexistent/ha.d', nodeName: 'alpha' });
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.ok(r.errors.some((e) => e.file === '/nonexistent/ha.d/ha.cf' && /does not exist/.test(e.message)));
    assert.ok(r.errors.some((e) => e.file === '/nonexistent/ha.d/authkeys'));
  }
});

test('http_allowed_hosts: names kept in one spelling; a port, a wildcard or a non-name is an error on its line', () => {
  const fx = textFixture({ hacf: `${GOOD_HACF}http_allowed_hosts HBD.Example.com. monitor 10.0.0.5\nhttp_allowed_hosts [0:0::1] hbd.example.com\n`, authkeys: GOOD_AUTH, haresources: GOOD_RES });
  try {
    const r = loadConfig({ configDir: fx.dir, nodeName: 'alpha' });
    assert.ok(r.ok, JSON.stringify(r));
    if (r.ok) assert.deepEqual(r.config.ha.ext.httpAllowedHosts, ['hbd.example.com', 'monitor', '10.0.0.5', '::1']);
  } finally {
    fx.cleanup();
  }
  const line = GOOD_HACF.split('\n').length;
  expectError({ hacf: `${GOOD_HACF}http_allowed_hosts\n` }, 'ha.cf', line, /needs at least one host name/);
  expectError({ hacf: `${GOOD_HACF}http_allowed_hosts hbd.example.com:8694\n` }, 'ha.cf', line, /"hbd\.example\.com:8694" has a port — write the name alone/);
  expectError({ hacf: `${GOOD_HACF}http_allowed_hosts [::1]:8694\n` }, 'ha.cf', line, /has a port/);
  expectError({ hacf: `${GOOD_HACF}http_allowed_hosts *.example.com\n` }, 'ha.cf', line, /wildcards are not accepted/);
  for (const bad of ['bad_name', 'a..b', '127.1', 'http://x', '-x.example', `${'a'.repeat(64)}.example`]) {
    expectError({ hacf: `${GOOD_HACF}http_allowed_hosts ok.example ${bad}\n` }, 'ha.cf', line, new RegExp(`"${bad.replace(/[.*]/g, '\\$&')}" is neither a host name nor an IP address`));
  }
});

test('random ha.cf/authkeys/haresources never throw (seeded)', () => {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const words = ['node', 'bcast', 'ucast', 'mcast', 'keepalive', 'deadtime', 'auth', '1', 'sha1', 'IPaddr::', '::', '\\', '#', 'eth0', '10.0.0.1', '-5', '1e309', 'ms', '"', '\t', 'alpha'];
  for (let i = 0; i < 300; i++) {
    const text = Array.from({ length: 1 + Math.floor(rnd() * 40) }, () => (rnd() < 0.15 ? '\n' : words[Math.floor(rnd() * words.length)]) + ' ').join('');
    const fx = textFixture({ hacf: text, authkeys: text, haresources: text });
    try {
      const r = loadConfig({ configDir: fx.dir, nodeName: 'alpha' });
      assert.equal(typeof r.ok, 'boolean');
    } finally {
      fx.cleanup();
    }
  }
});

test('a crc key listed beside a keyed active method is warned about, with its line', () => {
  const fx = textFixture({ hacf: GOOD_HACF, authkeys: 'auth 1\n1 sha1 s3cret\n2 crc\n', haresources: GOOD_RES });
  try {
    const r = loadConfig({ configDir: fx.dir, nodeName: 'alpha' });
    assert.ok(r.ok, JSON.stringify(r));
    const w = r.warnings.find((x) => x.file.endsWith('authkeys') && x.line === 3);
    assert.ok(w, `no warning on authkeys:3; got ${JSON.stringify(r.warnings)}`);
    assert.match(w.message, /key 2 \(crc\) is ignored: .*anyone could forge packets/);
  } finally {
    fx.cleanup();
  }
});
