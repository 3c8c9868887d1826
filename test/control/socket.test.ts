// The control socket's framing and limits: one JSON request per line however the bytes
// arrive, a bound on one request (not on what a client may pipeline), a bound on how many
// clients are served at once, and the read-only socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../../src/control/client.js';
import { MAX_CONTROL_CONNECTIONS, MAX_REQUEST_BYTES } from '../../src/control/protocol.js';
import type { ControlRequest } from '../../src/control/protocol.js';
import { waitFor } from '../../src/lib/wait.js';
import { exchange, LineClient, literally, withServer } from '../helpers/control-socket.js';

const status = '{"cmd":"status"}\n';
const tooLarge = { ok: false, error: { code: 'E_TOO_LARGE', message: `request over ${MAX_REQUEST_BYTES} bytes` } };

test('requests split across chunks and several in one chunk each get one reply, in order', async () => {
  await withServer(async (path) => {
    const replies = await exchange(path, ['{"cmd":"sta', 'tus"}\n\n{"cmd":"status"}\n{"cmd":"no', 'pe"}\n']);
    assert.deepEqual(
      replies.map((r) => JSON.parse(r)),
      [
        { ok: true, result: { got: 'status' } },
        { ok: true, result: { got: 'status' } },
        { ok: false, error: { code: 'E_UNKNOWN_COMMAND', message: 'unknown command "nope"' } },
      ],
    );
    assert.deepEqual(await request(path, { cmd: 'status' }), { ok: true, result: { got: 'status' } });
  });
});

test('more than MAX_REQUEST_BYTES without a newline: E_TOO_LARGE and the connection ends', async () => {
  await withServer(async (path) => {
    const half = 'x'.repeat(MAX_REQUEST_BYTES / 2);
    const replies = await exchange(path, [status, half, half, 'y', `\n${status}`]);
    assert.equal(replies.length, 2, replies.join('\n'));
    assert.deepEqual(JSON.parse(replies[0]!), { ok: true, result: { got: 'status' } });
    assert.deepEqual(JSON.parse(replies[1]!), tooLarge);
  });
});

test('thousands of small requests pipelined in one write (far over MAX_REQUEST_BYTES in all) are all answered, in order', async () => {
  await withServer(async (path) => {
    // Every 1000th request is an unknown command, so the replies show their order.
    const n = 10_000;
    const batch = Array.from({ length: n }, (_, i) => (i % 1000 === 999 ? '{"cmd":"nope"}\n' : status)).join('');
    assert.ok(batch.length > 2 * MAX_REQUEST_BYTES);
    const replies = (await exchange(path, [batch])).map((r) => JSON.parse(r) as { ok: boolean; error?: { code: string } });
    assert.equal(replies.length, n);
    replies.forEach((r, i) => assert.equal(r.ok ? 'ok' : r.error?.code, i % 1000 === 999 ? 'E_UNKNOWN_COMMAND' : 'ok', `reply ${i}`));
  });
});

test('one 100 KiB request line is refused with E_TOO_LARGE after the requests before it are answered, and the connection ends', async () => {
  await withServer(async (path) => {
    const huge = `${JSON.stringify({ cmd: 'status', pad: 'x'.repeat(100 * 1024) })}\n`;
    const replies = await exchange(path, [status + status + huge + status]);
    assert.deepEqual(
      replies.map((r) => JSON.parse(r)),
      [{ ok: true, result: { got: 'status' } }, { ok: true, result: { got: 'status' } }, tooLarge],
    );
    // The server is fine: the next client is served.
    assert.deepEqual(await request(path, { cmd: 'status' }), { ok: true, result: { got: 'status' } });
  });
});

test('a request just under MAX_REQUEST_BYTES is answered', async () => {
  await withServer(async (path) => {
    const big = `${JSON.stringify({ cmd: 'status', pad: 'x'.repeat(MAX_REQUEST_BYTES - 100) })}\n`;
    assert.deepEqual((await exchange(path, [big])).map((r) => JSON.parse(r)), [{ ok: true, result: { got: 'status' } }]);
  });
});

test(`connections beyond MAX_CONTROL_CONNECTIONS (${MAX_CONTROL_CONNECTIONS}) are refused with E_TOO_MANY_CLIENTS; a freed slot serves again`, async () => {
  await withServer(async (path) => {
    const held: LineClient[] = [];
    try {
      for (let i = 0; i < MAX_CONTROL_CONNECTIONS; i++) held.push(await LineClient.open(path));
      // A reply on each proves the server has taken every one of them.
      for (const c of held) c.send({ cmd: 'status' });
      for (const c of held) assert.deepEqual(await c.next(), { ok: true, result: { got: 'status' } });

      const extra = await LineClient.open(path);
      extra.send({ cmd: 'status' });
      const refusal = await extra.next();
      assert.equal(refusal.ok, false);
      assert.equal(refusal.error?.code, 'E_TOO_MANY_CLIENTS');
      assert.match(refusal.error?.message ?? '', new RegExp(`at most ${MAX_CONTROL_CONNECTIONS}`));
      await extra.ended();

      // The held ones are still served, and closing one lets a new client in.
      held[0]!.send({ cmd: 'status' });
      assert.equal((await held[0]!.next()).ok, true);
      held.pop()!.close();
      await waitFor('a freed slot to serve a new client', async () => (await request(path, { cmd: 'status' })).ok, { timeoutMs: 5000 });
    } finally {
      for (const c of held) c.close();
    }
  });
});

test('the read-only socket answers status and refuses standby and takeover without calling the daemon', async () => {
  const calls: string[] = [];
  await withServer(
    async (path) => {
      const c = await LineClient.open(path);
      try {
        for (const req of [{ cmd: 'status' }, { cmd: 'standby', scope: 'all' }, { cmd: 'takeover', scope: 'local' }, { cmd: 'status' }]) c.send(req);
        assert.deepEqual(await c.next(), { ok: true, result: { got: 'status' } });
        for (const cmd of ['standby', 'takeover']) {
          const r = await c.next();
          assert.equal(r.error?.code, 'E_READ_ONLY');
          assert.match(r.error?.message ?? '', new RegExp(`${cmd} .*read-only socket ${literally(path).source}`));
        }
        assert.deepEqual(await c.next(), { ok: true, result: { got: 'status' } });
      } finally {
        c.close();
      }
    },
    { readOnly: true },
    (req: ControlRequest) => {
      calls.push(req.cmd);
      return { got: req.cmd };
    },
  );
  assert.deepEqual(calls, ['status', 'status']);
});
