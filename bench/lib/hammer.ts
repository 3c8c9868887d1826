#!/usr/bin/env node
// Loads one hbd from the inside: HTTP API clients (status JSON, Prometheus metrics, the
// dashboard's script, server-sent events) and control-socket clients, as fast as they are
// answered. Prints a JSON line of request counts every 5 s.
// Usage: hammer.js --http http://127.0.0.1:8694 --control PATH [--concurrency 4]
import { Agent, get } from 'node:http';
import { request } from '../../src/control/client.js';

const argv = process.argv.slice(2);
const opt = (n: string, d: string) => {
  const i = argv.indexOf(`--${n}`);
  return i >= 0 ? (argv[i + 1] ?? d) : d;
};
const base = opt('http', '');
const control = opt('control', '');
const concurrency = Number(opt('concurrency', '4'));
const counts = { http: 0, httpErrors: 0, httpBytes: 0, sseBytes: 0, control: 0, controlErrors: 0 };
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const paths = ['/status', '/metrics', '/dashboard.js', '/status'];

function httpGet(path: string): Promise<void> {
  return new Promise((resolve) => {
    const req = get(`${base}${path}`, { agent, timeout: 5000 }, (res) => {
      res.on('data', (c: Buffer) => (counts.httpBytes += c.length));
      res.on('end', () => {
        counts.http++;
        resolve();
      });
      res.on('error', () => {
        counts.httpErrors++;
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      counts.httpErrors++;
      setTimeout(resolve, 50);
    });
  });
}

async function httpLoop(k: number): Promise<void> {
  for (let i = k; ; i++) await httpGet(paths[i % paths.length]!);
}

function sse(): void {
  const req = get(`${base}/events`, { timeout: 0 }, (res) => {
    res.on('data', (c: Buffer) => (counts.sseBytes += c.length));
    res.on('end', () => setTimeout(sse, 100));
    res.on('error', () => setTimeout(sse, 100));
  });
  req.on('error', () => setTimeout(sse, 100));
}

async function controlLoop(): Promise<void> {
  for (;;) {
    try {
      await request(control, { cmd: 'status' }, 5000);
      counts.control++;
    } catch {
      counts.controlErrors++;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

if (base) {
  for (let k = 0; k < concurrency; k++) void httpLoop(k);
  for (let k = 0; k < 2; k++) sse();
}
if (control) for (let k = 0; k < 2; k++) void controlLoop();
setInterval(() => process.stdout.write(`${JSON.stringify(counts)}\n`), 5000);
process.on('SIGTERM', () => process.exit(0));
