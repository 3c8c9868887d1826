// hbd's start-up check under the etcd arbiter (core/arbiter.ts budget): a lease TTL that does
// not cover the stop of the slowest group (its agent timeouts), the clock-rate margin and two
// keep-alives is refused before anything starts, with the numbers and what to change in one
// line. No etcd is needed: the check comes before the first request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HBD, LocalCluster } from '../helpers/local-cluster.js';

const run = promisify(execFile);

async function hbdForeground(c: LocalCluster, extra: string[]): Promise<{ code: number; stderr: string }> {
  const args = [HBD, '-f', '--config-dir', c.configDir('alpha'), '--node', 'alpha', '--state-dir', join(c.dir, 'state'), '--control-socket', c.socket('alpha'), '--local-address', '127.0.0.1', ...extra];
  try {
    const { stderr } = await run(process.execPath, args, { timeout: 30_000 });
    return { code: 0, stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

test('arbiter etcd: a TTL that cannot cover the stop is refused at start-up, with the numbers in one line', async () => {
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'], initdead: '30', haresources: 'alpha IPaddr::127.0.0.199/32/lo\n' });
  appendFileSync(join(c.configDir('alpha'), 'ha.cf'), 'arbiter etcd\narbiter_endpoints http://127.0.0.1:23799\narbiter_ttl 10\n');
  try {
    // hbd's default agent timeouts (60 s): a stop time of 120 s.
    const out = await hbdForeground(c, []);
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /hbd could not start: arbiter etcd: lease TTL 10 s <= stop time 120 s \(group alpha IPaddr::127\.0\.0\.199\/32\/lo: a start or status call of up to 60 s, then 1 stop of 60 s in all\) \+ clock-rate margin 0\.35 s \(1% of the TTL \+ 250 ms\) \+ 2 keep-alive intervals of 2 s = 124\.35 s: raise arbiter_ttl above 124\.35 s, or shorten the stop/);
  } finally {
    await c.cleanup();
  }
});
