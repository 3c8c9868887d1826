#!/usr/bin/env node
// The client: sends GET http://VIP/ every INTERVAL ms (a new connection each time; requests
// overlap when answers are slow), each with a TIMEOUT. Whenever the answering host changes it
// prints "<CLOCK_MONOTONIC ns> <host>" ("-" when a request failed), so the controller, which
// injects faults on the same clock, can time the first answer from the survivor.
// Usage: probe.js URL [INTERVAL-MS=5] [TIMEOUT-MS=100]
import { get } from 'node:http';

const [url = 'http://127.0.0.1/', intervalArg = '5', timeoutArg = '100'] = process.argv.slice(2);
const intervalMs = Number(intervalArg);
const timeoutMs = Number(timeoutArg);
let last = '';
let answers = 0;
let failures = 0;

function report(who: string): void {
  if (who === '-') failures++;
  else answers++;
  if (who === last) return;
  last = who;
  process.stdout.write(`${process.hrtime.bigint()} ${who}\n`);
}

function once(): void {
  const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (body += c));
    res.on('end', () => report(body.trim() || '?'));
    res.on('error', () => report('-'));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => report('-'));
}

setInterval(once, intervalMs);
// A heartbeat of the probe itself, so the controller can tell "no change" from "probe stuck".
setInterval(() => process.stdout.write(`${process.hrtime.bigint()} . ${answers} ${failures}\n`), 1000);
process.on('SIGTERM', () => process.exit(0));
