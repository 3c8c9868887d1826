// What is at the control socket's path before hbd starts, and what anyone can reach while it
// starts: a user's file is never deleted, a live socket is never stolen, a stale one is
// replaced, and the socket is never reachable with a mode other than its final one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, type Stats } from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { request } from '../../src/control/client.js';
import { ControlServer } from '../../src/control/server.js';
import { onLines } from '../../src/lib/lines.js';
import { waitFor } from '../../src/lib/wait.js';
import { echoHandler } from '../helpers/control-socket.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'hbts-ctl-path-'));
}

const occupants: [string, (path: string) => void, (path: string) => void][] = [
  [
    'a regular file',
    (p) => writeFileSync(p, 'precious\n'),
    (p) => assert.equal(readFileSync(p, 'utf8'), 'precious\n'),
  ],
  [
    'a symbolic link',
    (p) => {
      writeFileSync(`${p}.target`, 'precious\n');
      symlinkSync(`${p}.target`, p);
    },
    (p) => {
      assert.ok(lstatSync(p).isSymbolicLink());
      assert.equal(readFileSync(`${p}.target`, 'utf8'), 'precious\n');
    },
  ],
  [
    'a directory',
    (p) => {
      mkdirSync(p);
      writeFileSync(join(p, 'keep'), 'precious\n');
    },
    (p) => assert.equal(readFileSync(join(p, 'keep'), 'utf8'), 'precious\n'),
  ],
];

for (const [what, make, intact] of occupants) {
  test(`${what} at the socket path is left alone and listen fails saying what is there`, async () => {
    const dir = tempDir();
    const path = join(dir, 'hbd.sock');
    const server = new ControlServer(path, echoHandler);
    try {
      make(path);
      await assert.rejects(server.listen(), (err: Error) => {
        assert.ok(err.message.includes(path), err.message);
        assert.match(err.message, new RegExp(`is ${what}, not a socket`));
        return true;
      });
      intact(path);
      assert.deepEqual(readdirSync(dir).sort(), what === 'a symbolic link' ? ['hbd.sock', 'hbd.sock.target'] : ['hbd.sock'], 'nothing else left behind');
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a stale socket left by a killed daemon is replaced; a socket another process listens on is not taken', async () => {
  const dir = tempDir();
  const path = join(dir, 'hbd.sock');
  const other = createServer((c) => {
    c.on('error', () => undefined);
    c.once('data', () => c.end('{"ok":true,"result":"the other one"}\n'));
  });
  const server = new ControlServer(path, echoHandler);
  try {
    // Stale: its listener was killed with SIGKILL, so nobody removed the file.
    const child = spawn(process.execPath, ['-e', 'require("net").createServer().listen(process.argv[1], () => console.log("up"))', path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let up = false;
    onLines(child.stdout, (l) => (up ||= l === 'up'));
    await waitFor('a listener to bind', () => up, { timeoutMs: 10_000 });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.ok(lstatSync(path).isSocket());
    await server.listen();
    assert.deepEqual(await request(path, { cmd: 'status' }), { ok: true, result: { got: 'status' } });
    await server.close();

    // Live: someone answers on it.
    await new Promise<void>((r) => other.listen(path, r));
    await assert.rejects(server.listen(), /another process is listening on .*hbd\.sock/);
    assert.deepEqual(await request(path, { cmd: 'status' }), { ok: true, result: 'the other one' });
  } finally {
    await server.close();
    await new Promise((r) => other.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a socket path too long for a unix socket is refused, not silently cut short', async () => {
  const dir = tempDir();
  const path = join(dir, `${'x'.repeat(110)}.sock`);
  const server = new ControlServer(path, echoHandler);
  try {
    await assert.rejects(server.listen(), /too long for a unix socket/);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** What a socket looks like at the moment it is bound: the bound path and the modes in the way. */
interface AtBind {
  bound: string;
  socketMode: number;
  dirMode: number;
  final: Stats | null;
}

test('the socket is never reachable with a mode other than its final one, even with umask 0', async (t) => {
  // listen() binds synchronously inside net.Server#listen; looking right after that call
  // (before any callback could chmod) shows what a fast client could connect to.
  const seen: AtBind[] = [];
  const original = Server.prototype.listen;
  let finalPath = '';
  Server.prototype.listen = function (this: Server, ...args: unknown[]) {
    const r = (original as (...a: unknown[]) => Server).apply(this, args);
    if (typeof args[0] === 'string') {
      const bound = args[0];
      let final: Stats | null = null;
      try {
        final = lstatSync(finalPath);
      } catch {
        /* not there yet */
      }
      seen.push({ bound, socketMode: lstatSync(bound).mode & 0o777, dirMode: lstatSync(dirname(bound)).mode & 0o777, final });
    }
    return r;
  } as typeof Server.prototype.listen;
  const umask = process.umask(0);
  t.after(() => {
    Server.prototype.listen = original;
    process.umask(umask);
  });
  // As root, a group this process is not in (it may chown to any); otherwise its own.
  const group = process.getuid?.() === 0 ? 65534 : (process.getgid?.() ?? 0);
  for (const gid of [null, group]) {
    const dir = tempDir();
    chmodSync(dir, 0o755); // like /run/heartbeat-ts: anyone may enter
    finalPath = join(dir, 'hbd.sock');
    const want = gid === null ? 0o600 : 0o660;
    const server = new ControlServer(finalPath, echoHandler, { gid });
    seen.length = 0;
    try {
      await server.listen();
      assert.equal(seen.length, 1);
      const at = seen[0]!;
      // Either bound at its final mode, or where only the owner can reach it.
      assert.ok(at.socketMode === want || (at.bound !== finalPath && (at.dirMode & 0o077) === 0), `bound at ${at.bound} with mode ${at.socketMode.toString(8)} in a directory of mode ${at.dirMode.toString(8)}`);
      if (at.final) assert.equal(at.final.mode & 0o777, want, 'the final path showed up before its mode was set');
      const st = lstatSync(finalPath);
      assert.ok(st.isSocket());
      assert.equal(st.mode & 0o777, want);
      if (gid !== null) assert.equal(st.gid, gid);
      assert.deepEqual(readdirSync(dir), ['hbd.sock'], 'no temporary name left behind');
      assert.deepEqual(await request(finalPath, { cmd: 'status' }), { ok: true, result: { got: 'status' } });
    } finally {
      await server.close();
    }
    assert.deepEqual(readdirSync(dir), [], 'close removes the socket');
    rmSync(dir, { recursive: true, force: true });
  }
});
