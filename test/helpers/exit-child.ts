// A process that starts something a test would clean up in its finally block, says what on
// stdout, and exits on SIGTERM without cleaning up, as a test file does when node:test ends it
// (test/lib/netns-exit.test.ts). `lan`: a LAN with one host running `sleep`; `local`: a
// loopback cluster (test/helpers/local-cluster.ts) with one hbd running.
import { Lan } from '../../src/lib/netns.js';
import { LocalCluster } from './local-cluster.js';

process.on('SIGTERM', () => process.exit(143));
if (process.argv[2] === 'lan') {
  const lan = new Lan({ subnet: '10.231.213', label: 'lanexit' });
  await lan.create();
  await lan.addHost('a', 1);
  const sleeper = lan.spawnIn('a', ['sleep', '1000']);
  console.log(JSON.stringify({ prefix: lan.nsPrefix, pid: sleeper.pid, dir: lan.tempDir('hbt-lanexit-') }));
} else {
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'] });
  const hbd = c.start('alpha');
  console.log(JSON.stringify({ prefix: '', pid: hbd.pid, dir: c.dir }));
}
setInterval(() => {}, 1000);
