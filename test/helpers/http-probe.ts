#!/usr/bin/env node
// A client loop like the seed tutorial's `while true; do curl http://VIP; sleep 1; done`, but
// faster and machine-readable: one JSON line per attempt on stdout,
// {"sent":ms,"t":ms,"body":"..."} or {"sent":ms,"t":ms,"err":"..."}, times in epoch
// milliseconds (sub-ms resolution). A fresh connection every time, as curl makes.
// Usage: http-probe.js URL INTERVAL-MS TIMEOUT-MS
import { get } from 'node:http';
import { performance } from 'node:perf_hooks';

const [url = 'http://127.0.0.1/', intervalArg = '100', timeoutArg = '500'] = process.argv.slice(2);
const intervalMs = Number(intervalArg);
const timeoutMs = Number(timeoutArg);
const wall = (): number => performance.timeOrigin + performance.now();

function once(): Promise<void> {
  const sent = wall();
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: { body?: string; err?: string }) => {
      if (done) return;
      done = true;
      process.stdout.write(`${JSON.stringify({ sent, t: wall(), ...r })}\n`);
      resolve();
    };
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => finish({ body: body.trim() }));
      res.on('error', (e) => finish({ err: e.message }));
    });
    req.on('timeout', () => {
      req.destroy(new Error('timeout'));
    });
    req.on('error', (e: NodeJS.ErrnoException) => finish({ err: e.code ?? e.message }));
  });
}

async function loop(): Promise<void> {
  for (;;) {
    const start = performance.now();
    await once();
    const wait = intervalMs - (performance.now() - start);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}
process.on('SIGTERM', () => process.exit(0));
void loop();
