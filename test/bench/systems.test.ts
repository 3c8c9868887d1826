// What each benchmarked hbd variant runs. A refactor of bench/lib once dropped the variants'
// own arguments from hbd's command line, and hbd-etcd's daemons then refused to start (their
// agent timeouts, which fit the etcd lease, were never passed): the arbiter benchmark could
// not run at all, and nothing said so until it was tried.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HBD_VARIANTS } from '../../bench/lib/hbd-system.js';
import { systemByKey } from '../../bench/lib/system-by-key.js';
import type { Testbed } from '../../bench/lib/testbed.js';

/** A testbed whose spawn records the command and runs a process that exits at once. */
function recordingTestbed(dir: string): { tb: Testbed; argvs: string[][] } {
  const argvs: string[][] = [];
  const tb = {
    dir,
    spawn: (_node: string, argv: string[]) => {
      argvs.push(argv);
      return spawn(process.execPath, ['-e', ''], { stdio: ['ignore', 'pipe', 'pipe'] });
    },
  } as unknown as Testbed;
  return { tb, argvs };
}

test("each hbd variant's node options, build, arguments and HTTP listener reach hbd's command line", () => {
  const dir = mkdtempSync(join(tmpdir(), 'hbts-bench-systems-'));
  try {
    const keys = ['hbd-etcd', ...Object.keys(HBD_VARIANTS).filter((k) => !k.includes('baseline')), 'hbd-selfload'];
    for (const key of keys) {
      const { tb, argvs } = recordingTestbed(dir);
      systemByKey(key).start(tb, 'node1');
      const argv = argvs[0]!;
      const variant = HBD_VARIANTS[key.replace(/-selfload$/, '')];
      assert.ok(argv.includes('--config-dir') && argv.includes(join(dir, 'hbd', 'node1', 'ha.d')), `${key}: ${argv.join(' ')}`);
      if (key === 'hbd-etcd') assert.deepEqual(argv.slice(argv.indexOf('--agent-timeout'), argv.indexOf('--agent-timeout') + 2), ['--agent-timeout', 'start=1,stop=1,status=1'], argv.join(' '));
      for (const opt of variant?.nodeArgs ?? []) assert.ok(argv.includes(opt) && argv.indexOf(opt) < argv.findIndex((a) => a.endsWith('hbd.js')), `${key}: ${opt} before hbd.js`);
      if (variant?.prefix) assert.deepEqual(argv.slice(0, variant.prefix.length), variant.prefix, key);
      if (key.endsWith('-selfload')) assert.ok(argv.includes('--http-listen'), key);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
