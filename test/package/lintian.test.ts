// The .deb against Debian policy, with the real lintian: clean when whoever builds it says who
// they are (DEBFULLNAME/DEBEMAIL, as for dch); without that, the placeholder maintainer address
// is the only finding, and README says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromRoot } from '../helpers/repo.js';
import { run } from '../helpers/debian-container.js';
import { skipWithoutTools } from '../helpers/tools.js';

const TOOLS = [
  { cmd: 'lintian', pkg: 'lintian' },
  { cmd: 'dpkg-deb', pkg: 'dpkg' },
];

async function buildAndLint(env: NodeJS.ProcessEnv): Promise<{ tags: string[]; control: string }> {
  const out = mkdtempSync(join(tmpdir(), 'hbts-lintian-'));
  try {
    const built = await run(['bash', fromRoot('scripts', 'build-deb.sh'), out], { timeoutMs: 300_000, env: { ...process.env, ...env } });
    assert.equal(built.code, 0, built.stderr);
    const deb = built.stdout.trim().split('\n').pop()!;
    // lintian refuses to run as root without this, and says so on every run otherwise.
    const lint = await run(['lintian', '--allow-root', '--tag-display-limit', '0', deb], { timeoutMs: 300_000 });
    const control = (await run(['dpkg-deb', '-f', deb])).stdout;
    return { tags: lint.stdout.split('\n').filter((l) => /^[EWIX]: /.test(l)), control };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

test('lintian: no error or warning when the builder names itself', { timeout: 600_000 }, async (t) => {
  if (skipWithoutTools(t, TOOLS)) return;
  const { tags, control } = await buildAndLint({ DEBFULLNAME: 'Example Operations', DEBEMAIL: 'ops@example.org' });
  assert.match(control, /^Maintainer: Example Operations <ops@example\.org>$/m);
  assert.deepEqual(tags, []);
});

test('lintian: without DEBEMAIL, only the placeholder address is reported', { timeout: 600_000 }, async (t) => {
  if (skipWithoutTools(t, TOOLS)) return;
  const env = { DEBFULLNAME: '', DEBEMAIL: '' };
  const { tags } = await buildAndLint(env);
  assert.deepEqual(
    tags.map((l) => l.split(' ')[2]),
    ['bogus-mail-host', 'bogus-mail-host-in-debian-changelog'],
    tags.join('\n'),
  );
});
