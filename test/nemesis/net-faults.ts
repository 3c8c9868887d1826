// The nemesis's network faults on a namespace LAN (src/lib/netns.ts): impaired links (loss,
// delay, jitter, duplication, reordering, corruption), partitions, and cut media.
//
// Impairment without netem (this kernel has no sch_netem): a per-host egress link emulator.
// In the host's namespace an nft nat/output rule per peer turns UDP to PEER:694 toward the
// host's own address on a relay port; a relay process (link-relay.ts) sends each datagram on
// to PEER:694 from the host's own address and the relay's send port, which the rules leave
// alone so nothing loops. Measured on this kernel: a DNAT to the host's own (non-127)
// address in the output hook is rerouted to local delivery as is, no route_localnet nor a
// dedicated address needed; broadcast destinations are DNATed the same way. The copies still
// cross the real veth and bridge, so the partition rules below apply to them too.
//
// Conntrack: NAT is bound to a flow, normally on its first packet. Measured here with a
// one-way flow from a fixed port (as hbd's send socket makes; nobody answers it): a table
// added mid-flow did catch its next packets, and deleting the table sent them direct again
// at once (the kernel drops NAT bindings when a nat hook goes away). Still, install the
// emulator before hbd starts and keep it for the cluster's life, in pass-through when no
// impairment is set: nothing then depends on those conntrack details.
import { inNs, type Lan } from '../../src/lib/netns.js';
import { derive } from '../../src/sim/prng.js';
import { isPassThrough, readImpairment, type Impairment } from './impairment.js';
import { RelayClient } from './relay-client.js';
import type { CounterReport, RelayLine, RelaySpec, RelayTarget } from './relay-protocol.js';

export type { Impairment } from './impairment.js';
export type { CounterReport } from './relay-protocol.js';

const LINK_TABLE = 'nemesis_link';
const PART_TABLE = 'nemesis_part';
/** The relay sends from here, and listens on RELAY_BASE + the target's index. */
const SEND_PORT = 7999;
const RELAY_BASE = 7000;

/** Runs nft commands in one namespace as one atomic batch (`;` is nft's own separator). */
export async function nft(ns: string, commands: string[][]): Promise<string> {
  const argv = commands.flatMap((c, i) => (i === 0 ? c : [';', ...c]));
  return (await inNs(ns, ['nft', ...argv])).stdout;
}

/** Deletes a table if it is there: adding an existing table is no error, so add, then delete. */
async function dropTable(ns: string, family: string, table: string): Promise<void> {
  await nft(ns, [
    ['add', 'table', family, table],
    ['delete', 'table', family, table],
  ]);
}

export interface EmulatorOptions {
  /** The host's interfaces whose traffic to the peers is impaired (default: its first). */
  ifaces?: string[];
  /** Also each interface's broadcast address (bcast media): one fate for all receivers. */
  broadcast?: boolean;
  /** Heartbeat port (default 694). */
  udpPort?: number;
}

/** Which of an emulator's links a set() applies to (default: all). */
export interface LinkSelector {
  peers?: string[];
  ifaces?: string[];
}

function broadcastOf(address: string, prefix: number): string {
  const n = address.split('.').reduce((a, o) => (a << 8) | Number(o), 0) >>> 0;
  const b = (n | (prefix >= 32 ? 0 : 0xffffffff >>> prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (b >>> s) & 255).join('.');
}

function targetsOf(lan: Lan, host: string, peers: string[], o: EmulatorOptions): RelayTarget[] {
  const port = o.udpPort ?? 694;
  const ifaces = o.ifaces ?? [lan.link(host).iface];
  const out: RelayTarget[] = [];
  const add = (id: string, from: string, to: string, broadcast: boolean): void => {
    out.push({ id, listen: { address: from, port: RELAY_BASE + out.length }, to: { address: to, port }, from, broadcast });
  };
  for (const iface of ifaces) {
    const own = lan.link(host, iface);
    for (const peer of peers) {
      if (peer === host) throw new Error(`LinkEmulator: ${host} cannot be its own peer`);
      add(`${peer}@${iface}`, own.address, lan.link(peer, iface).address, false);
    }
    if (o.broadcast) add(`broadcast@${iface}`, own.address, broadcastOf(own.address, own.prefix), true);
  }
  return out;
}

/**
 * A host's egress link emulator: see the top of this file. The relay is a process in the
 * host's namespace, so whatever kills every process there (NsCluster.powerOff, killAllIn)
 * kills it too, and the rules then send the host's heartbeats nowhere: call ensureRunning()
 * when the host is back (before hbd starts), as a real cable would still be there.
 */
export class LinkEmulator {
  /** Impairments in force, by target: what a restarted relay is given again. */
  private readonly settings = new Map<string, Impairment>();
  private generation = 0;

  private constructor(
    readonly lan: Lan,
    readonly host: string,
    private readonly spec: RelaySpec,
    private relay: RelayClient,
  ) {}

  /**
   * Starts the relay in `host`'s namespace, then turns the host's heartbeats to `peers` (host
   * names) toward it. Pass-through until set().
   */
  static async install(lan: Lan, host: string, peers: string[], seed: number, opts: EmulatorOptions = {}): Promise<LinkEmulator> {
    const spec: RelaySpec = { seed: seed >>> 0, sendPort: SEND_PORT, targets: targetsOf(lan, host, peers, opts) };
    const relay = await RelayClient.start(lan, host, spec);
    try {
      await nft(lan.host(host).ns, [
        ['add', 'table', 'ip', LINK_TABLE],
        ['add', 'chain', 'ip', LINK_TABLE, 'out', '{', 'type', 'nat', 'hook', 'output', 'priority', '-100', ';', 'policy', 'accept', ';', '}'],
        ...spec.targets.map((t) => [
          'add', 'rule', 'ip', LINK_TABLE, 'out',
          'ip', 'daddr', t.to.address, 'udp', 'dport', String(t.to.port), 'udp', 'sport', '!=', String(SEND_PORT),
          'dnat', 'to', `${t.listen.address}:${t.listen.port}`,
        ]),
      ]);
    } catch (err) {
      await relay.stop();
      throw err;
    }
    return new LinkEmulator(lan, host, spec, relay);
  }

  get targets(): readonly RelayTarget[] {
    return this.spec.targets;
  }

  get pid(): number | undefined {
    return this.relay.pid;
  }

  get alive(): boolean {
    return this.relay.alive;
  }

  /** Target ids (`peer@iface`, `broadcast@iface`) chosen by `where`. */
  select(where: LinkSelector = {}): string[] {
    return this.spec.targets
      .filter((t) => {
        const [peer, iface] = t.id.split('@') as [string, string];
        if (where.ifaces && !where.ifaces.includes(iface)) return false;
        // Broadcast reaches every peer at once: it follows an interface, never a peer list.
        if (where.peers && (peer === 'broadcast' || !where.peers.includes(peer))) return false;
        return true;
      })
      .map((t) => t.id);
  }

  /** Impairs the selected links from now on (null: pass-through). Unset fields are 0. */
  async set(imp: Partial<Impairment> | null, where: LinkSelector = {}): Promise<void> {
    const impairment = imp === null ? null : readImpairment(imp);
    const targets = this.select(where);
    if (targets.length === 0) throw new Error(`LinkEmulator on ${this.host}: no link matches ${JSON.stringify(where)}`);
    await this.relay.control(JSON.stringify({ impairment, targets }));
    for (const t of targets) {
      if (impairment && !isPassThrough(impairment)) this.settings.set(t, impairment);
      else this.settings.delete(t);
    }
  }

  /** Every link back to pass-through. */
  async clear(): Promise<void> {
    await this.relay.control('clear');
    this.settings.clear();
  }

  /** The current relay's counters (a restarted relay counts from zero). */
  counters(): Promise<CounterReport> {
    return this.relay.counters();
  }

  /** One raw control line (relay-protocol.ts), for tests of the protocol itself. */
  control(line: string): Promise<RelayLine> {
    return this.relay.control(line);
  }

  /**
   * Starts a new relay when the old one is gone (true then), with the impairments in force.
   * Its decisions come from a new stream (seed and restart count), not a replay of the old.
   */
  async ensureRunning(): Promise<boolean> {
    if (this.relay.alive) return false;
    this.generation++;
    this.relay = await RelayClient.start(this.lan, this.host, { ...this.spec, seed: derive(this.spec.seed, this.generation) });
    for (const [t, impairment] of this.settings) await this.relay.control(JSON.stringify({ impairment, targets: [t] }));
    return true;
  }

  /**
   * Removes the rules (the host's heartbeats go direct again), then ends the relay; its
   * final counters. Copies still delayed or held are lost (counted as pending). Safe twice.
   */
  async stop(): Promise<CounterReport | null> {
    if (this.relay.alive) await dropTable(this.lan.host(this.host).ns, 'ip', LINK_TABLE).catch(() => undefined);
    return this.relay.stop();
  }
}

/** One emulator per host, each with every other host as a peer, seeds derived from `seed`. */
export async function installEmulators(lan: Lan, hosts: string[], seed: number, opts: EmulatorOptions = {}): Promise<Map<string, LinkEmulator>> {
  const out = new Map<string, LinkEmulator>();
  try {
    for (const [i, h] of hosts.entries()) {
      out.set(h, await LinkEmulator.install(lan, h, hosts.filter((p) => p !== h), derive(seed, i), opts));
    }
  } catch (err) {
    for (const em of out.values()) await em.stop().catch(() => undefined);
    throw err;
  }
  return out;
}

/** Drop every IPv4 packet from `from` arriving at `to` (on `iface` only: that medium only). */
export interface Block {
  from: string;
  to: string;
  iface?: string;
}

/** Blocks for a split into groups: every pair across groups, both ways (e.g. [[a,b],[c,d,e]]). */
export function split(groups: string[][]): Block[] {
  const out: Block[] = [];
  for (const [i, g] of groups.entries()) {
    for (const [j, h] of groups.entries()) {
      if (i !== j) for (const from of g) for (const to of h) out.push({ from, to });
    }
  }
  return out;
}

/**
 * Adds drop rules in each receiving host's input hook (table inet nemesis_part; rules add up
 * over calls). They match the sender's addresses and, since a node answers from the virtual
 * IPs it holds too, its interfaces' MACs. IP only: heartbeats are UDP, and neighbour entries
 * kept fresh let traffic resume the moment the partition heals (so a cut-off node's
 * gratuitous ARP does still reach the hosts it is cut from).
 */
export async function partition(lan: Lan, blocks: Block[]): Promise<void> {
  // Every block is checked before any rule goes in: a bad one leaves nothing half applied.
  const rules = new Map<string, string[][]>();
  for (const b of blocks) {
    if (b.from === b.to) throw new Error(`partition: ${b.from} cannot be cut from itself`);
    lan.host(b.to);
    const links = b.iface ? [lan.link(b.from, b.iface)] : lan.host(b.from).links;
    const add = links.flatMap((l) => [
      ['add', 'rule', 'inet', PART_TABLE, 'in', 'ip', 'saddr', l.address, 'counter', 'drop'],
      ['add', 'rule', 'inet', PART_TABLE, 'in', 'meta', 'nfproto', 'ipv4', 'ether', 'saddr', l.mac, 'counter', 'drop'],
    ]);
    rules.set(b.to, [...(rules.get(b.to) ?? []), ...add]);
  }
  for (const [to, add] of rules) {
    await nft(lan.host(to).ns, [
      ['add', 'table', 'inet', PART_TABLE],
      ['add', 'chain', 'inet', PART_TABLE, 'in', '{', 'type', 'filter', 'hook', 'input', 'priority', '-10', ';', 'policy', 'accept', ';', '}'],
      ...add,
    ]);
  }
}

/** Removes every partition rule on `hosts` (default: every host of the LAN). */
export async function heal(lan: Lan, hosts: string[] = [...lan.hosts.keys()]): Promise<void> {
  for (const h of hosts) await dropTable(lan.host(h).ns, 'inet', PART_TABLE);
}

/** Pulls the cables of `iface` (default: of every host that has one): that medium is dead. */
export async function cutMedium(lan: Lan, iface: string, hosts?: string[]): Promise<void> {
  for (const h of hosts ?? withIface(lan, iface)) await lan.setCable(h, false, iface);
}

export async function restoreMedium(lan: Lan, iface: string, hosts?: string[]): Promise<void> {
  for (const h of hosts ?? withIface(lan, iface)) await lan.setCable(h, true, iface);
}

function withIface(lan: Lan, iface: string): string[] {
  return [...lan.hosts.values()].filter((h) => h.links.some((l) => l.iface === iface)).map((h) => h.name);
}
