// Each benchmark's systems, timer sets and faults when its command line names none: here, not
// in the benchmark, so that test/bench/plan.test.ts can read what a plan entry that omits one
// will run without running the benchmark.

export interface OptionDefaults {
  systems?: string[];
  timers?: string[];
  faults?: string[];
}

export const FAILOVER_DEFAULTS = {
  systems: ['hbd', 'heartbeat', 'keepalived', 'keepalived-dt', 'pacemaker'],
  timers: ['fast', 'slow'],
  faults: ['kill', 'link'],
} satisfies OptionDefaults;

export const STABILITY_DEFAULTS = {
  systems: ['hbd', 'hbd-nort', 'heartbeat', 'keepalived', 'keepalived-dt', 'pacemaker', 'hbd-selfload', 'hbd-nort-selfload'],
  timers: ['soak'],
} satisfies OptionDefaults;

export const FOOTPRINT_DEFAULTS = {
  systems: ['hbd', 'heartbeat', 'keepalived', 'pacemaker'],
  timers: ['slow', 'fast'],
} satisfies OptionDefaults;

/** scale runs heartbeat-ts alone, so it has no --systems. */
export const SCALE_DEFAULTS = {
  timers: ['slow'],
} satisfies OptionDefaults;

/** By benchmark name (bench/<name>.ts). */
export const BENCH_DEFAULTS: Record<string, OptionDefaults> = {
  failover: FAILOVER_DEFAULTS,
  stability: STABILITY_DEFAULTS,
  footprint: FOOTPRINT_DEFAULTS,
  scale: SCALE_DEFAULTS,
  'heartbeat-cost': {},
};
