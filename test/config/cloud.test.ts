// The cloud IP agents in haresources: their syntax, options and token files, as hbctl
// check-config (a real child process) and loadConfig see them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseCloudIp } from '../../src/config/cloud.js';
import { loadConfig } from '../../src/config/load.js';
import { fromRoot } from '../helpers/repo.js';
import { textFixture } from '../helpers/config-fixture.js';

const run = promisify(execFile);
const HBCTL = fromRoot('dist', 'src', 'cli', 'hbctl.js');
const TOKEN = 'dop_v1_0123456789abcdef0123456789abcdef';
const HACF = 'node primary secondary\nucast eth0 10.0.0.1\nlogfile /dev/null\n';
const AUTH = 'auth 1\n1 sha1 abcdef\n';

async function checkConfig(dir: string, json = false): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [HBCTL, 'check-config', '--config-dir', dir, '--node', 'primary', ...(json ? ['--json'] : [])]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function withDir(haresources: string, token: { name?: string; text?: string; mode?: number } | null = {}) {
  const fx = textFixture({ hacf: HACF, authkeys: AUTH, haresources });
  if (token) {
    const p = join(fx.dir, token.name ?? 'digitalocean.token');
    writeFileSync(p, token.text ?? `${TOKEN}\n`);
    chmodSync(p, token.mode ?? 0o600);
  }
  return fx;
}

test('DigitalOceanIP with the default token file: check-config accepts it and names the agent and the file, never the token', async () => {
  const fx = withDir('primary DigitalOceanIP::45.55.96.8\n');
  try {
    const r = await checkConfig(fx.dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /DigitalOceanIP args \[45\.55\.96\.8\] +\(built-in DigitalOceanIP, secret file .*digitalocean\.token\)/);
    const j = await checkConfig(fx.dir, true);
    assert.equal(j.code, 0, j.stderr);
    for (const out of [r.stdout, r.stderr, j.stdout, j.stderr]) assert.ok(!out.includes(TOKEN), 'the token must not be printed');
  } finally {
    fx.cleanup();
  }
});

test('a token file readable by others is refused with the chmod that fixes it, and the token is not shown', async () => {
  const fx = withDir('primary DigitalOceanIP::45.55.96.8::token=do.token\n', { name: 'do.token', mode: 0o644 });
  try {
    const r = await checkConfig(fx.dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /haresources:1: error: DigitalOceanIP::45\.55\.96\.8::token=do\.token: token file .*do\.token has mode 0644: group or others can read or change it — run "chmod 600 /);
    assert.ok(!r.stderr.includes(TOKEN) && !r.stdout.includes(TOKEN));
  } finally {
    fx.cleanup();
  }
});

test('a missing token file, a symlinked one, one owned by another user and an empty one are refused', async () => {
  const fx = withDir('primary HetznerFloatingIP::4711\n', null);
  try {
    let r = await checkConfig(fx.dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /token file .*hetzner\.token does not exist — create it holding the Hetzner Cloud API token/);

    const real = join(fx.dir, 'real.token');
    writeFileSync(real, `${TOKEN}\n`, { mode: 0o600 });
    symlinkSync(real, join(fx.dir, 'hetzner.token'));
    r = await checkConfig(fx.dir);
    assert.match(r.stderr, /hetzner\.token is a symbolic link/);

    const other = withDir('primary HetznerFloatingIP::4711::token=t\n', { name: 't' });
    try {
      if (process.getuid?.() === 0) {
        chownSync(join(other.dir, 't'), 4242, 4242);
        r = await checkConfig(other.dir);
        assert.match(r.stderr, /is owned by uid 4242, not by root/);
      }
      writeFileSync(join(other.dir, 't'), '\n');
      if (process.getuid?.() === 0) chownSync(join(other.dir, 't'), 0, 0);
      r = await checkConfig(other.dir);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /token file .*\/t is empty — put the API token in it/);
    } finally {
      other.cleanup();
    }
  } finally {
    fx.cleanup();
  }
});

test('arguments are validated: address forms, unknown options, URLs, timeouts', () => {
  const bad: [Parameters<typeof parseCloudIp>[0], string[], RegExp][] = [
    ['DigitalOceanIP', [], /needs the address first/],
    ['DigitalOceanIP', ['45.55.96'], /"45\.55\.96" is not an IPv4 address/],
    ['DigitalOceanIP', ['45.55.96.8', 'tokn=/x'], /unknown option "tokn=\/x" — options are token=\.\.\., api=\.\.\., metadata=\.\.\., timeout=\.\.\./],
    ['DigitalOceanIP', ['45.55.96.8', 'api=ftp://x'], /only http: and https: URLs/],
    ['DigitalOceanIP', ['45.55.96.8', 'api=https://user:pw@x'], /must not carry credentials/],
    ['DigitalOceanIP', ['45.55.96.8', 'timeout=0'], /timeout=0 must be a time from 100ms to 300s/],
    ['HetznerFloatingIP', ['fip-1'], /neither a floating IP id/],
    ['AWSElasticIP', ['eipalloc-xyz'], /neither an Elastic IP address nor an allocation id/],
    ['AWSElasticIP', ['eipalloc-0abc1234', 'token=x'], /unknown option "token=x"/],
    ['AWSElasticIP', ['eipalloc-0abc1234', 'region=mars'], /region=mars is not an AWS region name/],
    ['AWSSecondaryIP', ['10.0.1.300'], /is not an IPv4 address/],
  ];
  for (const [kind, args, re] of bad) {
    const r = parseCloudIp(kind, args, '/etc/ha.d');
    assert.ok(!r.ok, `${kind}::${args.join('::')} must be refused`);
    assert.match(r.error, re);
  }
  const ok = parseCloudIp('DigitalOceanIP', ['45.55.96.8', 'token=do.token', 'api=http://10.0.0.254:8080/', 'timeout=2s'], '/etc/ha.d');
  assert.ok(ok.ok);
  assert.deepEqual(
    { target: ok.spec.target, secretFile: ok.spec.secretFile, api: ok.spec.api, metadata: ok.spec.metadata, callTimeoutMs: ok.spec.callTimeoutMs },
    { target: '45.55.96.8', secretFile: '/etc/ha.d/do.token', api: 'http://10.0.0.254:8080', metadata: 'http://169.254.169.254', callTimeoutMs: 2000 },
  );
  const aws = parseCloudIp('AWSSecondaryIP', ['10.0.1.50/24/eth0', 'region=eu-west-1'], '/etc/ha.d');
  assert.ok(aws.ok);
  assert.deepEqual([aws.spec.secretFile, aws.spec.local, aws.spec.region], [null, { ip: '10.0.1.50', prefix: 24, iface: 'eth0' }, 'eu-west-1']);
});

test('an AWS credentials file must hold both keys, and is checked like a token file', () => {
  const fx = withDir('primary AWSElasticIP::eipalloc-0abc1234::credentials=aws.cred::region=us-east-1\n', { name: 'aws.cred', text: '[default]\naws_access_key_id = AKIAEXAMPLE\n' });
  try {
    let r = loadConfig({ configDir: fx.dir, nodeName: 'primary' });
    assert.ok(!r.ok);
    assert.match(r.errors.map((e) => e.message).join('\n'), /credentials file .*aws\.cred lacks aws_access_key_id or aws_secret_access_key/);
    writeFileSync(join(fx.dir, 'aws.cred'), '[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s3cr3t-value\n');
    r = loadConfig({ configDir: fx.dir, nodeName: 'primary' });
    assert.ok(r.ok, r.ok ? '' : r.errors.map((e) => e.message).join('\n'));
  } finally {
    fx.cleanup();
  }
});
