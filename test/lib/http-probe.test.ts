// The client loop of the tests and the nemesis, against a local server that answers one
// request late: one after the other, a short timeout fails it; overlapping, it is a late
// answer and the requests sent after it are answered before it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fromRoot } from '../helpers/repo.js';
import { onOutputLines } from '../../src/lib/lines.js';
import { signalPid } from '../../src/lib/signal.js';

interface Line {
  sent: number;
  t: number;
  body?: string;
  err?: string;
}

async function probeAgainstSlowThird(extra: string[], runMs: number): Promise<Line[]> {
  let n = 0;
  const server = createServer((_req, res) => {
    const k = ++n;
    setTimeout(() => res.end(`answer ${k}`), k === 3 ? 600 : 0);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const child = spawn(process.execPath, [fromRoot('dist', 'src', 'lib', 'http-probe.js'), `http://127.0.0.1:${port}/`, '50', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Line[] = [];
  onOutputLines(child, (l) => lines.push(JSON.parse(l) as Line));
  await new Promise((r) => setTimeout(r, runMs));
  if (child.pid) signalPid(child.pid);
  await new Promise((r) => child.once('exit', r));
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  return lines;
}

test('one after the other: a request slower than the timeout is a failure', async () => {
  const lines = await probeAgainstSlowThird(['300'], 1500);
  assert.ok(lines.some((l) => l.err === 'timeout'), JSON.stringify(lines));
});

test('--overlap: a slow answer is late, not failed, and later requests overtake it', async () => {
  const lines = await probeAgainstSlowThird(['2000', '--overlap'], 1500);
  assert.ok(lines.length >= 10, JSON.stringify(lines));
  assert.ok(lines.every((l) => l.body !== undefined), JSON.stringify(lines));
  const slow = lines.find((l) => l.body === 'answer 3')!;
  assert.ok(slow.t - slow.sent >= 550, JSON.stringify(slow));
  // Requests sent after the slow one were answered before it.
  assert.ok(lines.some((l) => l.sent > slow.sent && l.t < slow.t), JSON.stringify(lines));
});
