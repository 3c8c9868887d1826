// Who held an address when, from the kernel's own address events (`ip -ts -o monitor
// address` in each host's namespace), not from polling: polling hosts one after the other
// cannot tell "both at once" from "one right after the other" when a handover takes a few
// tens of milliseconds.
import type { ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { onOutputLines } from '../../src/lib/lines.js';
import { inNs, type Lan } from '../../src/lib/netns.js';
import { signalPid } from '../../src/lib/signal.js';
import { waitFor } from '../../src/lib/wait.js';

export interface Holding {
  node: string;
  from: number;
  to: number;
}

export class AddressMonitor {
  readonly events: { at: number; held: boolean }[] = [];
  private readonly child: ChildProcess;
  /** Every address this monitor has seen an event for (ready() waits for its probe in here). */
  private readonly seen = new Set<string>();

  constructor(
    private readonly lan: Lan,
    readonly host: string,
    readonly address: string,
  ) {
    // `-ts` stamps an event when `ip` reads it, not when the kernel made it: on a loaded machine
    // a reader scheduled late stamps a deletion after the other host's addition that followed
    // it. Real-time priority (above hbd's SCHED_RR 1) has each reader read at once.
    this.child = lan.spawnIn(host, ['chrt', '--fifo', '50', 'ip', '-ts', '-o', 'monitor', 'address'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
    onOutputLines(this.child, (line) => {
      const m = /^\[(\S+)\] (Deleted )?\d+: \S+\s+inet (\S+)\//.exec(line);
      if (m) this.seen.add(m[3]!);
      if (m && m[3] === address) this.events.push({ at: Date.parse(`${m[1]}Z`), held: !m[2] });
    });
  }

  /**
   * Resolves once `ip monitor` is subscribed: it shows a probe address this adds to the host's
   * lo (and then removes). Until then events are lost, however long one waits on a busy machine.
   */
  async ready(timeoutMs = 10_000): Promise<void> {
    const probe = `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
    const ns = this.lan.host(this.host).ns;
    await inNs(ns, ['ip', 'addr', 'add', `${probe}/32`, 'dev', 'lo']);
    try {
      await waitFor(`ip monitor on ${this.host} to report its probe address`, () => this.seen.has(probe), { timeoutMs, pollMs: 20 });
    } finally {
      await inNs(ns, ['ip', 'addr', 'del', `${probe}/32`, 'dev', 'lo']).catch(() => undefined);
    }
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
