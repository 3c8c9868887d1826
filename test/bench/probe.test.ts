// The benchmarks' client probe (src/lib/http-probe.ts --changes, read by bench/lib/testbed.ts's
// Probe) on loopback. A benchmark waits for `steady` before it measures: once, right after the
// virtual IP went away, steady answered yes at once from the probe's last line, which still
// named the old owner (a failure is printed only when its request times out), and the
// footprint benchmark measured a daemon that was not running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROBE_JS, Probe } from '../../bench/lib/testbed.js';

test('steady counts only what the probe saw after the call: a host that stops answering is not steady', { timeout: 30_000 }, async () => {
  let answering = true;
  const server = createServer((_req, res) => {
    if (answering) res.end('node1\n');
    // else: no answer, as when the address is gone and packets go nowhere
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  const child = spawn(process.execPath, [PROBE_JS, `http://127.0.0.1:${port}/`, '5', '100', '--changes'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const probe = new Probe(child);
    assert.equal(await probe.steady('node1', 300, 10_000), true, 'an answering host becomes steady');
    answering = false;
    assert.equal(await probe.steady('node1', 300, 1500), false, 'a host that stopped answering is not steady');
    assert.equal(probe.current()?.who, '-');
    answering = true;
    assert.equal(await probe.steady('node1', 300, 10_000), true, 'and is steady again once it answers');
  } finally {
    child.kill('SIGTERM');
    server.closeAllConnections();
    server.close();
  }
});
