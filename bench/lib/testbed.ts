// The benchmark's network: a bridge, server hosts (node1 = preferred owner, node2 = standby,
// ...) and a client host, each in its own network namespace (test/helpers/netns.ts), the web
// service on every server host, and the probe on the client. Everything is registered for
// cleanup; `destroy()` removes processes, namespaces (and with them every address) and files.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lan, type Host } from '../../test/helpers/netns.js';
import { onCleanup } from './cleanup.js';
import { sleep } from '../../src/lib/wait.js';
import { mono, must, run, SYSTEM_PATH } from './proc.js';

export const DIST = new URL('..', import.meta.url).pathname; // dist/bench/
export const WEB_JS = join(DIST, 'lib', 'web.js');
export const PROBE_JS = join(DIST, 'lib', 'probe.js');

export interface Line {
  t: number;
  text: string;
}

/** Collects a child's output lines with the monotonic time they arrived. */
export function collectLines(child: ChildProcess, sink: Line[], onLine?: (l: Line) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const t = mono();
      partial += chunk;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const l = { t, text: partial.slice(0, nl) };
        partial = partial.slice(nl + 1);
        if (sink.length > 200_000) sink.splice(0, 100_000);
        sink.push(l);
        onLine?.(l);
      }
    });
  }
}

export interface ProbeEvent {
  t: number;
  who: string;
}

/** The client's view: who answered on the VIP, and since when. */
export class Probe {
  readonly events: ProbeEvent[] = [];
  private waiters: (() => void)[] = [];
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
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    });
  }

  current(): ProbeEvent | null {
    return this.events[this.events.length - 1] ?? null;
  }

  /** First answer from `who` after time `after`, or null on timeout. */
  async firstAnswer(who: string, after: number, timeoutMs: number): Promise<number | null> {
    const deadline = mono() + timeoutMs;
    for (;;) {
      const e = this.events.find((x) => x.t > after && x.who === who);
      if (e) return e.t;
      const left = deadline - mono();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until `who` has answered without interruption for `forMs`. */
  async steady(who: string, forMs: number, timeoutMs: number): Promise<boolean> {
    const deadline = mono() + timeoutMs;
    while (mono() < deadline) {
      const c = this.current();
      if (c && c.who === who && mono() - c.t >= forMs && mono() - this.lastTick < 2000) return true;
      await sleep(50);
    }
    return false;
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
  const lan = new Lan(opts.subnet, 24);
  const dir = mkdtempSync(join(tmpdir(), 'hbt-bench-'));
  let destroyed = false;
  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    await lan.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  const unregister = onCleanup(`testbed ${lan.tag}`, destroy);
  await lan.create();
  const servers: Host[] = [];
  for (const [i, name] of opts.servers.entries()) servers.push(await lan.addHost(name, i + 1));
  const client = await lan.addHost('client', 200);
  const env = { ...process.env, PATH: `${SYSTEM_PATH}:${process.env.PATH ?? ''}`, LC_ALL: 'C' };
  const spawn = (host: string, argv: string[], o: SpawnOptions = {}) => lan.spawnIn(host, argv, { env, ...o });
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
    probe = new Probe(spawn('client', [process.execPath, PROBE_JS, `http://${vip}/`, '5', '100']));
  }
  const cable = (host: string) => {
    const h = lan.host(host);
    return `v${lan.tag}${h.address.split('.').pop()}`.slice(0, 15);
  };
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
      // `ip -n` switches namespace inside ip itself: a few ms faster than `ip netns exec`.
      const t0 = mono();
      await must(['ip', '-n', lan.bridgeNs, 'link', 'set', cable(host), up ? 'up' : 'down']);
      return mono() - t0;
    },
    async dropVip(host) {
      const h = lan.host(host);
      await run(['ip', '-n', h.ns, 'addr', 'del', `${vip}/24`, 'dev', h.iface]);
    },
    async waitReachable(from, to) {
      const f = lan.host(from);
      const target = lan.host(to).address;
      const until = mono() + 10_000;
      while (mono() < until) {
        if ((await run(['ip', 'netns', 'exec', f.ns, 'ping', '-c', '1', '-W', '0.2', '-q', target])).code === 0) return;
        await sleep(20);
      }
      throw new Error(`${from} cannot reach ${to}`);
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
