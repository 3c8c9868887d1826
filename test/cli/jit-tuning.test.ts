// hbd's JIT tuning (src/cli/jit-tuning.ts) takes effect: a function run again and again is
// optimised after fewer calls than with V8's default, in a real node process. Compilation is
// made synchronous there (--no-concurrent-recompilation), so the count does not depend on how
// busy the machine is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tuneJit } from '../../src/cli/jit-tuning.js';

const MODULE = fileURLToPath(new URL('../../src/cli/jit-tuning.js', import.meta.url));

/** Calls of a small function until V8 says it is optimised (status bit 16), with or without hbd's tuning. */
function callsUntilOptimised(tuned: boolean): number {
  const script = `
    const { tuneJit } = await import(${JSON.stringify(MODULE)});
    if (${tuned}) tuneJit([]);
    function work(o) { let s = 0; for (const k in o) s += o[k] * 2; return s + Object.keys(o).length; }
    const o = { a: 1, b: 2, c: 3, d: 4 };
    let n = 0;
    for (; n < 100000; n++) { work(o); if (%GetOptimizationStatus(work) & 16) break; }
    process.stdout.write(String(n));`;
  return Number(execFileSync(process.execPath, ['--allow-natives-syntax', '--no-concurrent-recompilation', '--input-type=module', '-e', script], { encoding: 'utf8' }));
}

test('the tuning makes V8 optimise hot code sooner than its default', () => {
  const plain = callsUntilOptimised(false);
  const tuned = callsUntilOptimised(true);
  assert.ok(plain < 100000, `never optimised by default (${plain})`);
  assert.ok(tuned < plain, `optimised after ${tuned} calls with the tuning, ${plain} without`);
});

test('a budget given on the command line is left as given', () => {
  assert.equal(tuneJit(['--interrupt-budget=4096']), false);
  assert.equal(tuneJit(['--interrupt_budget=4096']), false);
});
