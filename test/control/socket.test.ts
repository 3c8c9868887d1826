// The control socket's framing: one JSON request per line, however the bytes arrive, and a
// bound on what a client may send without a newline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from '../../src/control/client.js';
import { MAX_REQUEST_BYTES } from '../../src/control/protocol.js';
import { ControlServer } from '../../src/control/server.js';

async function withServer(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hbts-ctl-'));
  const server = new ControlServer(join(dir, 'hbd.sock'), (req) => ({ got: req.cmd }));
  try {
    await server.listen();
    await fn(server.path);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes `chunks` one by one and collects the reply lines until the server ends. */
function exchange(path: string, chunks: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let text = '';
    sock.setEncoding('utf8');
    sock.on('data', (c: string) => (text += c));
    sock.on('error', reject);
    sock.on('close', () => resolve(text.split('\n').filter(Boolean)));
    sock.on('connect', async () => {
      for (const c of chunks) {
        sock.write(c);
        await new Promise((r) => setTimeout(r, 20));
      }
      sock.end();
    });
  });
}

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
    const replies = await exchange(path, ['{"cmd":"status"}\n', half, half, 'y', '\n{"cmd":"status"}\n']);
    assert.equal(replies.length, 2, replies.join('\n'));
    assert.deepEqual(JSON.parse(replies[0]!), { ok: true, result: { got: 'status' } });
    assert.deepEqual(JSON.parse(replies[1]!), { ok: false, error: { code: 'E_TOO_LARGE', message: `request over ${MAX_REQUEST_BYTES} bytes` } });
  });
});
