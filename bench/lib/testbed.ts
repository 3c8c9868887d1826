// The benchmark's network: a bridge, server hosts (node1 = preferred owner, node2 = standby,
// ...) and a client host, each in its own network namespace (src/lib/netns.ts), the web
// service on every server host, and the probe on the client. Everything is registered for
// cleanup; `destroy()` removes processes, namespaces (and with them every address) and files.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { join } from 'node:path';
import { onOutputLines } from '../../src/lib/lines.js';
import { Lan, type Host } from '../../src/lib/netns.js';
import { pollUntil, Wakeup } from '../../src/lib/wait.js';
import { onCleanup } from './cleanup.js';
import { mono, must, run, SYSTEM_PATH } from './proc.js';

export const DIST = new URL('..', import.meta.url).pathname; // dist/bench/
export const WEB_JS = join(DIST, 'lib', 'web.js');
export const PROBE_JS = join(DIST, '..', 'src', 'lib', 'http-probe.js');
/** The client's probe: a request every 5 ms, each failed after 100 ms without an answer. */
const PROBE_INTERVAL_MS = 5;
const PROBE_TIMEOUT_MS = 100;
/** By this long after a moment, every request the probe sent by then has answered or failed. */
export const ANSWER_WINDOW_MS = PROBE_TIMEOUT_MS + 150;

export interface Line {
  t: number;
  text: string;
}

/** Collects a child's output lines with the monotonic time they arrived. */
export function collectLines(child: ChildProcess, sink: Line[], onLine?: (l: Line) => void): void {
  onOutputLines(child, (text) => {
    const l = { t: mono(), text };
    if (sink.length > 200_000) sink.splice(0, 100_000);
    sink.push(l);
    onLine?.(l);
  });
}

export interface ProbeEvent {
  t: number;
  who: string;
}

/** The client's view: who answered on the VIP, and since when. */
export class Probe {
  readonly events: ProbeEvent[] = [];
  private readonly answered = new Wakeup();
  lastTick = 0;
  constructor(readonly child: ChildProcess) {
    collectLines(child, [], (l) => {
      const [ns, who] = l.text.split(' ');
      if (!ns || !who) return;
      const t = Number(BigInt(ns)) / 1e6;
      if (who === '.') {
        this.lastTick = t;
        return;
      }
      this.events.push({ t, who });
      if (this.events.length > 100_000) this.events.splice(0, 50_000);
      this.answered.notify();
    });
  }

  current(): ProbeEvent | null {
    return this.events[this.events.length - 1] ?? null;
  }

  /** First answer from `who` after time `after`, or null on timeout. */
  async firstAnswer(who: string, after: number, timeoutMs: number): Promise<number | null> {
    const check = () => this.events.find((x) => x.t > after && x.who === who)?.t;
    return pollUntil(check, { timeoutMs, pollMs: 1000, wake: this.answered });
  }

  /**
   * Waits until `who` has answered without interruption for `forMs`, as seen after this call:
   * the probe prints a failure only when a request times out, so right after the VIP went away
   * its last line may still name the old owner. A once-a-second line printed at least
   * `ANSWER_WINDOW_MS` after the call comes after every failure of a request sent by then.
   */
  async steady(who: string, forMs: number, timeoutMs: number): Promise<boolean> {
    const since = mono();
    const check = () => {
      const c = this.current();
      return !!c && c.who === who && mono() - c.t >= forMs && this.lastTick >= since + ANSWER_WINDOW_MS && mono() - this.lastTick < 2000;
    };
    return (await pollUntil(check, { timeoutMs, pollMs: 50 })) ?? false;
  }
}

export interface Testbed {
  lan: Lan;
  dir: string;
  vip: string;
  prefix: number;
  servers: Host[];
  client: Host;
  probe: Probe;
  /** The interface of `host` at the bridge (pull it to cut the host's link). */
  cable(host: string): string;
  setCable(host: string, up: boolean): Promise<number>;
  /** Removes the VIP from a host if it is there (a crashed owner's leftover). */
  dropVip(host: string): Promise<void>;
  hasVip(host: string): Promise<boolean>;
  /** Waits until `from` gets an answer from `to` (ping), at most 10 s. */
  waitReachable(from: string, to: string): Promise<void>;
  /** Drops what the host's kernel still queues for sending (link down and up again). */
  flushHost(host: string): Promise<void>;
  spawn(host: string, argv: string[], opts?: SpawnOptions): ChildProcess;
  destroy(): Promise<void>;
}

export async function createTestbed(opts: { subnet: string; servers: string[]; probe?: boolean; web?: boolean; vipOctet?: number }): Promise<Testbed> {
  // BENCH_LABEL: the namespaces' name prefix (default hbt), to keep runs on a shared machine apart.
  const lan = new Lan({ subnet: opts.subnet, prefix: 24, label: process.env.BENCH_LABEL ?? 'hbt' });
  const dir = lan.tempDir('hbt-bench-');
  const unregister = onCleanup(`testbed ${lan.tag}`, async () => void (await lan.destroy()));
  await lan.create();
  const servers: Host[] = [];
  for (const [i, name] of opts.servers.entries()) servers.push(await lan.addHost(name, i + 1));
  const client = await lan.addHost('client', 200);
  const env = { ...process.env, PATH: `${SYSTEM_PATH}:${process.env.PATH ?? ''}`, LC_ALL: 'C' };
  // A caller's env adds to the testbed's (the PATH with sbin, the C locale).
  const spawn = (host: string, argv: string[], o: SpawnOptions = {}) => lan.spawnIn(host, argv, { ...o, env: { ...env, ...o.env } });
  const vip = `${opts.subnet}.${opts.vipOctet ?? 100}`;

  // Many short connections: widen the client's port range, reuse TIME_WAIT ports.
  await must(['ip', 'netns', 'exec', client.ns, 'sysctl', '-q', '-w', 'net.ipv4.ip_local_port_range=1024 65000']);
  await must(['ip', 'netns', 'exec', client.ns, 'sysctl', '-q', '-w', 'net.ipv4.tcp_tw_reuse=1']);

  if (opts.web !== false) {
    for (const s of servers) {
      const w = spawn(s.name, [process.execPath, WEB_JS, s.name, '80']);
      await new Promise<void>((resolve, reject) => {
        w.stdout?.once('data', () => resolve());
        w.once('exit', (c) => reject(new Error(`web server on ${s.name} exited (${c})`)));
      });
    }
  }
  let probe: Probe | null = null;
  if (opts.probe !== false) {
    probe = new Probe(spawn('client', [process.execPath, PROBE_JS, `http://${vip}/`, String(PROBE_INTERVAL_MS), String(PROBE_TIMEOUT_MS), '--changes']));
  }
  const cable = (host: string) => lan.host(host).port;
  return {
    lan,
    dir,
    vip,
    prefix: 24,
    servers,
    client,
    probe: probe ?? (null as unknown as Probe),
    cable,
    async setCable(host, up) {
      const t0 = mono();
      await lan.setCable(host, up);
      return mono() - t0;
    },
    async dropVip(host) {
      const h = lan.host(host);
      await run(['ip', '-n', h.ns, 'addr', 'del', `${vip}/24`, 'dev', h.iface]);
    },
    async waitReachable(from, to) {
      const f = lan.host(from);
      const target = lan.host(to).address;
      const ping = async () => (await run(['ip', 'netns', 'exec', f.ns, 'ping', '-c', '1', '-W', '0.2', '-q', target])).code === 0;
      if (!(await pollUntil(ping, { timeoutMs: 10_000, pollMs: 20 }))) throw new Error(`${from} cannot reach ${to}`);
    },
    async flushHost(host) {
      const h = lan.host(host);
      await must(['ip', '-n', h.ns, 'link', 'set', h.iface, 'down']);
      await must(['ip', '-n', h.ns, 'neigh', 'flush', 'all']);
      await must(['ip', '-n', h.ns, 'link', 'set', h.iface, 'up']);
    },
    async hasVip(host) {
      const h = lan.host(host);
      const r = await run(['ip', '-n', h.ns, '-o', '-4', 'addr', 'show', 'dev', h.iface]);
      return r.stdout.includes(` ${vip}/`);
    },
    spawn,
    async destroy() {
      await unregister();
    },
  };
}
