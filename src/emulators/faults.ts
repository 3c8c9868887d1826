// Faults an emulator injects into its API answers, on the tests' (or the demo's) request: a
// fixed delay, N answers with a given status (500s), N rate-limit refusals with their reset
// header, requests that never get an answer, or an accepted token other than the one the agents
// use. Each fault applies to API requests only, never to the metadata service.

export type Fault =
  /** Every API answer is delayed by `ms`. */
  | { kind: 'slow'; ms: number }
  /** The next `count` API requests get `status` with the provider's error body. */
  | { kind: 'status'; status: number; count: number }
  /** The next `count` API requests get 429 with a reset `resetInS` seconds ahead. */
  | { kind: 'rate-limit'; count: number; resetInS: number }
  /** The next `count` API requests (all of them when count is omitted) are never answered. */
  | { kind: 'hang'; count?: number };

export type Verdict =
  | { kind: 'pass'; delayMs: number }
  | { kind: 'status'; status: number; delayMs: number }
  | { kind: 'rate-limit'; resetAtS: number; delayMs: number }
  | { kind: 'hang' };

export class FaultPlan {
  private slowMs = 0;
  private statuses: { status: number; left: number }[] = [];
  private limits: { resetInS: number; left: number }[] = [];
  private hangs = 0;

  add(f: Fault): void {
    switch (f.kind) {
      case 'slow':
        this.slowMs = f.ms;
        break;
      case 'status':
        this.statuses.push({ status: f.status, left: f.count });
        break;
      case 'rate-limit':
        this.limits.push({ resetInS: f.resetInS, left: f.count });
        break;
      case 'hang':
        this.hangs = f.count ?? Infinity;
        break;
    }
  }

  clear(): void {
    this.slowMs = 0;
    this.statuses = [];
    this.limits = [];
    this.hangs = 0;
  }

  /** What happens to the next API request. */
  next(nowMs: number): Verdict {
    if (this.hangs > 0) {
      this.hangs--;
      return { kind: 'hang' };
    }
    const limit = this.limits[0];
    if (limit) {
      if (--limit.left <= 0) this.limits.shift();
      return { kind: 'rate-limit', resetAtS: Math.ceil(nowMs / 1000 + limit.resetInS), delayMs: this.slowMs };
    }
    const st = this.statuses[0];
    if (st) {
      if (--st.left <= 0) this.statuses.shift();
      return { kind: 'status', status: st.status, delayMs: this.slowMs };
    }
    return { kind: 'pass', delayMs: this.slowMs };
  }
}
