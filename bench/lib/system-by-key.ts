// The systems the benchmarks' --systems option names, each set up the way its users set it up,
// on the same hosts, with the same virtual IP and timers:
//
//   hbd         heartbeat-ts (this repository) and its variants (hbd-system.ts)
//   heartbeat   Debian's Heartbeat 3.0.6 (heartbeat-system.ts)
//   keepalived  Debian's keepalived 2.2.7, VRRPv3 (keepalived-system.ts)
//   pacemaker   Debian's Pacemaker 2.1 + Corosync 3.1 (pacemaker.ts)
import { HBD_VARIANTS, hbd } from './hbd-system.js';
import { heartbeat } from './heartbeat-system.js';
import { keepalived } from './keepalived-system.js';
import { pacemakerByKey } from './pacemaker.js';
import type { System } from './system.js';

export function systemByKey(key: string): System {
  const variant = HBD_VARIANTS[key];
  if (variant) return hbd(variant);
  switch (key) {
    case 'heartbeat':
      return heartbeat();
    case 'keepalived':
      return keepalived('keepalive');
    case 'keepalived-dt':
      return keepalived('deadtime');
    default: {
      const pcmk = pacemakerByKey(key);
      if (pcmk) return pcmk;
      throw new Error(`unknown system ${key} (${[...Object.keys(HBD_VARIANTS), 'heartbeat', 'keepalived', 'keepalived-dt', 'pacemaker', 'pacemaker-tNN', 'pacemaker[-tNN]-tdMM'].join(', ')})`);
    }
  }
}
