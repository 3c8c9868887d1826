// Resource monitoring in the simulator: some groups monitored (ha.cf `monitor`), and monitor
// faults: a running resource dies behind a healthy node, once or again and again. Drawn from a
// stream of the seed of their own, after every other fault, and off unless asked for
// (--monitors), so that a schedule without them is exactly the schedule of before.
import { chance, derive, int, mulberry32, pick, uniform } from './prng.js';
import type { Fault, SimConfig, SimMonitor } from './schedule.js';

type MonitorFault = Extract<Fault, { kind: 'monitor' }>;

export function drawMonitors(seed: number, config: SimConfig, windowMs: number, probability: number): { monitors: Map<string, SimMonitor>; faults: MonitorFault[] } | null {
  const rng = mulberry32(derive(seed, 10));
  if (!chance(rng, probability)) return null;
  const ka = config.timers.keepaliveMs;
  const monitors = new Map<string, SimMonitor>();
  for (const g of config.groups) {
    if (!chance(rng, 0.7)) continue;
    monitors.set(g.id, {
      intervalMs: pick(rng, [ka, 2 * ka, 5 * ka]),
      failures: int(rng, 1, 3),
      restarts: int(rng, 0, 2),
      windowMs: Math.floor(uniform(rng, 2000, 20_000)),
      keepOutMs: Math.floor(uniform(rng, 2000, 8000)),
    });
  }
  if (monitors.size === 0) return null;
  const faults: MonitorFault[] = [];
  const ids = [...monitors.keys()];
  for (let k = int(rng, 1, 3); k > 0; k--) {
    const group = pick(rng, ids);
    const def = config.groups.find((g) => g.id === group)!;
    const m = monitors.get(group)!;
    const kills = int(rng, 1, 4);
    const everyMs = Math.floor(uniform(rng, m.intervalMs, 4 * m.intervalMs * m.failures + 1000));
    faults.push({ kind: 'monitor', at: Math.floor(uniform(rng, 0, windowMs)), node: pick(rng, config.nodes), group, resource: int(rng, 0, def.resources.length - 1), kills, everyMs });
  }
  return { monitors, faults };
}
