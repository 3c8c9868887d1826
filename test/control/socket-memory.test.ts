// A client that pipelines requests and never reads the replies must not make hbd buffer them
// without bound: the server, alone in a child process, is watched through /proc/PID/status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from '../../src/control/client.js';
import { LineSplitter, onLines } from '../../src/lib/lines.js';
import { readRssKiB } from '../../src/lib/proc-stat.js';
import { sleep, waitFor } from '../../src/lib/wait.js';
import { fromRoot } from '../helpers/repo.js';

const CHILD = fromRoot('dist', 'test', 'helpers', 'control-server-child.js');
const REQUESTS = 20_000;
const REPLY_BYTES = 4096;
// Unbounded, the replies alone would be REQUESTS × REPLY_BYTES = 80 MB.
const MAX_GROWTH_KIB = 30 * 1024;

test('a client pipelining thousands of requests without reading the replies does not grow the server; they all arrive once it reads', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hbts-ctl-mem-'));
  const path = join(dir, 'hbd.sock');
  const child = spawn(process.execPath, [CHILD, path, String(REPLY_BYTES)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let sock: Socket | null = null;
  try {
    let ready = false;
    onLines(child.stdout, (l) => (ready ||= l === 'listening'));
    await waitFor('the control server child to listen', () => ready, { timeoutMs: 10_000 });
    const pid = child.pid ?? 0;
    // A few answered requests first, so the baseline includes a warmed-up server.
    for (let i = 0; i < 20; i++) assert.equal((await request(path, { cmd: 'status' })).ok, true);
    const before = readRssKiB(pid) ?? 0;

    // The greedy client: everything in one write, and no 'data' listener (Node reads at most
    // its 16 KiB high-water mark, then the kernel buffers fill). Each request is padded to 32
    // bytes, so the server's 64 KiB reads hold whole lines: no request-size limit is near.
    const client = connect(path);
    sock = client;
    client.on('error', () => undefined);
    client.write(`${'{"cmd":"status"}'.padEnd(31)}\n`.repeat(REQUESTS));
    let peak = before;
    for (let i = 0; i < 30; i++) {
      await sleep(100);
      peak = Math.max(peak, readRssKiB(pid) ?? 0);
    }
    t.diagnostic(`server VmRSS ${before} KiB before, at most ${peak} KiB while the client did not read`);
    // Still serving others meanwhile.
    assert.equal((await request(path, { cmd: 'status' })).ok, true);
    assert.ok(peak - before < MAX_GROWTH_KIB, `server RSS grew by ${Math.round((peak - before) / 1024)} MiB (from ${Math.round(before / 1024)} MiB) while a client did not read`);

    // Paused, not dropped: once the client reads, every reply comes, in order.
    const lines = new LineSplitter();
    let answered = 0;
    client.setEncoding('utf8');
    client.on('data', (c: string) => {
      for (const l of lines.push(c)) if ((JSON.parse(l) as { ok: boolean }).ok) answered++;
    });
    await waitFor(`all ${REQUESTS} replies`, () => answered === REQUESTS, { timeoutMs: 30_000, detail: () => `${answered} answered` });
  } finally {
    sock?.destroy();
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
