// What a resource script run by a real hbd sees in its environment: Heartbeat's variables,
// pointing at the directories hbd was started with, and nothing of hbd's own environment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalCluster } from '../helpers/local-cluster.js';

test('a resource script started by hbd gets only the documented environment, with HA_DIR = --config-dir', async () => {
  const c = new LocalCluster({ nodes: ['alpha'], haresources: 'alpha envdump\n' });
  const scripts = join(c.dir, 'scripts');
  const dump = join(c.dir, 'environ');
  mkdirSync(scripts);
  const script = join(scripts, 'envdump');
  // /proc/$$/environ: the environment as the script's process received it from hbd.
  writeFileSync(script, `#!/bin/sh\n[ "$1" = start ] && tr '\\0' '\\n' < /proc/$$/environ > ${dump}\nexit 0\n`);
  chmodSync(script, 0o755);
  // A secret in hbd's environment (as a unit file's Environment= could hold one).
  process.env.HBT_TEST_HTTP_TOKEN = 'secret-in-hbd-env-5c1e';
  try {
    c.start('alpha', ['--resource-dir', scripts]);
  } finally {
    delete process.env.HBT_TEST_HTTP_TOKEN;
  }
  try {
    await c.waitFor('envdump started', () => existsSync(dump) && readFileSync(dump, 'utf8').includes('PATH='));
    const env = new Map(
      readFileSync(dump, 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
    );
    assert.equal(env.get('HA_DIR'), c.configDir('alpha'));
    assert.equal(env.get('HA_FUNCS'), join(c.configDir('alpha'), 'shellfuncs'));
    assert.equal(env.get('HA_RESOURCEDIR'), scripts);
    assert.equal(env.get('HA_CURHOST'), 'alpha');
    assert.equal(env.get('PATH'), '/usr/sbin:/usr/bin:/sbin:/bin');
    assert.equal(env.get('LC_ALL'), 'C');
    assert.equal(env.has('HBT_TEST_HTTP_TOKEN'), false, 'a variable of hbd\'s environment reached the script');
    assert.ok(![...env.values()].includes('secret-in-hbd-env-5c1e'));
    const documented = ['PATH', 'LANG', 'LC_ALL', 'HA_CURHOST', 'HA_DIR', 'HA_FUNCS', 'HA_RESOURCEDIR', 'HA_DATEFMT', 'HA_LOGD', 'HA_cluster_type', 'OCF_ROOT', 'HA_LOGFILE', 'HA_DEBUGLOG', 'HA_LOGFACILITY'];
    assert.deepEqual([...env.keys()].filter((k) => !documented.includes(k)), [], 'variables not in the README list');
  } finally {
    await c.cleanup();
  }
});
