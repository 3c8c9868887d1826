// Deadlines, each written once. A state machine lists the deadlines its state holds in one
// function; `step` acts on those that have expired and `nextWake` is the earliest of that same
// list. When the two were written apart, a drift between them was a busy loop (a wake at a
// time at which step does nothing) or a missed deadline (step would act, nobody wakes it).
// TigerBeetle's `Timeout` is the model: a named due time, asked `expired(now)`.

export interface Deadline {
  /** What falls due ('heartbeat', 'dead', 'lease', ...), and for what ('' when it says all). */
  name: string;
  subject: string;
  /** Measured from this time (ms, the machine's own clock), for `span` ms. */
  since: number;
  span: number;
  /**
   * Expired only once more than `span` has passed: "a silence longer than the deadtime". The
   * shell's timer has whole milliseconds, so such a deadline wakes at since + span + 1, the
   * first wake at which it is sure to have expired.
   */
  strict: boolean;
}

// Every deadline has the same shape (all fields, in this order): the lists are walked on
// every step of every node, and the simulator runs hundreds of millions of steps.

/** Due at `at`: expired once `now >= at`. */
export function dueAt(name: string, at: number, subject = ''): Deadline {
  return { name, subject, since: at, span: 0, strict: false };
}

/** Due once more than `span` has passed since `since`. */
export function dueAfter(name: string, since: number, span: number, subject = ''): Deadline {
  return { name, subject, since, span, strict: true };
}

// `now - since > span`, not `now > since + span`: the two differ in the last bit of a double,
// and a peer's heartbeats and our own ticks keep the same rhythm, so such ties do happen.
export function expired(d: Deadline, now: number): boolean {
  return d.strict ? now - d.since > d.span : now >= d.since + d.span;
}

/** When the shell must wake for `d` at the latest. */
export function wakeAt(d: Deadline): number {
  return d.strict ? d.since + d.span + 1 : d.since + d.span;
}

/**
 * The earliest wake over `deadlines`; Infinity when there is none. A deadline already past wakes
 * at once (`now`): a step in between (a duplicate heartbeat) may not have stepped the machine
 * that owns it, and a lease must never be overrun by a keepalive.
 */
export function nextWakeOf(deadlines: Iterable<Deadline>, now: number): number {
  let wake = Infinity;
  for (const d of deadlines) wake = Math.min(wake, wakeAt(d));
  return wake === Infinity ? wake : Math.max(now, wake);
}
