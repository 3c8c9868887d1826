// "One warning per source per minute".
//
// Heartbeat logs every undecodable or foreign packet; when a second cluster shares the LAN
// (or someone replays traffic) that turns into several lines per second per sender, forever.
// This limiter lets the first event of each key through, swallows the rest for a window and
// hands the swallowed count to the caller when the key is next allowed, so the log still
// says how bad it was.
//
// It is pure: the caller passes `now` (monotonic milliseconds, e.g. performance.now()),
// which keeps it deterministic in tests and immune to wall-clock steps.

export interface RateLimiterOptions {
  /** Length of the quiet period after an allowed event, in ms. Default 60 000. */
  windowMs?: number;
  /**
   * Most keys remembered at once. Keys come from the network (sender addresses, node
   * names), so without a bound a spoofing sender could grow the table without limit.
   * When full, the key whose window started earliest is forgotten. Default 1024.
   */
  maxKeys?: number;
  /**
   * At most this many events allowed per window across all keys (default: no limit). Keys
   * are cheap to vary (a spoofed source address each packet), so only a budget shared by all
   * of them bounds the log; an event over budget counts as suppressed for its key.
   */
  maxPerWindow?: number;
}

export interface RateDecision {
  /** Whether the caller should log this event. */
  allowed: boolean;
  /**
   * When allowed: how many events of this key were suppressed since the previous allowed
   * one (0 for the first). When suppressed: the running count, including this event.
   */
  suppressed: number;
}

export interface ExpiredKey {
  key: string;
  suppressed: number;
}

interface Entry {
  windowStart: number;
  suppressed: number;
}

export const DEFAULT_WINDOW_MS = 60_000;
export const DEFAULT_MAX_KEYS = 1024;

export class RateLimiter {
  readonly windowMs: number;
  readonly maxKeys: number;
  // Map iteration order is insertion order; an entry is re-inserted whenever its window
  // restarts, so the first entry is always the one with the oldest window.
  private readonly entries = new Map<string, Entry>();
  private evictedCount = 0;
  private readonly maxPerWindow: number;
  private budgetStart = -Infinity;
  private budgetUsed = 0;

  constructor(options: RateLimiterOptions = {}) {
    const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
    const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    if (!(windowMs >= 0) || !Number.isFinite(windowMs)) {
      throw new RangeError(`windowMs must be a finite number >= 0, got ${windowMs}`);
    }
    if (!Number.isInteger(maxKeys) || maxKeys < 1) {
      throw new RangeError(`maxKeys must be an integer >= 1, got ${maxKeys}`);
    }
    this.windowMs = windowMs;
    this.maxKeys = maxKeys;
    this.maxPerWindow = options.maxPerWindow ?? Infinity;
    if (!(this.maxPerWindow >= 1)) throw new RangeError(`maxPerWindow must be >= 1, got ${options.maxPerWindow}`);
  }

  /** Record one event for `key` at time `now` and say whether to log it. */
  check(key: string, now: number): RateDecision {
    const entry = this.entries.get(key);
    // A negative elapsed time means the caller mixed clocks; staying quiet is the safe
    // reading of that, and it falls out of the same comparison.
    if (entry !== undefined && now - entry.windowStart < this.windowMs) {
      entry.suppressed += 1;
      return { allowed: false, suppressed: entry.suppressed };
    }
    const suppressed = entry?.suppressed ?? 0;
    if (entry === undefined) this.makeRoom();
    else this.entries.delete(key);
    if (!this.spend(now)) {
      // Over the shared budget: the key stays due (its next event may be logged as soon as
      // the budget allows), with this event counted.
      this.entries.set(key, { windowStart: now - this.windowMs, suppressed: suppressed + 1 });
      return { allowed: false, suppressed: suppressed + 1 };
    }
    this.entries.set(key, { windowStart: now, suppressed: 0 });
    return { allowed: true, suppressed };
  }

  private spend(now: number): boolean {
    if (now - this.budgetStart >= this.windowMs) {
      this.budgetStart = now;
      this.budgetUsed = 0;
    }
    if (this.budgetUsed >= this.maxPerWindow) return false;
    this.budgetUsed += 1;
    return true;
  }

  /**
   * Forget keys whose window has ended, returning those that still had suppressed events so
   * a periodic timer can log "N similar messages suppressed" for senders that went quiet.
   */
  sweep(now: number): ExpiredKey[] {
    const out: ExpiredKey[] = [];
    for (const [key, entry] of this.entries) {
      if (now - entry.windowStart < this.windowMs) continue;
      this.entries.delete(key);
      if (entry.suppressed > 0) out.push({ key, suppressed: entry.suppressed });
    }
    return out;
  }

  /** Number of keys currently remembered. */
  get size(): number {
    return this.entries.size;
  }

  /** How many keys were forgotten because the table was full (a sign of a spoofing flood). */
  get evictions(): number {
    return this.evictedCount;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  clear(): void {
    this.entries.clear();
  }

  private makeRoom(): void {
    while (this.entries.size >= this.maxKeys) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) return;
      this.entries.delete(oldest.value);
      this.evictedCount += 1;
    }
  }
}

/**
 * The suffix appended to the next allowed line, e.g. " (12 similar messages suppressed)";
 * empty when nothing was suppressed so callers can always append it.
 */
export function suppressedSuffix(count: number): string {
  if (count <= 0) return '';
  return ` (${count} similar message${count === 1 ? '' : 's'} suppressed)`;
}
