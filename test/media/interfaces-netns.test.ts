// A node must start with one of its heartbeat cables unplugged: the interface is there with
// its address, only without carrier. Found by the nemesis (seed 472 of the long run): hbd,
// restarted while its eth1 cable was cut, refused to start ("interface eth1 does not exist"),
// because Node's os.networkInterfaces() leaves out an interface that is not running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { withLan } from '../../src/lib/netns.js';
import { fromIpJson } from '../../src/media/interfaces.js';
import { netnsSkip } from '../helpers/netns.js';

const run = promisify(execFile);
const skip = await netnsSkip();
const INTERFACES = fileURLToPath(new URL('../../src/media/interfaces.js', import.meta.url));

test('fromIpJson: addresses, prefix, netmask and the loopback flag as os.networkInterfaces() gives them', () => {
  const t = fromIpJson(JSON.stringify([
    { ifname: 'lo', flags: ['LOOPBACK', 'UP'], address: '00:00:00:00:00:00', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
    { ifname: 'eth1', flags: ['NO-CARRIER', 'BROADCAST', 'UP'], address: '02:00:00:00:00:01', addr_info: [{ family: 'inet', local: '10.0.1.5', prefixlen: 24 }, { family: 'inet6', local: 'fe80::1', prefixlen: 64 }] },
  ]));
  assert.deepEqual(t.eth1, [{ address: '10.0.1.5', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '10.0.1.5/24' }]);
  assert.equal(t.lo?.[0]?.internal, true);
});

test('an interface whose cable is unplugged is listed with its address (so hbd starts and the medium is dead, not missing)', { skip }, async () => {
  await withLan(async (lan) => {
    await lan.addHost('n1', 1);
    await lan.setCable('n1', false);
    const ns = lan.host('n1').ns;
    const { stdout: link } = await run('ip', ['-n', ns, 'link', 'show', 'eth0']);
    assert.match(link, /NO-CARRIER/, 'the cable is out');
    const script = `import(${JSON.stringify(INTERFACES)}).then((m) => process.stdout.write(JSON.stringify(m.systemInterfaces())))`;
    const { stdout } = await run('ip', ['netns', 'exec', ns, process.execPath, '-e', script]);
    const table = JSON.parse(stdout) as Record<string, { address: string }[]>;
    assert.deepEqual(table.eth0?.map((a) => a.address), [lan.host('n1').address], JSON.stringify(table));
  }, { label: 'ifc', subnet: '10.231.97' });
});
