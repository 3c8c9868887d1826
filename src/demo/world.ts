// The demo's world: a LAN of network namespaces on this machine, like the seed tutorial's
// droplets. One namespace holds a bridge; every host is a namespace joined to it by a veth
// pair, with `eth0` inside. Everything created is recorded and removed by destroy(): the
// processes (by PID), the namespaces (and with them every address and link), the files.
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DemoHost {
  name: string;
  ns: string;
  address: string;
  mac: string;
  /** The veth end on the bridge: down = the cable is pulled. */
  port: string;
}

export function inNs(ns: string, argv: string[], timeoutMs = 10_000): Promise<{ stdout: string; stderr: string }> {
  return run('ip', ['netns', 'exec', ns, ...argv], { timeout: timeoutMs });
}

export class World {
  readonly tag = randomBytes(2).toString('hex');
  readonly bridgeNs = `hbdemo-${this.tag}-lan`;
  readonly hosts = new Map<string, DemoHost>();
  readonly namespaces: string[] = [];
  readonly children = new Set<ChildProcess>();
  readonly dirs: string[] = [];
  private destroyed = false;

  constructor(readonly subnet: string) {}

  private async addNs(ns: string): Promise<void> {
    await run('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
  }

  async createLan(): Promise<void> {
    await this.addNs(this.bridgeNs);
    await inNs(this.bridgeNs, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    await inNs(this.bridgeNs, ['ip', 'link', 'set', 'br0', 'up']);
  }

  async addHost(name: string, octet: number): Promise<DemoHost> {
    const ns = `hbdemo-${this.tag}-${name}`;
    await this.addNs(ns);
    const port = `veth-${name}`.slice(0, 15);
    await inNs(ns, ['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', port]);
    await inNs(ns, ['ip', 'link', 'set', port, 'netns', this.bridgeNs]);
    await inNs(this.bridgeNs, ['ip', 'link', 'set', port, 'master', 'br0']);
    await inNs(this.bridgeNs, ['ip', 'link', 'set', port, 'up']);
    const address = `${this.subnet}.${octet}`;
    await inNs(ns, ['ip', 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    await inNs(ns, ['ip', 'link', 'set', 'eth0', 'up']);
    await inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
    const link = JSON.parse((await inNs(ns, ['ip', '-json', 'link', 'show', 'dev', 'eth0'])).stdout) as { address: string }[];
    const host: DemoHost = { name, ns, address, mac: link[0]?.address ?? '?', port };
    this.hosts.set(name, host);
    return host;
  }

  host(name: string): DemoHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  async setCable(name: string, up: boolean): Promise<void> {
    await inNs(this.bridgeNs, ['ip', 'link', 'set', this.host(name).port, up ? 'up' : 'down']);
  }

  /** Starts a foreground process in a host's namespace (`ip netns exec` execs it: same PID). */
  spawnIn(name: string, argv: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.host(name).ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** PIDs of every process in a namespace. */
  async pids(ns: string): Promise<number[]> {
    try {
      const { stdout } = await run('ip', ['netns', 'pids', ns]);
      return stdout.split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** Kills every process of a host (by PID, they are all ours: the namespace is). */
  async killAllIn(name: string): Promise<number[]> {
    const pids = await this.pids(this.host(name).ns);
    for (const pid of pids) kill(pid);
    return pids;
  }

  /** Removes everything: processes by PID, namespaces, files. Safe to call twice. */
  async destroy(): Promise<{ processes: number; namespaces: string[] }> {
    if (this.destroyed) return { processes: 0, namespaces: [] };
    this.destroyed = true;
    const pids = new Set<number>();
    for (const c of this.children) if (c.pid && c.exitCode === null && c.signalCode === null) pids.add(c.pid);
    for (const ns of this.namespaces) for (const pid of await this.pids(ns)) pids.add(pid);
    for (const pid of pids) kill(pid);
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
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
    return { processes: pids.size, namespaces: removed };
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

function liveProcess(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const until = Date.now() + timeoutMs;
  let left = pids.filter(liveProcess);
  while (left.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 25));
    left = left.filter(liveProcess);
  }
  return left;
}
