// Drives agents-runner.js inside a test host's namespace: send an action, get its AgentCall.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ResourceSpec } from '../../src/config/types.js';
import type { AgentAction, ArpSettings } from '../../src/agents/index.js';
import { inNs, type Lan } from '../../src/lib/netns.js';
import { fromRoot } from './repo.js';
import type { RunnerLine } from './agents-runner.js';

type Reply = Extract<RunnerLine, { type: 'reply' }>;

export class AgentRunner {
  readonly lines: RunnerLine[] = [];
  private nextId = 1;
  private waiters: { pred: (l: RunnerLine) => boolean; resolve: (l: RunnerLine) => void }[] = [];
  private stderr = '';

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (text) => {
      const line = JSON.parse(text) as RunnerLine;
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => (w.pred(line) ? (w.resolve(line), false) : true));
    });
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  static start(lan: Lan, host: string, arp: Partial<Record<'IPaddr' | 'IPaddr2' | 'IPv6addr', ArpSettings>> = {}): AgentRunner {
    const script = fromRoot('dist/test/helpers/agents-runner.js');
    const child = lan.spawnIn(host, [process.execPath, script], {
      env: { ...process.env, HBT_AGENTS_RUNNER: '1', HBT_AGENTS_ARP: JSON.stringify(arp) },
    });
    return new AgentRunner(child);
  }

  /** The runner's PID: its mount namespace (`ip netns exec` makes one) is where a Filesystem agent mounts. */
  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** The next line matching `pred` (including ones already received when `past`). */
  waitFor<T extends RunnerLine>(pred: (l: RunnerLine) => l is T, timeoutMs = 10_000, past = true): Promise<T> {
    const seen = past ? this.lines.find(pred) : undefined;
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`runner: no matching line in ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l as T);
        },
      });
    });
  }

  async run(spec: ResourceSpec, action: AgentAction): Promise<Reply> {
    const id = this.nextId++;
    const reply = this.waitFor((l): l is Reply => l.type === 'reply' && l.id === id);
    this.child.stdin!.write(`${JSON.stringify({ id, spec, action })}\n`);
    return reply;
  }

  /** Closes stdin (the runner ends its arpings and exits); killed by PID if it lingers. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.pid && process.kill(this.child.pid, 'SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}

export interface NsAddress {
  ifname: string;
  local: string;
  prefixlen: number;
  label: string;
}

/** Every IPv6 address configured in a namespace, with its flags (nodad, tentative...). */
export async function nsAddresses6(ns: string): Promise<{ ifname: string; local: string; prefixlen: number; flags: string[] }[]> {
  const { stdout } = await inNs(ns, ['ip', '-json', '-6', 'addr', 'show']);
  const links = JSON.parse(stdout) as { ifname: string; addr_info: Record<string, unknown>[] }[];
  return links.flatMap((l) =>
    l.addr_info.map((a) => ({
      ifname: l.ifname,
      local: String(a.local),
      prefixlen: Number(a.prefixlen),
      flags: Object.keys(a).filter((k) => a[k] === true),
    })),
  );
}

/** Every IPv4 address configured in a namespace. */
export async function nsAddresses(ns: string): Promise<NsAddress[]> {
  const { stdout } = await inNs(ns, ['ip', '-json', '-4', 'addr', 'show']);
  const links = JSON.parse(stdout) as { ifname: string; addr_info: { local: string; prefixlen: number; label?: string }[] }[];
  return links.flatMap((l) => l.addr_info.map((a) => ({ ifname: l.ifname, local: a.local, prefixlen: a.prefixlen, label: a.label ?? l.ifname })));
}

/** The MAC a namespace's neighbour table holds for `ip`, or null. */
export async function neighbourMac(ns: string, ip: string): Promise<string | null> {
  const { stdout } = await inNs(ns, ['ip', '-json', 'neigh', 'show', ip]);
  const entries = JSON.parse(stdout || '[]') as { dst: string; lladdr?: string }[];
  return entries.find((e) => e.dst === ip)?.lladdr ?? null;
}
