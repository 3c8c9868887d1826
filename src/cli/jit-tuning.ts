// How soon V8 optimises hbd's code. V8 compiles a function with its optimising compiler once
// it has run a certain amount of bytecode (the "interrupt budget", 66 KB by default: sized for
// pages and servers that are busy all the time). An idle hbd runs its heartbeat path 10 to 20
// times a second, so with the default it stays for minutes at keepalive 100 ms (for hours at
// 1 s) in the interpreter and baseline code, whose inline-cache lookups cost more CPU than the
// heartbeat's own work. A quarter of the default gets the same code optimised sooner; what it
// computes does not change, and the compiling runs on V8's background threads, not in the
// event loop that sends and reads heartbeats. Measured in bench/RESULTS.md ("Issue 19: idle
// CPU, second cut").
import { setFlagsFromString } from 'node:v8';

/** Bytes of bytecode a function runs between V8's looks at whether to optimise it. */
export const HBD_INTERRUPT_BUDGET = 16_384;

/** Sets hbd's interrupt budget, unless node was started with one (a benchmark comparing values). */
export function tuneJit(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((a) => /^--interrupt[-_]budget\b/.test(a))) return false;
  setFlagsFromString(`--interrupt-budget=${HBD_INTERRUPT_BUDGET}`);
  return true;
}
