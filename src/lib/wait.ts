// Waiting for something another process or a callback will make true: the demo, the tests and
// the benchmarks all poll through here, so they agree on what a timeout means. Deadlines use
// the monotonic clock: a wall-clock step must neither cut a wait short nor stretch it.
import { performance } from 'node:perf_hooks';

/** What is awaited: a truthy value when it has happened; falsy or a throw means "not yet". */
export type Check<T> = () => Promise<T | null | undefined | false> | T | null | undefined | false;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * For waiters whose condition changes on an event they can see (a line arrived, an item was
 * queued): notify() makes them check again at once instead of at their next poll.
 */
export class Wakeup {
  private waiters: (() => void)[] = [];

  notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves at the next notify() or after `ms`, whichever comes first. */
  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.push(done);
    });
  }
}

export interface PollOptions {
  timeoutMs: number;
  /** Pause between checks (default 25 ms); with `wake`, the longest pause. */
  pollMs?: number;
  wake?: Wakeup;
}

async function poll<T>(check: Check<T>, o: PollOptions): Promise<{ value: T | null; lastError: unknown }> {
  const deadline = performance.now() + o.timeoutMs;
  const pollMs = o.pollMs ?? 25;
  let lastError: unknown = null;
  for (;;) {
    try {
      const v = await check();
      if (v) return { value: v, lastError: null };
      // A clean "not yet" supersedes an earlier throw: a timeout must not blame a stale error
      // (a socket missing before the daemon had made it, say, when it answered ever since).
      lastError = null;
    } catch (err) {
      lastError = err;
    }
    const left = deadline - performance.now();
    if (left <= 0) return { value: null, lastError };
    // A check is made once more after the deadline has passed, so a wait never ends early; one
    // that can be woken never oversleeps its deadline instead.
    await (o.wake ? o.wake.next(Math.min(pollMs, left)) : sleep(pollMs));
  }
}

/** The first truthy value of `check`, or null when none came within `timeoutMs`. */
export async function pollUntil<T>(check: Check<T>, o: PollOptions): Promise<T | null> {
  return (await poll(check, o)).value;
}

export interface WaitOptions extends Partial<PollOptions> {
  /** Appended to the timeout error on a line of its own (the logs that explain it, say). */
  detail?: () => string;
  /** The error to throw on timeout instead of the standard one. */
  error?: (lastError: unknown) => Error;
}

/**
 * Polls `check` until it returns something truthy and returns that (default timeout 15 s).
 * A timeout throws an error that names `what` and the last error `check` threw.
 */
export async function waitFor<T>(what: string, check: Check<T>, o: WaitOptions = {}): Promise<T> {
  const timeoutMs = o.timeoutMs ?? 15_000;
  const { value, lastError } = await poll(check, { ...o, timeoutMs });
  if (value) return value;
  if (o.error) throw o.error(lastError);
  const last = lastError ? ` (last error: ${(lastError as Error).message})` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last}${o.detail ? `\n${o.detail()}` : ''}`);
}

/** Runs `check` every `everyMs` for `durationMs`: for things that must NOT happen meanwhile. */
export async function holdsFor(durationMs: number, check: () => Promise<void> | void, everyMs: number): Promise<void> {
  const end = performance.now() + durationMs;
  while (performance.now() < end) {
    await check();
    await sleep(everyMs);
  }
}
