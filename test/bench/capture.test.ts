// The stability benchmark's packet capture. With tcpdump not installed, a soak once reported
// "max gap 0.0 ms" and no gap over the dead timer: a capture that ended at once read as a link
// where no heartbeat was ever late.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Capture } from '../../bench/lib/capture.js';
import type { Testbed } from '../../bench/lib/testbed.js';

/** A testbed whose hosts run `script` (sh) in tcpdump's place. */
function testbedRunning(script: string): Testbed {
  return {
    lan: { host: () => ({ iface: 'eth0' }) },
    spawn: () => spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] }),
  } as unknown as Testbed;
}

const exited = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a capture whose tcpdump ended by itself is an error that says why; one stopped by the benchmark is not', async () => {
  const gone = new Capture(testbedRunning('echo "exec of tcpdump failed: No such file or directory" >&2; exit 255'), 'node2', 'udp');
  await exited(300);
  assert.throws(() => gone.check(), /tcpdump on node2 ended \(exit 255\): exec of tcpdump failed: No such file or directory/);

  const running = new Capture(testbedRunning('echo "1765000000.000100 IP 10.0.0.1.40000 > 10.0.0.2.694: UDP"; echo "1765000000.100200 IP 10.0.0.1.40000 > 10.0.0.2.694: UDP"; sleep 30'), 'node2', 'udp');
  await exited(300);
  running.check();
  assert.equal(running.gaps().count, 2);
  assert.ok(Math.abs(running.gaps().max - 100.1) < 0.01, String(running.gaps().max));
  running.stop();
  await exited(300);
  running.check();
});
