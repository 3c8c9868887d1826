// The systems the benchmarks' --systems option names, each set up the way its users set it up,
// on the same hosts, with the same virtual IP and timers:
//
//   hbd         heartbeat-ts (this repository) and its variants (hbd-system.ts)
//   heartbeat   Debian's Heartbeat 3.0.6 (heartbeat-system.ts)
//   keepalived  Debian's keepalived 2.2.7, VRRPv3 (keepalived-system.ts)
//   pacemaker   Debian's Pacemaker 2.1 + Corosync 3.1 (pacemaker.ts)
//   hbd-etcd    heartbeat-ts with the etcd arbiter and a real etcd (etcd-system.ts)
import { hbdEtcd } from './etcd-system.js';
import { HBD_VARIANTS, hbd } from './hbd-system.js';
import { heartbeat } from './heartbeat-system.js';
import { keepalived } from './keepalived-system.js';
import { pacemakerByKey } from './pacemaker.js';
import { UsageError } from './report.js';
import type { System } from './system.js';

const SELFLOAD = '-selfload';

export function systemByKey(key: string): System {
  const variant = HBD_VARIANTS[key];
  if (variant) return hbd(variant);
  // `hbd-selfload`, `hbd-nort-selfload`...: that variant with its HTTP API on, for the stability
  // benchmark to load it from the inside.
  const loaded = key.endsWith(SELFLOAD) ? HBD_VARIANTS[key.slice(0, -SELFLOAD.length)] : undefined;
  if (loaded) return hbd({ ...loaded, label: `${loaded.label}, loaded from the inside`, httpListen: '127.0.0.1:8694' });
  switch (key) {
    case 'heartbeat':
      return heartbeat();
    case 'keepalived':
      return keepalived('keepalive');
    case 'keepalived-dt':
      return keepalived('deadtime');
    case 'hbd-etcd':
      return hbdEtcd();
    default: {
      const pcmk = pacemakerByKey(key);
      if (pcmk) return pcmk;
      throw new Error(`unknown system ${key} (${[...Object.keys(HBD_VARIANTS), 'hbd-etcd', 'heartbeat', 'keepalived', 'keepalived-dt', 'pacemaker', 'HBD-VARIANT-selfload', 'pacemaker-tNN', 'pacemaker[-tNN]-tdMM'].join(', ')})`);
    }
  }
}

/**
 * The systems of --systems that can run here, checked before anything starts: an unknown key or
 * a system this machine lacks is refused with what installs it, except an optional one
 * (Pacemaker), which is dropped with the reason printed.
 */
export function runnableKeys(keys: string[], say: (msg: string) => void): string[] {
  const refused: string[] = [];
  const runnable = keys.filter((key) => {
    const sys = systemByKey(key);
    const missing = sys.missing();
    if (missing === null) return true;
    if (sys.optional) say(`skipping ${key}: ${missing}`);
    else refused.push(`${key}: ${missing}`);
    return false;
  });
  if (refused.length > 0) throw new UsageError(`cannot run ${refused.join('; ')}`);
  return runnable;
}
