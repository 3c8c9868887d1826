// The logging interface every layer writes through. The daemon's logger (daemon/log.ts)
// implements it; control/ and others take it as a type so they need nothing of the daemon.

/** What every part of hbd logs through. */
export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  crit(msg: string): void;
  /** Logged only when ha.cf's `debug` level is at least `level` (default 1). */
  debug(msg: string, level?: number): void;
  /** Lets callers skip building expensive debug messages. */
  debugEnabled(level?: number): boolean;
}
