// Heartbeat's time values: a number of seconds (fractions allowed), or with a unit suffix
// `ms`, `s` or `us`, as ha.cf(5) documents ("keepalive 500ms").

export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|us)?$/.exec(text.trim());
  if (!m) return null;
  const value = Number(m[1]);
  const unit = m[2] ?? 's';
  const ms = unit === 'ms' ? value : unit === 'us' ? value / 1000 : value * 1000;
  return Number.isFinite(ms) ? Math.round(ms) : null;
}

export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
