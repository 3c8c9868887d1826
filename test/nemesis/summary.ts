// What a nemesis run prints at its end: schedules, faults per kind, client requests, failed
// requests, the longest client-side unavailability per fault kind, and the violations.
import type { RunOutcome } from './run.js';

export class Summary {
  schedules = 0;
  violations = 0;
  requests = 0;
  failed = 0;
  readonly bySize = new Map<number, number>();
  readonly faults = new Map<string, number>();
  readonly longest = new Map<string, { ms: number; seed: number }>();
  readonly failures: string[] = [];

  add(o: RunOutcome): void {
    this.schedules++;
    this.bySize.set(o.schedule.nodes.length, (this.bySize.get(o.schedule.nodes.length) ?? 0) + 1);
    for (const f of o.schedule.faults) this.faults.set(f.kind, (this.faults.get(f.kind) ?? 0) + 1);
    this.requests += o.result.requests;
    this.failed += o.result.failedRequests;
    for (const [kind, ms] of Object.entries(o.result.longestOutage)) {
      if (ms > (this.longest.get(kind)?.ms ?? -1)) this.longest.set(kind, { ms, seed: o.schedule.seed });
    }
    if (o.result.violations.length) {
      this.violations += o.result.violations.length;
      this.failures.push(`seed ${o.schedule.seed} (${o.schedule.nodes.length} nodes): ${o.result.violations.map((v) => `${v.invariant}: ${v.message}`).join('; ')} [kept in ${o.keptIn}]`);
    }
  }

  text(elapsedMs: number): string {
    const sizes = [...this.bySize].sort((a, b) => a[0] - b[0]).map(([n, c]) => `${c} of ${n} nodes`).join(', ');
    const lines = [
      `nemesis: ${this.schedules} schedules (${sizes}) in ${(elapsedMs / 60_000).toFixed(1)} min`,
      `faults: ${[...this.faults].sort().map(([k, c]) => `${k} ${c}`).join(', ') || 'none'}`,
      `client requests: ${this.requests}, failed: ${this.failed}`,
      'longest client-side unavailability by fault kind in effect (ms, seed):',
      ...[...this.longest].sort().map(([k, v]) => `  ${k.padEnd(15)} ${String(v.ms).padStart(6)}  (seed ${v.seed})`),
      `violations: ${this.violations}`,
      ...this.failures.map((f) => `  ${f}`),
    ];
    return `${lines.join('\n')}\n`;
  }
}
