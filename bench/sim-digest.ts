#!/usr/bin/env node
// Shows that a change to the core or the runtime leaves behaviour exactly as it was: runs the
// simulator's seeded schedules and hashes, per seed, every step of every node in order (the
// node, its virtual time, every effect as data, and with --state the core's state after the
// step, which costs ten times as long). Two
// builds that print the same digests made the same decisions at the same times on every seed.
//
//   --dist: the dist/ of another build (its sim must have the onStep hook); P: percent of schedules.
//   Prints one line per seed ("seed digest steps") and a last line with the digest of them all.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { args } from './lib/report.js';
import { DIST } from './lib/testbed.js';

/** `--help` prints this; a wrong option prints it with what is wrong (bench/lib/report.ts). */
const USAGE = `Usage: node dist/bench/sim-digest.js --seed S --schedules N [--dist DIR] [--state] [--witness P] [--fencing P]
         [--ping P] [--monitors P] [--arbiter P] [--reloads P] [--crash-loops P]`;

type Mod = Record<string, any>;

const PERCENTS: Record<string, string> = { witness: 'witness', fencing: 'fencing', ping: 'ping', monitors: 'monitors', arbiter: 'arbiter', reloads: 'reloads', 'crash-loops': 'crashLoops' };

async function main(): Promise<void> {
  const a = args(USAGE, { seed: 'number', schedules: 'number', dist: 'string', state: 'flag', witness: 'number', fencing: 'number', ping: 'number', monitors: 'number', arbiter: 'number', reloads: 'number', 'crash-loops': 'number' });
  const dist = a.str('dist', join(DIST, '..'));
  const load = async (p: string): Promise<Mod> => (await import(pathToFileURL(join(dist, p)).href)) as Mod;
  const { scheduleOf } = await load('src/sim/run.js');
  const { runSchedule } = await load('src/sim/world.js');
  const opts: Record<string, number> = {};
  for (const [flag, key] of Object.entries(PERCENTS)) if (a.num(flag, -1) >= 0) opts[key] = a.num(flag, 0) / 100;
  const withState = a.flag('state');
  const from = a.num('seed', 1);
  const count = a.num('schedules', 100);
  const all = createHash('sha256');
  for (let seed = from; seed < from + count; seed++) {
    const h = createHash('sha256');
    let steps = 0;
    const result = runSchedule(scheduleOf(seed, opts), {
      onStep: (node: string, now: number, effects: unknown, state: unknown) => {
        steps++;
        h.update(`${node} ${now} ${JSON.stringify(effects)}${withState ? ` ${JSON.stringify(state)}` : ''}\n`);
      },
    });
    const line = `${seed} ${h.digest('hex').slice(0, 16)} ${steps} ${result.violation ? `violation:${result.violation.invariant}` : 'ok'}`;
    all.update(`${line}\n`);
    process.stdout.write(`${line}\n`);
  }
  process.stdout.write(`all ${all.digest('hex')}\n`);
}

void main();
