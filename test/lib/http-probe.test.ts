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
import { waitFor } from '../../src/lib/wait.js';

interface Line {
  sent: number;
  t: number;
  body?: string;
  err?: string;
}

/**
 * Runs the probe against the server until `enough` holds for its lines (a loaded host may take a
 * second or more just to start the probe's Node process, so no fixed window), then stops it.
 */
async function probeAgainstSlowThird(extra: string[], enough: (lines: Line[]) => boolean): Promise<Line[]> {
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
  await waitFor('the probe to report enough answers', () => enough(lines), { timeoutMs: 30_000, pollMs: 50, detail: () => JSON.stringify(lines) });
  if (child.pid) signalPid(child.pid);
  await new Promise((r) => child.once('exit', r));
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  return lines;
}

test('one after the other: a request slower than the timeout is a failure', async () => {
  // One after the other, the third request's line is the third line: then two more.
  const lines = await probeAgainstSlowThird(['300'], (ls) => ls.length >= 5);
  assert.ok(lines.some((l) => l.err === 'timeout'), JSON.stringify(lines));
});

test('--overlap: a slow answer is late, not failed, and later requests overtake it', async () => {
  const lines = await probeAgainstSlowThird(['2000', '--overlap'], (ls) => ls.length >= 10 && ls.some((l) => l.body === 'answer 3'));
  assert.ok(lines.length >= 10, JSON.stringify(lines));
  assert.ok(lines.every((l) => l.body !== undefined), JSON.stringify(lines));
  const slow = lines.find((l) => l.body === 'answer 3')!;
  assert.ok(slow.t - slow.sent >= 550, JSON.stringify(slow));
  // Requests sent after the slow one were answered before it.
  assert.ok(lines.some((l) => l.sent > slow.sent && l.t < slow.t), JSON.stringify(lines));
});
