// Packet arrival times at a host's interface (tcpdump, kernel timestamps): the gaps between
// heartbeats as the receiving host saw them, whatever the daemons say.
import type { ChildProcess } from 'node:child_process';
import { onLines } from '../../src/lib/lines.js';
import { killTree } from './proc.js';
import { quantile } from './stats.js';
import type { Testbed } from './testbed.js';

export class Capture {
  /** Arrival times, ms (wall clock from the kernel's packet timestamps). */
  readonly times: number[] = [];
  private readonly child: ChildProcess;
  private stderr = '';
  private startedAt = 0;
  private stopped = false;
  /** How tcpdump ended on its own (not installed, a bad filter), or null while it runs. */
  private ended: string | null = null;

  constructor(tb: Testbed, host: string, filter: string) {
    this.child = tb.spawn(host, ['tcpdump', '-l', '-n', '-tt', '-Q', 'in', '-B', '8192', '-i', tb.lan.host(host).iface, filter]);
    onLines(this.child.stdout, (line) => {
      const t = Number(line.slice(0, line.indexOf(' ')));
      if (Number.isFinite(t) && t > 0) this.times.push(t * 1000);
    });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (c: string) => (this.stderr += c));
    this.child.on('exit', (code, signal) => {
      if (!this.stopped) this.ended = `tcpdump on ${host} ended (${signal ?? `exit ${code}`}): ${this.stderr.trim().split('\n').slice(-2).join(' ') || 'no output'}`;
    });
  }

  /**
   * Throws if tcpdump stopped before it was told to: its gaps would read as a link without a
   * single late heartbeat (once, with tcpdump not installed, a soak reported max gap 0.0 ms).
   */
  check(): void {
    if (this.ended) throw new Error(this.ended);
  }

  /** Starts counting now (earlier packets are dropped). */
  reset(): void {
    this.times.length = 0;
    this.startedAt = Date.now();
  }

  stop(): void {
    this.stopped = true;
    if (this.child.pid && this.child.exitCode === null) killTree(this.child.pid);
  }

  get dropped(): string {
    return /(\d+) packets dropped by kernel/.exec(this.stderr)?.[1] ?? '?';
  }

  gaps(): { count: number; max: number; p999: number; p99: number; over: (ms: number) => number; maxAt: number } {
    const t = this.times;
    const g: number[] = [];
    let max = 0;
    let maxAt = 0;
    for (let i = 1; i < t.length; i++) {
      const d = t[i]! - t[i - 1]!;
      g.push(d);
      if (d > max) {
        max = d;
        maxAt = (t[i]! - this.startedAt) / 1000;
      }
    }
    const sorted = [...g].sort((a, b) => a - b);
    return { count: t.length, max, p999: quantile(sorted, 0.999), p99: quantile(sorted, 0.99), over: (ms) => g.filter((x) => x > ms).length, maxAt };
  }
}

export function heartbeatFilter(system: string, from: string): string {
  if (system.startsWith('keepalived')) return `ip proto 112 and src host ${from}`;
  // Corosync's knet: the token, messages and knet's link pings, all on UDP port 5405.
  if (system.startsWith('pacemaker')) return `udp and dst port 5405 and src host ${from}`;
  return `udp and dst port 694 and src host ${from}`;
}
