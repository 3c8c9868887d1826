// Real UDP endpoints inside a namespace, for the network-fault tests (one JSON line per event):
//   node udp-tool.js listen ADDR PORT [ECHO_PORT]   a line per datagram {from, port, data (base64), t};
//                                                   with ECHO_PORT, each goes back to its sender's
//                                                   address on that port (a heartbeat-style pong)
//   node udp-tool.js send FROM TO PORT COUNT GAP_MS   datagrams `seq=N;` + padding, from an
//                                                   ephemeral port of FROM; then {sent, errors}
//   node udp-tool.js ping FROM TO PORT COUNT        `ping=N` to TO:PORT, awaits the echo on
//                                                   FROM:PORT; a line {seq, rtt} per answer
// Every mode prints {"ready":true} once its sockets are bound.
import dgram from 'node:dgram';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const out = (x: object): boolean => process.stdout.write(`${JSON.stringify(x)}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function bound(port: number, address: string): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, address, () => {
      s.off('error', reject);
      s.on('error', (err) => out({ error: err.message }));
      resolve(s);
    });
  });
}

function sendOne(s: dgram.Socket, data: Buffer | string, port: number, address: string): Promise<Error | null> {
  return new Promise((resolve) => s.send(data, port, address, (err) => resolve(err ?? null)));
}

async function listen(addr: string, port: number, echoPort: number | null): Promise<void> {
  const s = await bound(port, addr);
  s.on('message', (m, r) => {
    out({ from: r.address, port: r.port, data: m.toString('base64'), t: performance.now() });
    if (echoPort !== null) s.send(m, echoPort, r.address);
  });
  out({ ready: true });
}

export function payloadOf(seq: number): Buffer {
  return Buffer.from(`seq=${seq};${'x'.repeat(40)}`);
}

async function send(from: string, to: string, port: number, count: number, gapMs: number): Promise<void> {
  const s = await bound(0, from);
  s.setBroadcast(true);
  out({ ready: true });
  let errors = 0;
  for (let i = 0; i < count; i++) {
    if ((await sendOne(s, payloadOf(i), port, to)) !== null) errors++;
    if (gapMs > 0) await sleep(gapMs);
  }
  out({ sent: count, errors });
  s.close();
}

async function ping(from: string, to: string, port: number, count: number): Promise<void> {
  const rx = await bound(port, from);
  const tx = await bound(0, from);
  const sentAt = new Map<number, number>();
  rx.on('message', (m) => {
    const seq = Number(/^ping=(\d+)$/.exec(m.toString())?.[1]);
    const t0 = sentAt.get(seq);
    if (t0 !== undefined) out({ seq, rtt: performance.now() - t0 });
  });
  out({ ready: true });
  for (let i = 0; i < count; i++) {
    sentAt.set(i, performance.now());
    await sendOne(tx, `ping=${i}`, port, to);
    await sleep(100);
  }
  // Answers may be late (that is what is measured): the parent ends us by PID.
}

async function main(): Promise<void> {
  const [mode, ...a] = process.argv.slice(2);
  const n = (i: number): number => Number(a[i]);
  if (mode === 'listen') await listen(a[0] ?? '', n(1), a[2] === undefined ? null : n(2));
  else if (mode === 'send') await send(a[0] ?? '', a[1] ?? '', n(2), n(3), n(4));
  else if (mode === 'ping') await ping(a[0] ?? '', a[1] ?? '', n(2), n(3));
  else throw new Error(`usage: udp-tool.js listen|send|ping ... (got ${mode})`);
}

// Run as a program, not when the tests import payloadOf.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: Error) => {
    out({ error: err.message });
    process.exitCode = 1;
  });
}
