#!/usr/bin/env node
// `npm run bench`: every benchmark in turn, each writing its section of bench/RESULTS.md.
//   full (default): failover 20 trials; stability 10 min per system; footprint 60 s; scale 5 min
//   --quick:        failover 5 trials; stability 1 min; footprint 20 s; scale 30 s at 8/16
//                   nodes; nothing written to RESULTS.md (printed only)
// Usage: node dist/bench/all.js [--quick] [--only failover,stability,footprint,heartbeat-cost,scale]
//        (--only orientation runs just the orientation check)
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { args, commandLine, log } from './lib/report.js';
import { DIST } from './lib/testbed.js';
import { pacemakerMissing } from './lib/pacemaker.js';

const a = args();
const quick = a.flag('quick');
const only = a.list('only', ['failover', 'stability', 'footprint', 'heartbeat-cost', 'scale']);
const plan: [string, string[]][] = [
  // First the check that the harness reproduces the orientation figures for the peers
  // (5 kill -9 trials at keepalive 200 ms / deadtime 1 s; keepalived advert_int 0.2).
  ['failover', ['--trials', '5', '--timers', 'orient', '--faults', 'kill', '--systems', 'hbd,heartbeat,keepalived,pacemaker', '--section', '-orientation']],
  ['failover', quick ? ['--trials', '5'] : ['--trials', '20']],
  // kill -9 of the main process alone: hbd's guard removes the VIP and sends the last words.
  ['failover', [...(quick ? ['--trials', '5'] : ['--trials', '20']), '--timers', 'fast', '--faults', 'kill-main', '--systems', 'hbd,heartbeat,keepalived,pacemaker', '--section', '-kill-main']],
  // Failback as a first return (a fresh pair per trial): trials seconds apart on one pair are a
  // crash loop, which hbd's flap damping answers with a longer hold-down on purpose.
  ['failover', [...(quick ? ['--trials', '5'] : ['--trials', '10']), '--fresh', '--faults', 'kill', '--systems', 'hbd,heartbeat,pacemaker', '--section', '-failback-fresh']],
  ['stability', quick ? ['--duration', '60'] : ['--duration', '600']],
  // The sub-quarter-second tier: keepalive 50 ms / deadtime 200 ms (keepalived advert_int 0.05),
  // its failover, and whether it holds (no false failover) under stress-ng and under self-load.
  ['failover', [...(quick ? ['--trials', '5'] : ['--trials', '10']), '--timers', 'tier', '--faults', 'kill,link', '--systems', 'hbd,keepalived', '--section', '-tier']],
  ['stability', [...(quick ? ['--duration', '60'] : ['--duration', '600']), '--timers', 'tier', '--systems', 'hbd,keepalived,hbd-selfload', '--section', '-tier']],
  // Pacemaker in the tier: at Pacemaker's defaults and with transition-delay 50 ms (which takes
  // the controller's one-second re-ask of the CIB out of its failover), token 91 (= deadtime)
  // and 42 (the smallest corosync takes); first returns; both tokens under stress-ng.
  ['failover', [...(quick ? ['--trials', '5'] : ['--trials', '10']), '--timers', 'tier', '--faults', 'kill,link', '--systems', 'hbd,pacemaker,pacemaker-td50,pacemaker-t42-td50', '--section', '-pacemaker-tier']],
  ['failover', [...(quick ? ['--trials', '3'] : ['--trials', '5']), '--fresh', '--timers', 'tier', '--faults', 'kill,link', '--systems', 'hbd,pacemaker,pacemaker-td50', '--section', '-pacemaker-tier-fresh']],
  ['stability', [...(quick ? ['--duration', '60'] : ['--duration', '600']), '--timers', 'tier', '--systems', 'pacemaker-td50,pacemaker-t42-td50', '--section', '-pacemaker-tier']],
  ['footprint', quick ? ['--window', '20'] : ['--window', '60']],
  // The work per heartbeat, without the wake-ups (prints only).
  ['heartbeat-cost', []],
  ['scale', quick ? ['--stable', '30', '--sizes', '8,16'] : ['--stable', '300']],
];

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
