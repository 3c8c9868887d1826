import type { Timers } from './system.js';

/** The timer sets the benchmarks compare at. */
export const TIMER_SETS: Record<string, Timers & { label: string }> = {
  fast: { label: 'keepalive 100ms / deadtime 500ms', keepaliveMs: 100, deadtimeMs: 500 },
  slow: { label: 'keepalive 1s / deadtime 5s', keepaliveMs: 1000, deadtimeMs: 5000 },
  // The orientation figures were taken at these timers.
  orient: { label: 'keepalive 200ms / deadtime 1s', keepaliveMs: 200, deadtimeMs: 1000 },
  // The stability soak's default: a deadtime of ten keepalives, every gap over 200 ms logged.
  soak: { label: 'keepalive 100ms / deadtime 1s', keepaliveMs: 100, deadtimeMs: 1000, warntimeMs: 200 },
  // The sub-quarter-second tier (issue 19): can failover under 250 ms be trusted on a loaded host?
  tier: { label: 'keepalive 50ms / deadtime 200ms', keepaliveMs: 50, deadtimeMs: 200, warntimeMs: 100 },
};
