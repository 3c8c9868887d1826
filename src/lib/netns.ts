// A LAN of hosts on this one machine, for the demo, the network tests and the benchmarks: one
// network namespace holds a bridge, every host is a namespace joined to it by a veth pair.
// More bridges (a second medium on its own subnet) live in that same namespace; a host
// joins one with another veth pair (attach()).
// Traffic goes only between these hosts (the project's network rule). Everything created is
// recorded and destroy() removes it, also after a failure: processes by PID (every one in
// the namespaces is ours, since we made them), the namespaces and with them every link and
// address, the temp dirs. Names carry a random tag, so parallel runs never collide and a
// crashed run's leftovers are recognisable by their prefix.
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitGone } from './proc-stat.js';
import { signalPid } from './signal.js';

const run = promisify(execFile);

/**
 * LANs not destroyed yet. A process that exits without destroying its LAN (a test file ended by
 * SIGTERM: node:test's handler exits without running the tests' finally blocks) still removes
 * it, in the exit event, synchronously: its processes by PID, its namespaces, its temp dirs.
 */
const live = new Set<Lan>();
let exitHookArmed = false;

function armExitHook(): void {
  if (exitHookArmed) return;
  exitHookArmed = true;
  process.on('exit', () => {
    for (const lan of live) lan.destroyNow();
  });
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Why namespaces cannot be made here, or null when they can. */
export async function netnsUnavailableReason(): Promise<string | null> {
  if (!isRoot()) return 'needs root to create network namespaces';
  try {
    await run('ip', ['-V']);
  } catch {
    return 'iproute2 (`ip`) is not installed';
  }
  return null;
}

/** Runs argv in namespace `ns` (`ip netns exec`); rejects when it fails. */
export function inNs(ns: string, argv: string[], timeoutMs = 10_000): Promise<{ stdout: string; stderr: string }> {
  if (argv.length === 0) throw new Error('inNs: empty argv');
  return run('ip', ['netns', 'exec', ns, ...argv], { timeout: timeoutMs });
}

/** PIDs of every process in a namespace; none when it is gone. */
export async function nsPids(ns: string): Promise<number[]> {
  try {
    const { stdout } = await run('ip', ['netns', 'pids', ns]);
    return stdout.split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Namespaces whose name starts with `prefix` (a LAN's nsPrefix: what is left of it). */
export async function namespacesStartingWith(prefix: string): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout
    .split('\n')
    .map((l) => l.split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith(prefix));
}

/** One interface of a host, joined to one bridge of the LAN. */
export interface HostLink {
  /** Its interface inside its namespace. */
  iface: string;
  address: string;
  prefix: number;
  mac: string;
  /** The other end of its veth pair, on the bridge: down = the cable is pulled. */
  port: string;
  bridge: string;
}

/** A host: its first link's fields, and every link (the first included) in `links`. */
export interface Host extends HostLink {
  name: string;
  ns: string;
  links: HostLink[];
}

/** A bridge of the LAN: br0 (the subnet given to the constructor) and any addBridge() made. */
export interface Bridge {
  name: string;
  subnet: string;
  prefix: number;
  /** Index of the bridge, in port names (the first bridge's ports keep their old names). */
  index: number;
}

export interface LanOptions {
  /** First three octets; hosts get subnet.<octet> (default 10.231.7). */
  subnet?: string;
  prefix?: number;
  /** First part of every namespace name (default hbt). */
  label?: string;
}

export class Lan {
  readonly tag = randomBytes(3).toString('hex');
  readonly subnet: string;
  readonly prefix: number;
  /** Every namespace of this LAN starts with it. */
  readonly nsPrefix: string;
  readonly bridgeNs: string;
  readonly hosts = new Map<string, Host>();
  readonly bridges = new Map<string, Bridge>();
  private readonly namespaces: string[] = [];
  private readonly children = new Set<ChildProcess>();
  private readonly dirs: string[] = [];
  private destroyed = false;

  constructor(opts: LanOptions = {}) {
    this.subnet = opts.subnet ?? '10.231.7';
    this.prefix = opts.prefix ?? 24;
    this.nsPrefix = `${opts.label ?? 'hbt'}-${this.tag}-`;
    this.bridgeNs = `${this.nsPrefix}br`;
    this.bridges.set('br0', { name: 'br0', subnet: this.subnet, prefix: this.prefix, index: 0 });
  }

  async create(): Promise<void> {
    await this.addNs(this.bridgeNs);
    await this.makeBridge('br0');
    await inNs(this.bridgeNs, ['ip', 'link', 'set', 'lo', 'up']);
  }

  private async makeBridge(name: string): Promise<void> {
    await inNs(this.bridgeNs, ['ip', 'link', 'add', name, 'type', 'bridge']);
    await inNs(this.bridgeNs, ['ip', 'link', 'set', name, 'up']);
  }

  /**
   * Adds another bridge (a second medium, say) on its own subnet, in the same bridge
   * namespace: destroy() removes it with that namespace. Hosts join it with attach().
   */
  async addBridge(name: string, subnet: string, prefix = 24): Promise<Bridge> {
    if (this.bridges.has(name)) throw new Error(`bridge ${name} already exists`);
    if (!/^[a-z][a-z0-9]{0,7}$/.test(name)) throw new Error(`bridge name ${JSON.stringify(name)}: use 1-8 lower-case letters and digits`);
    const bridge: Bridge = { name, subnet, prefix, index: this.bridges.size };
    await this.makeBridge(name);
    this.bridges.set(name, bridge);
    return bridge;
  }

  private async addNs(ns: string): Promise<void> {
    await run('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    live.add(this);
    armExitHook();
  }

  /**
   * Adds a host with address <bridge's subnet>.<octet> on `iface` inside its own namespace,
   * joined to `bridgeName` (default br0; another must exist: addBridge()).
   */
  async addHost(name: string, octet: number, iface = 'eth0', bridgeName = 'br0'): Promise<Host> {
    const ns = `${this.nsPrefix}${name}`;
    await this.addNs(ns);
    const link = await this.plug(ns, this.bridge(bridgeName), octet, iface);
    await inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
    const host: Host = { name, ns, ...link, links: [link] };
    this.hosts.set(name, host);
    return host;
  }

  /** Joins an existing host to another bridge with a new interface at <bridge's subnet>.<octet>. */
  async attach(name: string, bridgeName: string, octet: number, iface: string): Promise<HostLink> {
    const host = this.host(name);
    if (host.links.some((l) => l.iface === iface)) throw new Error(`${name} already has an interface ${iface}`);
    const link = await this.plug(host.ns, this.bridge(bridgeName), octet, iface);
    host.links.push(link);
    return link;
  }

  private async plug(ns: string, bridge: Bridge, octet: number, iface: string): Promise<HostLink> {
    // On one bridge octets are unique, and the bridge's index keeps ports of different bridges apart.
    const port = `v${this.tag}${octet}${bridge.index === 0 ? '' : `b${bridge.index}`}`.slice(0, 15);
    // The pair is made inside the host's namespace, then its outer end moves to the bridge.
    await inNs(ns, ['ip', 'link', 'add', iface, 'type', 'veth', 'peer', 'name', port]);
    await inNs(ns, ['ip', 'link', 'set', port, 'netns', this.bridgeNs]);
    await inNs(this.bridgeNs, ['ip', 'link', 'set', port, 'master', bridge.name]);
    await inNs(this.bridgeNs, ['ip', 'link', 'set', port, 'up']);
    const address = `${bridge.subnet}.${octet}`;
    await inNs(ns, ['ip', 'addr', 'add', `${address}/${bridge.prefix}`, 'dev', iface]);
    await inNs(ns, ['ip', 'link', 'set', iface, 'up']);
    const shown = JSON.parse((await inNs(ns, ['ip', '-json', 'link', 'show', 'dev', iface])).stdout) as { address: string }[];
    return { iface, address, prefix: bridge.prefix, mac: shown[0]?.address ?? '', port, bridge: bridge.name };
  }

  bridge(name: string): Bridge {
    const b = this.bridges.get(name);
    if (!b) throw new Error(`no bridge ${name}`);
    return b;
  }

  host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /** A host's link on `iface` (default: its first). */
  link(name: string, iface?: string): HostLink {
    const h = this.host(name);
    const l = iface === undefined ? h.links[0] : h.links.find((x) => x.iface === iface);
    if (!l) throw new Error(`${name} has no interface ${iface}`);
    return l;
  }

  /**
   * Sets a host's port on the bridge down or up: the cable pulled or plugged in. `iface`
   * picks which of its cables (default: its first).
   */
  async setCable(name: string, up: boolean, iface?: string): Promise<void> {
    // `ip -n` enters the namespace inside ip itself: a few ms sooner than `ip netns exec`.
    await run('ip', ['-n', this.bridgeNs, 'link', 'set', this.link(name, iface).port, up ? 'up' : 'down']);
  }

  /** Starts a process in a host's namespace (`ip netns exec` execs it: same PID). */
  spawnIn(name: string, argv: string[], opts: SpawnOptions = {}): ChildProcess {
    if (argv.length === 0) throw new Error('spawnIn: empty argv');
    const child = spawn('ip', ['netns', 'exec', this.host(name).ns, ...argv], { stdio: 'pipe', ...opts });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** PIDs of every process on a host. */
  pids(name: string): Promise<number[]> {
    return nsPids(this.host(name).ns);
  }

  /** kill -9 of every process on a host, by PID; returns them. */
  async killAllIn(name: string): Promise<number[]> {
    const pids = await this.pids(name);
    for (const pid of pids) signalPid(pid);
    return pids;
  }

  /** A temp dir that destroy() removes. */
  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  /** Removes everything this LAN made; what it removed. Safe to call twice. */
  async destroy(): Promise<{ processes: number; namespaces: string[] }> {
    if (this.destroyed) return { processes: 0, namespaces: [] };
    this.destroyed = true;
    live.delete(this);
    // Processes started without our handle (daemonised ones, a daemon's children) are found
    // by namespace, so deleting the namespaces leaves nothing running behind.
    const pids = new Set<number>(this.runningChildPids());
    for (const ns of this.namespaces) for (const pid of await nsPids(ns)) pids.add(pid);
    for (const pid of pids) signalPid(pid);
    await waitGone([...pids], 3000);
    const removed: string[] = [];
    for (const ns of [...this.namespaces].reverse()) {
      try {
        await run('ip', ['netns', 'delete', ns]);
        removed.push(ns);
      } catch {
        /* already gone */
      }
    }
    this.namespaces.length = 0;
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
    return { processes: pids.size, namespaces: removed };
  }

  /** The processes this LAN started that still run (others are found by namespace). */
  private runningChildPids(): number[] {
    return [...this.children].flatMap((c) => (c.pid && c.exitCode === null && c.signalCode === null ? [c.pid] : []));
  }

  /** destroy() for the exit event, where nothing can be awaited: SIGKILL, then the namespaces. */
  destroyNow(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    const pids = new Set<number>(this.runningChildPids());
    for (const ns of this.namespaces) {
      try {
        for (const pid of execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean)) pids.add(Number(pid));
      } catch {
        /* gone already */
      }
    }
    for (const pid of pids) signalPid(pid, 'SIGKILL');
    for (const ns of [...this.namespaces].reverse()) {
      try {
        execFileSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
      } catch {
        /* gone already */
      }
    }
    this.namespaces.length = 0;
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}

/** Runs `fn` with a fresh LAN and always destroys it. */
export async function withLan<T>(fn: (lan: Lan) => Promise<T>, opts: LanOptions = {}): Promise<T> {
  const lan = new Lan(opts);
  try {
    await lan.create();
    return await fn(lan);
  } finally {
    await lan.destroy();
  }
}
