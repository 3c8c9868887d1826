// hbd under a service manager's notify socket (systemd's Type=notify), with a listener of our
// own in systemd's place: READY=1 once up, and the STATUS= line follows the cluster, here a
// peer's death, although hbd now looks at the line only when what it reads changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { LocalCluster } from '../helpers/local-cluster.js';
import { onOutputLines } from '../../src/lib/lines.js';

/** A datagram socket in systemd's place (Perl is Essential in Debian): each message as one line. */
const LISTENER = `socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die "socket: $!"; bind($s, pack_sockaddr_un($ARGV[0])) or die "bind: $!"; $| = 1; print "ready\\n"; while (defined recv($s, my $m, 65536, 0)) { $m =~ s/\\n/ | /g; print "$m\\n" }`;

test('under a notify socket, STATUS= says who is up, and says it again when a peer dies', async () => {
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'], keepalive: '100ms', deadtime: '600ms', initdead: '1s' });
  const socket = join(c.dir, 'notify.sock');
  const listener = spawn('perl', ['-MSocket', '-e', LISTENER, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: string[] = [];
  onOutputLines(listener, (line) => messages.push(line));
  try {
    await c.waitFor('the listener', () => messages.includes('ready'));
    c.start('alpha', [], { NOTIFY_SOCKET: socket });
    c.start('bravo');
    await c.waitFor('READY=1', () => messages.find((m) => m.includes('READY=1')));
    await c.waitFor('both nodes up in STATUS=', () => messages.find((m) => /STATUS=2\/2 nodes up; running here: /.test(m)), 20_000);
    c.kill9WithGuard('bravo');
    const down = await c.waitFor('STATUS= after bravo died', () => messages.find((m) => /STATUS=1\/2 nodes up/.test(m)), 10_000);
    assert.match(down, /STATUS=1\/2 nodes up; running here: /);
    // A steady pair: heartbeats alone send no STATUS= (the line is sent only when it changed).
    const before = messages.filter((m) => m.startsWith('STATUS=')).length;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(messages.filter((m) => m.startsWith('STATUS=')).length, before);
  } finally {
    listener.kill('SIGKILL');
    await c.cleanup();
  }
});
