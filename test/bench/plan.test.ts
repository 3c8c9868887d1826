// `npm run bench`'s plan against bench/RESULTS.md: a full run must rewrite each committed
// section with the same kind of run (same systems, timer sets and faults), and no two runs may
// write one section, or a section goes stale unnoticed (once the plan put both corosync tokens'
// soaks into one section while the results kept them in two).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BENCH_DEFAULTS } from '../../bench/lib/defaults.js';
import { benchPlan, option, sectionOf, type PlanEntry } from '../../bench/lib/plan.js';
import { fromRoot } from '../helpers/repo.js';

const COMPARED = ['systems', 'timers', 'faults'] as const;

/**
 * Committed sections the plan knowingly differs from, with why: each is rewritten as the plan
 * says by the next full run, and must then leave this list (the last test checks it still differs).
 */
const PACEMAKER_LATER = 'committed before Pacemaker joined the runs where Heartbeat is (16ed163)';
const STALE: Record<string, string> = {
  'failover-orientation': PACEMAKER_LATER,
  failover: PACEMAKER_LATER,
  'failover-slow': `${PACEMAKER_LATER}; and without keepalived-dt`,
  'failover-kill-main': PACEMAKER_LATER,
  stability: `${PACEMAKER_LATER}; and without the default's hbd-nort, keepalived-dt and hbd-nort-selfload`,
};

/** Each committed section's benchmark arguments, from its `- Command:` line. */
function committedCommands(): Map<string, string[]> {
  const text = readFileSync(fromRoot('bench', 'RESULTS.md'), 'utf8');
  const out = new Map<string, string[]>();
  for (const m of text.matchAll(/<!-- bench:(\S+):start -->([\s\S]*?)<!-- bench:\1:end -->/g)) {
    const command = /^- Command: `(.*)`$/m.exec(m[2]!)?.[1];
    // Run through `npm run bench` or an npm script, the line also names the direct command: the last one.
    const direct = [...(command ?? '').matchAll(/node dist\/bench\/[\w-]+\.js([^)`]*)/g)].pop();
    if (direct) out.set(m[1]!, direct[1]!.trim().split(/\s+/).filter(Boolean));
  }
  return out;
}

/** What a run with these arguments compares: given options, else the benchmark's defaults. */
function effective(benchmark: string, args: string[]): Record<string, string | undefined> {
  const defaults = BENCH_DEFAULTS[benchmark];
  assert.ok(defaults, `no defaults known for benchmark ${benchmark} (bench/lib/defaults.ts)`);
  return Object.fromEntries(COMPARED.map((k) => [k, option(args, k) ?? defaults[k]?.join(',')]));
}

function mismatches(plan: PlanEntry[], committed: Map<string, string[]>): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of plan) {
    const section = sectionOf(entry);
    const args = section === null ? undefined : committed.get(section);
    if (section === null || !args) continue;
    const planned = effective(entry[0], entry[1]);
    const was = effective(entry[0], args);
    const diff = COMPARED.filter((k) => planned[k] !== was[k]).map((k) => `--${k} ${planned[k]} (committed: ${was[k]})`);
    if (diff.length) out.set(section, diff.join(', '));
  }
  return out;
}

test('no two entries of the plan write the same section of bench/RESULTS.md', () => {
  const sections = benchPlan(false).map(sectionOf).filter((s): s is string => s !== null);
  const twice = sections.filter((s, i) => sections.indexOf(s) !== i);
  assert.deepEqual(twice, []);
});

test('every committed section the plan writes was made by the same kind of run', () => {
  const found = mismatches(benchPlan(false), committedCommands());
  const unexpected = [...found].filter(([s]) => !(s in STALE)).map(([s, d]) => `${s}: ${d}`);
  assert.deepEqual(unexpected, []);
});

test('the sections known to be stale still are (a rerun committed: take it off the list)', () => {
  const found = mismatches(benchPlan(false), committedCommands());
  assert.deepEqual(Object.keys(STALE).filter((s) => !found.has(s)), []);
});

test('the committed commands are read: every section the plan writes and RESULTS.md holds has one', () => {
  const committed = committedCommands();
  const text = readFileSync(fromRoot('bench', 'RESULTS.md'), 'utf8');
  const held = benchPlan(false).map(sectionOf).filter((s): s is string => s !== null && text.includes(`<!-- bench:${s}:start -->`));
  assert.ok(held.length >= 5, `only ${held.length} of the plan's sections found in RESULTS.md`);
  assert.deepEqual(held.filter((s) => !committed.has(s)), []);
});
