// Debian's keepalived 2.2.7 as a system under test: VRRPv3, one vrrp_instance holding the VIP;
// the preferred node has the higher priority (preemption on: its auto_failback).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { which } from '../../test/helpers/tools.js';
import { finishStart, type System, type Timers } from './system.js';

const KA_PRIO_OWNER = 150;
const KA_PRIO_STANDBY = 100;

/** RFC 5798: Master_Down_Interval = 3 × Advertisement_Interval + Skew_Time, Skew = (256 − prio) × adv / 256. */
export function masterDownMs(advertS: number, prio = KA_PRIO_STANDBY): number {
  return (3 * advertS + ((256 - prio) * advertS) / 256) * 1000;
}

/**
 * advert_int for a timer set: `keepalive` mode sends adverts as often as we send heartbeats;
 * `deadtime` mode picks the advert interval (centiseconds, VRRPv3's unit) whose
 * master-down interval is closest to our deadtime.
 */
export function advertFor(t: Timers, mode: 'keepalive' | 'deadtime'): number {
  if (mode === 'keepalive') return Math.max(0.01, Math.round(t.keepaliveMs / 10) / 100);
  const cs = Math.round(t.deadtimeMs / 10 / masterDownMs(1) * 1000);
  return Math.max(1, cs) / 100;
}

export function keepalived(mode: 'keepalive' | 'deadtime'): System {
  let nodes: string[] = [];
  let timers: Timers | null = null;
  return {
    key: mode === 'keepalive' ? 'keepalived' : 'keepalived-dt',
    label: mode === 'keepalive' ? 'keepalived (advert = keepalive)' : 'keepalived (down = deadtime)',
    missing: () => (which('keepalived') ? null : 'keepalived not installed: scripts/install-deps.sh --bench installs Debian\'s keepalived'),
    detectionMs: (t) => masterDownMs(advertFor(t, mode)),
    timerNote: (t) => `advert_int ${advertFor(t, mode)} s (VRRPv3), master-down interval ${masterDownMs(advertFor(t, mode)).toFixed(0)} ms at the standby's priority ${KA_PRIO_STANDBY}`,
    async prepare(tb, s) {
      nodes = s.nodes;
      timers = s.timers;
      for (const [i, n] of s.nodes.entries()) {
        const dir = join(tb.dir, 'keepalived', n);
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        const conf = [
          '# written by bench/lib/keepalived-system.ts',
          'global_defs {',
          `  router_id ${n}`,
          '}',
          'vrrp_instance VI_1 {',
          '  state BACKUP',
          '  interface eth0',
          '  virtual_router_id 51',
          '  version 3',
          `  priority ${i === 0 ? KA_PRIO_OWNER : KA_PRIO_STANDBY - (i - 1)}`,
          `  advert_int ${advertFor(s.timers, mode)}`,
          '  virtual_ipaddress {',
          `    ${tb.vip}/${tb.prefix} dev eth0 label eth0:0`,
          '  }',
          '}',
          '',
        ].join('\n');
        writeFileSync(join(dir, 'keepalived.conf'), conf);
      }
    },
    start(tb, node) {
      void nodes;
      void timers;
      const dir = join(tb.dir, 'keepalived', node);
      // A killed keepalived leaves its pid files; a new one refuses to start while they name a PID.
      for (const f of ['keepalived.pid', 'vrrp.pid']) rmSync(join(dir, f), { force: true });
      const argv = ['keepalived', '--dont-fork', '--log-console', '--log-detail', '--vrrp', '-f', join(dir, 'keepalived.conf'), '-p', join(dir, 'keepalived.pid'), '-r', join(dir, 'vrrp.pid'), '-i', node];
      return finishStart(tb, node, tb.spawn(node, argv), dir);
    },
    deadPattern: () => /Entering MASTER STATE/,
    falseAlarm: (line) => /Entering MASTER STATE/.test(line),
    // The parent (checker and VRRP children are forked from it with the same command line).
    mainProcess: /^keepalived /,
  };
}
