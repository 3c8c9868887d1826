// ICMP reachability of the ping nodes (ha.cf `ping`, `ping_group`), through Debian's
// iputils-ping: one long-running `ping -n` per address, its reply lines read as they come.
// Each reply is handed to the core (core/ping.ts decides dead after `deadping` of silence).
// argv arrays only, no shell; a `ping` that exits (no route: "Network is unreachable") is
// started again after a pause, and every one is ended by PID on close. If hbd itself is killed,
// each `ping` dies of SIGPIPE at its next reply line: nothing is left running.
import { spawn, type ChildProcess } from 'node:child_process';
import type { PingNode } from '../config/types.js';
import { onOutputLines } from '../lib/lines.js';
import type { Logger } from '../lib/logger.js';

const REPLY = /^\d+ bytes from [^:]+: icmp_seq=\d+/;
const RESTART_MS = 1000;

export interface PingerOptions {
  /** One echo every this many ms (iputils needs root below 200 ms). */
  intervalMs: number;
  /** The ping program (tests may point elsewhere); default `ping` on PATH. */
  program?: string;
  log: Logger;
  /** A reply from `node` (the ping node, or the ping group an address belongs to). */
  reply: (node: string) => void;
}

/** The echo interval for a deadping: about five echoes per deadping, between 200 ms and 1 s. */
export function pingIntervalMs(deadpingMs: number): number {
  return Math.max(200, Math.min(1000, Math.floor(deadpingMs / 5)));
}

export class Pinger {
  private readonly children = new Map<string, ChildProcess>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly nodes: readonly PingNode[],
    private readonly opts: PingerOptions,
  ) {}

  start(): void {
    for (const n of this.nodes) for (const a of n.addresses) this.run(n.name, a);
  }

  private run(node: string, address: string): void {
    if (this.closed) return;
    const seconds = (this.opts.intervalMs / 1000).toFixed(3);
    const child = spawn(this.opts.program ?? 'ping', ['-n', '-i', seconds, '--', address], { stdio: ['ignore', 'pipe', 'pipe'] });
    const key = `${node}/${address}`;
    this.children.set(key, child);
    onOutputLines(child, (line) => {
      if (REPLY.test(line)) this.opts.reply(node);
    });
    child.on('error', (err) => this.opts.log.error(`ping ${address} (ping node ${node}) could not run: ${err.message}; install iputils-ping`));
    child.on('exit', () => {
      this.children.delete(key);
      if (this.closed) return;
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.run(node, address);
      }, RESTART_MS);
      this.timers.add(t);
    });
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    for (const c of this.children.values()) if (c.pid && c.exitCode === null) c.kill('SIGTERM');
    this.children.clear();
  }
}
