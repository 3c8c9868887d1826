#!/usr/bin/env node
// CPU time of one heartbeat, sent and received, without sockets or timers: two runtimes of a
// 2-node cluster (keepalive 100 ms, one group with a virtual IP, sha1 authkeys) in one loop,
// each tick sending a status heartbeat that is signed, verified and handed to the other. It
// isolates the work hbd does per heartbeat (the core's step, encoding, HMAC, decoding) from
// the cost of waking up, which the footprint bench includes. Prints CPU µs per heartbeat.
//
//   --dist: the dist/ of another build (e.g. a checkout of the parent commit) to compare: both
//   builds are loaded in this one process and run in turns, --rounds times (default 5), so
//   that both see the same machine; prints each build's median and their ratio.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { args } from './lib/report.js';
import { median } from './lib/stats.js';
import { DIST } from './lib/testbed.js';

/** `--help` prints this; a wrong option prints it with what is wrong (bench/lib/report.ts). */
const USAGE = `Usage: node dist/bench/heartbeat-cost.js [--heartbeats 30000] [--dist DIR] [--rounds 5]`;

// The modules of whichever build --dist names: typed loosely on purpose, they may be older than this file.
type Mod = Record<string, any>;

/** A pair of runtimes of one build, ready to exchange heartbeats; run(n) returns CPU µs per heartbeat. */
async function pairOf(dist: string): Promise<(heartbeats: number) => number> {
  const load = async (p: string): Promise<Mod> => (await import(pathToFileURL(join(dist, p)).href)) as Mod;
  const { sign, verify } = await load('src/wire/auth.js');
  const { NodeRuntime } = await load('src/runtime/runtime.js');
  const key = { index: 1, method: 'sha1', secret: 'a-long-shared-secret-1234' };
  const keys = { active: key, keys: [key] };
  const parts = { hacf: 'a'.repeat(64), authkeys: 'b'.repeat(64), haresources: 'c'.repeat(64) };
  const group = { id: 'node1 IPaddr::10.0.0.100/24/eth0', preferredNode: 'node1', resources: ['IPaddr::10.0.0.100/24/eth0'] };
  let now = 0;
  const outbox: [string, unknown][] = [];
  const runtime = (me: string): { tick(n: number): void; receive(m: unknown, l: string, n: number): void } =>
    new NodeRuntime(
      {
        node: { me, nodes: ['node1', 'node2'], linkNames: ['eth0'], timers: { keepaliveMs: 100, warntimeMs: 200, deadtimeMs: 500, initdeadMs: 1000 }, groups: [group], autoFailback: 'on', digest: 'd'.repeat(16) },
        sender: { node: me, uuid: Buffer.alloc(16, me === 'node1' ? 1 : 2), generation: 1_764_900_000, deadtimeMs: 500, partDigests: parts },
        port: { send: (m: unknown) => outbox.push([me, m]), runAgent: () => undefined, log: () => undefined, observe: () => undefined, wakeIn: () => undefined, exit: () => undefined, wallSeconds: () => 1_764_900_000 + Math.floor(now / 1000) },
      },
      0,
    );
  const nodes: Record<string, ReturnType<typeof runtime>> = { node1: runtime('node1'), node2: runtime('node2') };
  const other: Record<string, string> = { node1: 'node2', node2: 'node1' };
  const cpu = (): number => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  return (wanted) => {
    let sent = 0;
    const t0 = cpu();
    while (sent < wanted) {
      now += 50;
      for (const n of ['node1', 'node2']) nodes[n]!.tick(now);
      for (let m = outbox.shift(); m; m = outbox.shift()) {
        const v = verify(sign(m[1], key), keys);
        nodes[other[m[0]]!]!.receive(v.message, 'eth0', now);
        sent++;
      }
    }
    return (cpu() - t0) / sent;
  };
}

async function main(): Promise<void> {
  const a = args(USAGE, { heartbeats: 'number', dist: 'string', rounds: 'number' });
  const here = join(DIST, '..');
  const other = a.str('dist', '');
  const heartbeats = a.num('heartbeats', 30_000);
  if (!other || other === here) {
    const run = await pairOf(here);
    process.stdout.write(`${here}: ${heartbeats} heartbeats, ${run(heartbeats).toFixed(1)} µs of CPU per heartbeat sent and received (tick, sign, verify, receive)\n`);
    return;
  }
  const builds = [here, other];
  const runs = await Promise.all(builds.map(pairOf));
  const samples: number[][] = [[], []];
  const rounds = a.num('rounds', 5);
  for (const run of runs) run(heartbeats / 5); // both warmed up before the first measured turn
  for (let r = 0; r < rounds; r++) {
    runs.forEach((run, i) => samples[i]!.push(run(heartbeats)));
    process.stdout.write(`round ${r + 1}: ${builds.map((b, i) => `${b} ${samples[i]![r]!.toFixed(1)} µs`).join(', ')}\n`);
  }
  const [mine, theirs] = samples.map(median) as [number, number];
  process.stdout.write(`median of ${rounds} turns each, ${heartbeats} heartbeats a turn: ${here} ${mine.toFixed(1)} µs, ${other} ${theirs.toFixed(1)} µs of CPU per heartbeat sent and received; ratio ${(mine / theirs).toFixed(2)}\n`);
}

void main();
