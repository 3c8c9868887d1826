// hbctl check-config as a user runs it: a real child process, exit codes, output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { fromRoot } from '../helpers/repo.js';
import { seedFixture, textFixture } from '../helpers/config-fixture.js';

const run = promisify(execFile);
const HBCTL = fromRoot('dist', 'src', 'cli', 'hbctl.js');

async function hbctl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [HBCTL, ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('check-config prints a summary of a seed config and exits 0', async () => {
  const fx = seedFixture('arch-wiki');
  try {
    const r = await hbctl(['check-config', '--config-dir', fx.dir, '--init-dir', join(fx.dir, 'init.d'), '--node', 'node1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Nodes: +node1, node2/);
    assert.match(r.stdout, /bcast +eth0/);
    assert.match(r.stdout, /keepalive 1s, warntime 10s, deadtime 5s, initdead 15s/);
    assert.match(r.stdout, /auto_failback: +on/);
    assert.match(r.stdout, /1\. IPaddr args \[100\.200\.230\.1\/100\.200\.230\.6\]/);
    assert.match(r.stdout, /4\. mysqld/);
    assert.match(r.stdout, /Config digest: +[0-9a-f]{64}/);
    assert.match(r.stderr, /warning: .*use_logd/);
  } finally {
    fx.cleanup();
  }
});

test('check-config prints every error with file:line and exits 1', async () => {
  const fx = textFixture({ hacf: 'bcast eth0\nnode a\nkeepalvie 2\nmcast eth0 1.2.3.4 694 1 0\n', authkeys: 'auth 2\n1 sha1 x\n', haresources: 'z foo\n', authMode: 0o644 });
  try {
    const r = await hbctl(['check-config', '--config-dir', fx.dir, '--node', 'a']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ha\.cf:3: error: unknown directive "keepalvie"/);
    assert.match(r.stderr, /ha\.cf:4: error: mcast: "1\.2\.3\.4" is not a multicast group/);
    assert.match(r.stderr, /authkeys: error: has mode 0644: group or others can read or change it — run "chmod 600 .*authkeys"/);
    assert.match(r.stderr, /authkeys:1: error: auth 2 picks key 2/);
    assert.match(r.stderr, /haresources:1: error: preferred node "z"/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  } finally {
    fx.cleanup();
  }
});

test('bad CLI arguments give usage and exit 2, not a stack trace', async () => {
  const r = await hbctl(['check-config', '--frob']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Unknown option '--frob'/);
  const u = await hbctl(['nonsense']);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /unknown command "nonsense"/);
});

test('check-config never prints the authkeys secrets, in JSON or text, valid or not', async () => {
  const SIGN = 'sign-key-9d2f61b0';
  const OLD = 'old-key-4be7';
  const QUOTED = 'quoted-key-77aa';
  const hacf = 'keepalive 1\ndeadtime 10\nbcast eth0\nnode alpha beta\n';
  // The quoted key makes hbd warn that only its first word is used: the warning must not quote it.
  const authkeys = `auth 1\n1 sha1 ${SIGN}\n2 md5 ${OLD}\n3 sha1 "${QUOTED} and more"\n4 crc\n`;
  const good = textFixture({ hacf, authkeys, haresources: 'alpha IPaddr::10.0.0.10/24/eth0\n' });
  const bad = textFixture({ hacf: `${hacf}frobnicate 1\n`, authkeys, haresources: 'alpha IPaddr::10.0.0.10/24/eth0\n' });
  try {
    const json = await hbctl(['check-config', '--config-dir', good.dir, '--node', 'alpha', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as { config: { auth: { active: { secret: string }; keys: { index: number; method: string; secret: string }[] } } };
    assert.equal(parsed.config.auth.active.secret, `(redacted, ${SIGN.length} chars)`);
    assert.deepEqual(
      parsed.config.auth.keys.map((k) => [k.index, k.method, k.secret]),
      [
        [1, 'sha1', `(redacted, ${SIGN.length} chars)`],
        [2, 'md5', `(redacted, ${OLD.length} chars)`],
        [3, 'sha1', `(redacted, ${`"${QUOTED}`.length} chars)`],
        [4, 'crc', ''],
      ],
    );
    const text = await hbctl(['check-config', '--config-dir', good.dir, '--node', 'alpha']);
    const badJson = await hbctl(['check-config', '--config-dir', bad.dir, '--node', 'alpha', '--json']);
    const badText = await hbctl(['check-config', '--config-dir', bad.dir, '--node', 'alpha']);
    assert.equal(badJson.code, 1);
    assert.match(badJson.stdout, /frobnicate/);
    for (const [what, out] of [['json', json], ['text', text], ['json, invalid', badJson], ['text, invalid', badText]] as const) {
      for (const secret of [SIGN, OLD, QUOTED]) {
        assert.ok(!out.stdout.includes(secret) && !out.stderr.includes(secret), `${what}: the secret ${secret} was printed:\n${out.stdout}\n${out.stderr}`);
      }
    }
    assert.match(text.stderr, /only the first word/);
  } finally {
    good.cleanup();
    bad.cleanup();
  }
});
