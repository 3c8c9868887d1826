#!/usr/bin/env node
// `npm run bench`: every benchmark in turn, each writing its section of bench/RESULTS.md.
//   full (default): failover 20 trials; stability 10 min per system; footprint 60 s; scale 5 min
//   --quick:        failover 5 trials; stability 1 min; footprint 20 s; scale 30 s at 8/16
//                   nodes; nothing written to RESULTS.md (printed only)
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { args, commandLine, log } from './lib/report.js';
import { DIST } from './lib/testbed.js';
import { pacemakerMissing } from './lib/pacemaker.js';
import { benchPlan } from './lib/plan.js';

/** `--help` prints this; a wrong option prints it with what is wrong (bench/lib/report.ts). */
const USAGE = `Usage: node dist/bench/all.js [--quick] [--only failover,stability,footprint,heartbeat-cost,scale]
       (--only orientation runs just the orientation check)`;

const a = args(USAGE, { quick: 'flag', only: 'list' });
const quick = a.flag('quick');
const only = a.list('only', ['failover', 'stability', 'footprint', 'heartbeat-cost', 'scale']);
const plan = benchPlan(quick);

async function main(): Promise<void> {
  let failed = 0;
  // Each benchmark skips Pacemaker by itself when it is missing; say so once up front too.
  const missing = pacemakerMissing();
  if (missing) log(`Pacemaker will be skipped: ${missing}`);
  const parent = commandLine();
  for (const [name, extra] of plan) {
    if (!only.includes(name) && !(name === 'failover' && extra.includes('-orientation') && only.includes('orientation'))) continue;
    const argv = [join(DIST, `${name}.js`), ...extra, ...(quick ? ['--no-write'] : [])];
    log(`=== ${name}: node ${argv.join(' ')}`);
    const code = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, argv, { stdio: 'inherit', env: { ...process.env, BENCH_PARENT_CMD: parent } });
      const forward = (sig: NodeJS.Signals) => child.kill(sig);
      process.once('SIGINT', forward);
      process.once('SIGTERM', forward);
      child.on('exit', (c, sig) => {
        process.off('SIGINT', forward);
        process.off('SIGTERM', forward);
        resolve(c ?? (sig ? 1 : 0));
      });
    });
    if (code !== 0) {
      failed++;
      log(`=== ${name} failed (exit ${code})`);
    }
  }
  process.exitCode = failed ? 1 : 0;
}

void main();
