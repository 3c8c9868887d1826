// hbd's two control sockets as an operator sets them up: the full one (status, standby,
// takeover) for root and --control-group, the read-only one for --status-group; the kernel
// checks who may connect to each, and the classic commands pick the one they may use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, lstatSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from '../../src/control/client.js';
import { statusSocketPath } from '../../src/control/protocol.js';
import { literally } from '../helpers/control-socket.js';
import { LocalCluster } from '../helpers/local-cluster.js';
import { fromRoot } from '../helpers/repo.js';

const run = promisify(execFile);
const cli = (name: string): string => fromRoot('dist', 'src', 'cli', `${name}.js`);
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const NOGROUP = 65534;
// A group nobody is in, given to nobody below as a supplementary group; numeric ids need not exist.
const CONTROL_GID = 4242;

function modeAndGroup(path: string): { socket: boolean; mode: string; gid: number } {
  const st = lstatSync(path);
  return { socket: st.isSocket(), mode: (st.mode & 0o777).toString(8), gid: st.gid };
}

test('hbd serves a full and a read-only control socket, each 0600 for root or 0660 for its own group', async () => {
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'] });
  // As root, groups this process is not in; otherwise the only group it may give.
  const controlGid = isRoot ? CONTROL_GID : (process.getgid?.() ?? 0);
  const statusGid = isRoot ? NOGROUP : (process.getgid?.() ?? 0);
  try {
    c.start('alpha', ['--control-group', String(controlGid), '--status-group', String(statusGid)]);
    c.start('bravo');
    await c.waitFor('both answer on their control socket', async () => (await c.status('alpha')) && c.status('bravo'));
    const full = c.socket('alpha');
    const ro = statusSocketPath(full);
    assert.equal(ro, join(c.dir, 'alpha', 'hbd-status.sock'));
    assert.deepEqual(modeAndGroup(full), { socket: true, mode: '660', gid: controlGid });
    assert.deepEqual(modeAndGroup(ro), { socket: true, mode: '660', gid: statusGid });
    assert.deepEqual(modeAndGroup(c.socket('bravo')), { socket: true, mode: '600', gid: process.getgid?.() ?? 0 });
    assert.equal(modeAndGroup(statusSocketPath(c.socket('bravo'))).mode, '600');

    const st = await request<{ node: string }>(ro, { cmd: 'status' });
    assert.ok(st.ok && st.result.node === 'alpha');
    for (const cmd of ['standby', 'takeover'] as const) {
      const r = await request(ro, { cmd, scope: 'all' });
      assert.equal(r.ok ? 'ok' : r.error.code, 'E_READ_ONLY');
    }
    // The full socket does take the request.
    assert.deepEqual(await request(full, { cmd: 'takeover', scope: 'all' }), { ok: true, result: { accepted: true, scope: 'all' } });

    c.term('alpha');
    c.term('bravo');
    await c.exited('alpha');
    await c.exited('bravo');
    assert.throws(() => lstatSync(full), /ENOENT/, 'hbd removes its sockets when it exits');
    assert.throws(() => lstatSync(ro), /ENOENT/);
  } finally {
    await c.cleanup();
  }
});

test('a member of the status group only: cl_status and hbctl status work (through the read-only socket), hb_standby is refused; a control-group member may hand over', async (t) => {
  if (!isRoot) {
    const reason = 'needs root to run commands as another user (setpriv)';
    if (process.env.CI === 'true') throw new Error(`CI=true but this test cannot run: ${reason}`);
    console.log(`# skipped: ${reason}`);
    return t.skip(reason);
  }
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'] });
  try {
    // nobody must be able to walk to the sockets (mkdtemp made the test dir 0700).
    chmodSync(c.dir, 0o711);
    chmodSync(join(c.dir, 'alpha'), 0o711);
    c.start('alpha', ['--control-group', String(CONTROL_GID), '--status-group', String(NOGROUP)]);
    c.start('bravo');
    await c.waitFor('alpha sees bravo', () => c.allActive('alpha'));
    const env = { ...process.env, HBD_CONTROL_SOCKET: c.socket('alpha') };
    // Runs a command as nobody with primary group `gid` and supplementary `groups` (none when empty).
    const as = async (gid: number, groups: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
      const argv = [`--reuid=${NOBODY}`, `--regid=${gid}`, ...(groups ? [`--groups=${groups}`] : ['--clear-groups']), '--', process.execPath, ...args];
      try {
        const { stdout, stderr } = await run('setpriv', argv, { env, timeout: 15_000 });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      }
    };

    const hb = await as(NOGROUP, '', [cli('cl_status'), 'hbstatus']);
    assert.deepEqual(hb, { code: 0, stdout: 'Heartbeat is running on this machine.\n', stderr: '' });
    const nodes = await as(NOGROUP, '', [cli('cl_status'), 'listnodes']);
    assert.equal(nodes.code, 0, nodes.stderr);
    assert.deepEqual(nodes.stdout.split('\n').filter(Boolean).sort(), ['alpha', 'bravo']);
    const st = await as(NOGROUP, '', [cli('hbctl'), 'status', '--json']);
    assert.equal(st.code, 0, st.stderr);
    assert.equal((JSON.parse(st.stdout) as { node: string }).node, 'alpha');

    const standby = await as(NOGROUP, '', [cli('hb_standby')]);
    assert.equal(standby.code, 1);
    assert.match(standby.stderr, literally(`permission denied on ${c.socket('alpha')}`));
    const hbctl = await as(NOGROUP, '', [cli('hbctl'), 'takeover']);
    assert.equal(hbctl.code, 1);
    assert.match(hbctl.stderr, /permission denied/);

    // Nothing at all for a user in neither group.
    // cl_status hbstatus says so as Heartbeat's does when its daemon refuses the connection
    // (exit 0), and -v gives the reason.
    const outsider = await as(NOGROUP + 1, '', [cli('cl_status'), 'hbstatus']);
    assert.deepEqual(outsider, { code: 0, stdout: 'Heartbeat is apparently running on this machine, but refuses my connection\n', stderr: '' });
    const outsiderV = await as(NOGROUP + 1, '', [cli('cl_status'), 'hbstatus', '-v']);
    assert.equal(outsiderV.code, 0);
    assert.match(outsiderV.stdout, /^Heartbeat is apparently running on this machine, but refuses my connection\n\(permission denied on .*hbd-status\.sock.*\)\n$/);
    const outsiderList = await as(NOGROUP + 1, '', [cli('cl_status'), 'listnodes']);
    assert.equal(outsiderList.code, 1);
    assert.match(outsiderList.stderr, /ERROR: REASON: permission denied on .*hbd-status\.sock/);

    // A member of the control group hands over.
    const member = await as(NOGROUP, String(CONTROL_GID), [cli('hb_standby')]);
    assert.equal(member.code, 0, member.stderr);
    assert.equal(member.stdout, '');
    assert.match(member.stderr, /^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d Going standby \[all\]\.\n$/);
  } finally {
    await c.cleanup();
  }
});

test('hbd refuses to start when a regular file is at --control-socket, says so, and leaves the file alone', async () => {
  const c = new LocalCluster({ nodes: ['alpha', 'bravo'] });
  try {
    writeFileSync(c.socket('alpha'), 'precious\n');
    c.start('alpha');
    assert.equal(await c.exited('alpha', 20_000), 1);
    assert.match(c.logText('alpha'), literally(`${c.socket('alpha')} is a regular file, not a socket`));
    assert.equal(readFileSync(c.socket('alpha'), 'utf8'), 'precious\n');
  } finally {
    await c.cleanup();
  }
});
