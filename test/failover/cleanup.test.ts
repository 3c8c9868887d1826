// The harness's promise: a scenario that fails still leaves no namespace, process or file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { netnsSkip } from '../helpers/netns.js';
import { namespacesStartingWith } from '../../src/lib/netns.js';
import { liveOf } from '../../src/lib/proc-stat.js';
import { withCluster } from '../helpers/cluster.js';

const skip = await netnsSkip();

test('a scenario that fails mid-way leaves no namespace, process, address or file behind', { skip }, async () => {
  let nsPrefix = '';
  let dir = '';
  const pids: number[] = [];
  await assert.rejects(
    withCluster({ haresources: 'primary IPaddr::10.231.1.100/24/eth0' }, async (c) => {
      nsPrefix = c.lan.nsPrefix;
      dir = c.dir;
      c.startAll();
      await c.waitStable('the cluster to form', { 0: 'primary' });
      const probe = c.probe('10.231.1.100');
      await probe.waitFor('primary', (a) => !!a.body, 0);
      // hbd, the web services, the probe, and hbd's arping: every process in the namespaces.
      for (const n of ['primary', 'secondary', 'client']) pids.push(...(await c.pidsIn(n)));
      throw new Error('the scenario fails here on purpose');
    }),
    /the scenario fails here on purpose/,
  );
  assert.ok(nsPrefix, 'the scenario ran');
  assert.ok(pids.length >= 5, `processes were running (${pids.join(' ')})`);
  assert.deepEqual(await namespacesStartingWith(nsPrefix), [], 'no namespace of the LAN is left');
  assert.deepEqual(liveOf(pids), [], 'no process of the scenario is left (zombies waiting for init do not count)');
  assert.equal(existsSync(dir), false, 'its temp dir is gone');
});
