// Who held an address when, from the kernel's own address events (`ip -ts -o monitor
// address` in each host's namespace), not from polling: polling hosts one after the other
// cannot tell "both at once" from "one right after the other" when a handover takes a few
// tens of milliseconds.
import type { ChildProcess } from 'node:child_process';
import { onOutputLines } from '../../src/lib/lines.js';
import type { Lan } from '../../src/lib/netns.js';
import { signalPid } from '../../src/lib/signal.js';

export interface Holding {
  node: string;
  from: number;
  to: number;
}

export class AddressMonitor {
  readonly events: { at: number; held: boolean }[] = [];
  private readonly child: ChildProcess;

  constructor(
    lan: Lan,
    readonly host: string,
    readonly address: string,
  ) {
    this.child = lan.spawnIn(host, ['ip', '-ts', '-o', 'monitor', 'address'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
    onOutputLines(this.child, (line) => {
      const m = /^\[(\S+)\] (Deleted )?\d+: \S+\s+inet (\S+)\//.exec(line);
      if (m && m[3] === address) this.events.push({ at: Date.parse(`${m[1]}Z`), held: !m[2] });
    });
  }

  /** The spans during which the host held the address (one still held ends at `end`). */
  holdings(end: number, heldAtStart = false): Holding[] {
    const out: Holding[] = [];
    let since: number | null = heldAtStart ? -Infinity : null;
    for (const e of this.events) {
      if (e.held && since === null) since = e.at;
      if (!e.held && since !== null) {
        out.push({ node: this.host, from: since, to: e.at });
        since = null;
      }
    }
    if (since !== null) out.push({ node: this.host, from: since, to: end });
    return out;
  }

  stop(): void {
    if (this.child.pid) signalPid(this.child.pid);
  }
}

/** Whether two different hosts' holdings overlap in time. */
export function heldByTwo(holdings: Holding[]): boolean {
  return holdings.some((a) => holdings.some((b) => a.node !== b.node && a.from < b.to && b.from < a.to));
}
