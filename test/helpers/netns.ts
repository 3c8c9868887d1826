// Test hosts in network namespaces: a bridge in its own namespace, hosts joined to it by
// veth pairs. Everything created is recorded and removed by `destroy()`, also after a failure.
// Traffic stays inside these namespaces (network rule of the project).
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';

const run = promisify(execFile);

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Why namespace tests cannot run here, or null when they can. Under CI=true they must run. */
export async function netnsUnavailableReason(): Promise<string | null> {
  if (!isRoot()) return 'needs root to create network namespaces';
  try {
    await run('ip', ['-V']);
  } catch {
    return 'iproute2 (`ip`) is not installed';
  }
  return null;
}

export async function ip(args: string[]): Promise<string> {
  const { stdout } = await run('ip', args);
  return stdout;
}

export async function inNs(ns: string, argv: string[], timeoutMs = 10_000): Promise<{ stdout: string; stderr: string }> {
  const [cmd, ...rest] = argv;
  if (!cmd) throw new Error('inNs: empty argv');
  return run('ip', ['netns', 'exec', ns, cmd, ...rest], { timeout: timeoutMs });
}

export interface Host {
  name: string;
  ns: string;
  iface: string;
  address: string;
  prefix: number;
  mac: string;
}

/**
 * A small LAN: one bridge, N hosts. Names carry a random tag so parallel or leftover runs
 * never collide, and a crashed run's leftovers are recognisable (`hbt-` prefix).
 */
export class Lan {
  readonly tag = randomBytes(3).toString('hex');
  readonly bridgeNs: string;
  readonly hosts = new Map<string, Host>();
  private readonly namespaces: string[] = [];
  private readonly children = new Set<ChildProcess>();

  constructor(readonly subnet = '10.231.7', readonly prefix = 24) {
    this.bridgeNs = `hbt-${this.tag}-br`;
  }

  async create(): Promise<void> {
    await this.addNs(this.bridgeNs);
    await inNs(this.bridgeNs, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    await inNs(this.bridgeNs, ['ip', 'link', 'set', 'br0', 'up']);
    await inNs(this.bridgeNs, ['ip', 'link', 'set', 'lo', 'up']);
  }

  private async addNs(ns: string): Promise<void> {
    await ip(['netns', 'add', ns]);
    this.namespaces.push(ns);
  }

  /** Adds a host with address subnet.<octet>, interface `eth0` inside its namespace. */
  async addHost(name: string, octet: number, iface = 'eth0'): Promise<Host> {
    const ns = `hbt-${this.tag}-${name}`;
    await this.addNs(ns);
    const outer = `v${this.tag}${octet}`.slice(0, 15);
    // Create the pair inside the host's namespace, then move the outer end to the bridge.
    await inNs(ns, ['ip', 'link', 'add', iface, 'type', 'veth', 'peer', 'name', outer]);
    await inNs(ns, ['ip', 'link', 'set', outer, 'netns', this.bridgeNs]);
    await inNs(this.bridgeNs, ['ip', 'link', 'set', outer, 'master', 'br0']);
    await inNs(this.bridgeNs, ['ip', 'link', 'set', outer, 'up']);
    const address = `${this.subnet}.${octet}`;
    await inNs(ns, ['ip', 'addr', 'add', `${address}/${this.prefix}`, 'dev', iface]);
    await inNs(ns, ['ip', 'link', 'set', iface, 'up']);
    await inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
    const link = JSON.parse((await inNs(ns, ['ip', '-json', 'link', 'show', 'dev', iface])).stdout) as { address: string }[];
    const host: Host = { name, ns, iface, address, prefix: this.prefix, mac: link[0]?.address ?? '' };
    this.hosts.set(name, host);
    return host;
  }

  host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /** Sets a host's link down or up (the outer end at the bridge: like pulling the cable). */
  async setCable(name: string, up: boolean): Promise<void> {
    const h = this.host(name);
    const octet = h.address.split('.').pop();
    const outer = `v${this.tag}${octet}`.slice(0, 15);
    await inNs(this.bridgeNs, ['ip', 'link', 'set', outer, up ? 'up' : 'down']);
  }

  /** Spawns a process inside a host's namespace; it is killed (by PID) in destroy(). */
  spawnIn(name: string, argv: string[], opts: SpawnOptions = {}): ChildProcess {
    const h = this.host(name);
    const [cmd, ...rest] = argv;
    if (!cmd) throw new Error('spawnIn: empty argv');
    const child = spawn('ip', ['netns', 'exec', h.ns, cmd, ...rest], { stdio: 'pipe', ...opts });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  async destroy(): Promise<void> {
    for (const child of this.children) {
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    this.children.clear();
    // Processes started by tests in a namespace without our handle (daemonised ones) are
    // found by namespace and ended by PID, so deleting the namespace leaves nothing behind.
    for (const ns of [...this.namespaces].reverse()) {
      try {
        const { stdout } = await run('ip', ['netns', 'pids', ns]);
        for (const pid of stdout.split(/\s+/).filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      } catch {
        /* namespace already gone */
      }
      try {
        await run('ip', ['netns', 'delete', ns]);
      } catch {
        /* already gone */
      }
    }
    this.namespaces.length = 0;
  }
}

/** Runs `fn` with a fresh LAN and always destroys it. */
export async function withLan<T>(fn: (lan: Lan) => Promise<T>, subnet?: string): Promise<T> {
  const lan = new Lan(subnet);
  try {
    await lan.create();
    return await fn(lan);
  } finally {
    await lan.destroy();
  }
}

/**
 * Skip reason for a test that needs namespaces; under CI=true a missing capability is a
 * failure, not a skip (the project's rule), so this throws there.
 */
export async function netnsSkip(): Promise<string | false> {
  const reason = await netnsUnavailableReason();
  if (!reason) return false;
  if (process.env.CI === 'true') throw new Error(`CI=true but network namespace tests cannot run: ${reason}`);
  console.log(`# skipped: ${reason}`);
  return reason;
}
