// What the demo prints: one timestamped line per event, by whom, and headlines per phase.
import { performance } from 'node:perf_hooks';

export const wall = (): number => performance.timeOrigin + performance.now();

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function stamp(t: number): string {
  const d = new Date(t);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function say(who: string, text: string, at = wall()): void {
  process.stdout.write(`${stamp(at)}  ${who.padEnd(9)} ${text}\n`);
}

export function headline(text: string): void {
  process.stdout.write(`\n==> ${text}\n`);
}

/** The demo counts its waits in seconds: a person reads them. */
export function timedOut(what: string, timeoutMs: number): Error {
  return new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}
