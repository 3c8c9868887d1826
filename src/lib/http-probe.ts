#!/usr/bin/env node
// The client host's loop against a virtual IP, like the seed tutorial's
// `while true; do curl http://VIP; sleep 1; done` but faster and machine-readable: a fresh
// connection each time, as curl makes, each request with a timeout. Tests and benchmarks
// spawn it inside their client host's namespace and read its stdout. Two reports:
//   default      attempts one after the other, one JSON line each, times in epoch ms with
//                sub-ms resolution: {"sent":ms,"t":ms,"body":"..."} or {"sent":ms,"t":ms,"err":"..."}
//   --overlap    the same lines, but a request every INTERVAL ms whether or not the ones before
//                have answered: a slow answer (a loaded host) is late, not a failure, and the
//                first request after an outage is not held up by the ones sent during it.
//   --changes    a request every INTERVAL ms, overlapping when answers are slow; a line
//                "<CLOCK_MONOTONIC ns> <answer>" whenever the answer changes ("-": it failed),
//                and "<ns> . <answers> <failures>" every second. The benchmark injects its
//                faults on the same clock, and the second line tells "no change" from "stuck".
// Usage: http-probe.js URL [INTERVAL-MS=100] [TIMEOUT-MS=500] [--changes|--overlap]
import { get } from 'node:http';
import { performance } from 'node:perf_hooks';

const args = process.argv.slice(2);
const changes = args.includes('--changes');
const overlap = args.includes('--overlap');
const [url = 'http://127.0.0.1/', intervalArg = '100', timeoutArg = '500'] = args.filter((a) => !a.startsWith('--'));
const intervalMs = Number(intervalArg);
const timeoutMs = Number(timeoutArg);
const wall = (): number => performance.timeOrigin + performance.now();

type Outcome = { body: string } | { err: string };

function attempt(): Promise<Outcome> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: Outcome): void => {
      if (done) return;
      done = true;
      resolve(r);
    };
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => finish({ body: body.trim() }));
      res.on('error', (e) => finish({ err: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => finish({ err: e.code ?? e.message }));
  });
}

async function everyAttempt(): Promise<void> {
  for (;;) {
    const start = performance.now();
    const sent = wall();
    const r = await attempt();
    process.stdout.write(`${JSON.stringify({ sent, t: wall(), ...r })}\n`);
    const wait = intervalMs - (performance.now() - start);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

function overlapping(): void {
  setInterval(() => {
    const sent = wall();
    void attempt().then((r) => process.stdout.write(`${JSON.stringify({ sent, t: wall(), ...r })}\n`));
  }, intervalMs);
}

function onlyChanges(): void {
  let last = '';
  let answers = 0;
  let failures = 0;
  setInterval(() => {
    void attempt().then((r) => {
      const who = 'body' in r ? r.body || '?' : '-';
      if (who === '-') failures++;
      else answers++;
      if (who === last) return;
      last = who;
      process.stdout.write(`${process.hrtime.bigint()} ${who}\n`);
    });
  }, intervalMs);
  setInterval(() => process.stdout.write(`${process.hrtime.bigint()} . ${answers} ${failures}\n`), 1000);
}

process.on('SIGTERM', () => process.exit(0));
if (changes) onlyChanges();
else if (overlap) overlapping();
else void everyAttempt();
