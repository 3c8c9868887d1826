#!/usr/bin/env node
// What a Node.js process costs for hbd's pattern of wake-ups alone, with no work in them: the
// floor under hbd's idle CPU that no change to hbd's own code can go below. Two processes at
// once, measured over the same window:
//   - timer: a timer every keepalive/2 (hbd wakes once to send and once to receive per keepalive);
//   - udp: two UDP endpoints on loopback, each sending a 500-byte datagram every keepalive to the
//     other and taking the other's: hbd's heartbeats of a 2-node pair, both ends in one process
//     (so its figure is that of two nodes).
// Prints each one's CPU share in % of one core (user + system, process.cpuUsage).
//
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { args } from './lib/report.js';

/** `--help` prints this; a wrong option prints it with what is wrong (bench/lib/report.ts). */
const USAGE = `Usage: node dist/bench/wake-floor.js [--seconds 60] [--keepalive 100]`;

async function child(mode: string, seconds: number, keepaliveMs: number): Promise<void> {
  const timers: NodeJS.Timeout[] = [];
  const sockets: dgram.Socket[] = [];
  if (mode === 'timer') timers.push(setInterval(() => undefined, keepaliveMs / 2));
  else {
    const [a, b] = [dgram.createSocket('udp4'), dgram.createSocket('udp4')] as const;
    sockets.push(a, b);
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve))));
    const packet = Buffer.alloc(500, 0x41);
    for (const s of sockets) s.on('message', () => undefined);
    timers.push(setInterval(() => a.send(packet, b.address().port, '127.0.0.1'), keepaliveMs));
    // The other end out of phase, as two nodes' timers are.
    setTimeout(() => timers.push(setInterval(() => b.send(packet, a.address().port, '127.0.0.1'), keepaliveMs)), keepaliveMs * 0.37);
  }
  const start = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const used = process.cpuUsage(start);
  process.stdout.write(`${(((used.user + used.system) / 1000 / (performance.now() - t0)) * 100).toFixed(3)}\n`);
  for (const t of timers) clearInterval(t);
  for (const s of sockets) s.close();
}

async function main(): Promise<void> {
  const a = args(USAGE, { seconds: 'number', keepalive: 'number', child: 'string' });
  const seconds = a.num('seconds', 60);
  const keepaliveMs = a.num('keepalive', 100);
  const mode = a.str('child', '');
  if (mode && mode !== 'timer' && mode !== 'udp') throw new Error(`--child: timer or udp, not ${JSON.stringify(mode)}`);
  if (mode) return child(mode, seconds, keepaliveMs);
  const self = fileURLToPath(import.meta.url);
  const run = (m: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const p = spawn(process.execPath, [self, '--child', m, '--seconds', String(seconds), '--keepalive', String(keepaliveMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`${m}: exited with ${code}`))));
    });
  const [timer, udp] = await Promise.all([run('timer'), run('udp')]);
  process.stdout.write(`Node ${process.version}, keepalive ${keepaliveMs} ms, ${seconds} s, both at once:\n`);
  process.stdout.write(`  timer every ${keepaliveMs / 2} ms, nothing done: ${timer} % of a core\n`);
  process.stdout.write(`  two UDP endpoints on loopback, a 500-byte datagram each way every ${keepaliveMs} ms: ${udp} % of a core (two nodes' worth)\n`);
}

void main();
