// The cloud around a namespace LAN (src/lib/netns.ts), for the namespace tests and the demo:
// a host "cloud" joins the servers' LAN (.254) and the client's (.254 there too) and plays the
// provider's network: it is the servers' and the client's default gateway, holds the metadata
// service's 169.254.169.254, serves the API on its LAN address, and delivers each floating IP to
// whichever server the API says (main.ts and router.ts). So the client reaches a floating IP
// only through the cloud, as on the internet, and its requests follow the assignments.
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onOutputLines } from '../lib/lines.js';
import { inNs, type Lan } from '../lib/netns.js';
import { waitFor } from '../lib/wait.js';
import type { Fault } from './faults.js';
import type { EmulatorCommand, EmulatorConfig } from './main.js';
import type { Delivery } from './router.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.js');
export const METADATA_IP = '169.254.169.254';
export const CLOUD_HOST = 'cloud';

export interface CloudEvent {
  ev: string;
  at: number;
  [k: string]: unknown;
}

export interface CloudNetworkOptions {
  provider: 'digitalocean' | 'hetzner' | 'aws';
  /** The token the API accepts (AWS: the access key id); the emulator gets it on stdin, never as an argument. */
  token: string;
  /** Server hosts of the LAN and their ids at the provider (AWS: moto's, see `machines`). */
  machines: { host: string; id: string }[];
  /**
   * Floating IPs, the Hetzner id of each, the host each points at first (null: none), and how
   * the router delivers it (default: DNAT for DigitalOcean, a route for Hetzner; AWS: DNAT for
   * an Elastic IP, a route for a secondary private IP).
   */
  ips: { ip: string; id?: number; holder: string | null; delivery?: Delivery }[];
  /** AWS: moto's server command (findMoto()), and the secret access key that goes with `token`. */
  moto?: string[];
  awsSecret?: string;
  /** The bridge the client host is on (it must exist), and the cloud's octet on both LANs. */
  clientBridge: string;
  octet?: number;
  actionMs?: number;
}

export class CloudNetwork {
  readonly events: CloudEvent[] = [];
  /** The machines with their ids at the provider (for AWS, moto's instance ids). */
  machines: { id: string; name: string; address: string }[] = [];
  private listeners: ((e: CloudEvent) => void)[] = [];

  private constructor(
    readonly lan: Lan,
    readonly process: ChildProcess,
    /** The API's base URL, as haresources' api= option gives it. */
    readonly apiUrl: string,
  ) {
    onOutputLines(process, (line) => {
      if (!line.startsWith('{')) return;
      try {
        const e = JSON.parse(line) as CloudEvent;
        this.events.push(e);
        for (const l of this.listeners) l(e);
      } catch {
        /* a torn line */
      }
    });
  }

  static async create(lan: Lan, o: CloudNetworkOptions): Promise<CloudNetwork> {
    const octet = o.octet ?? 254;
    const router = await lan.addHost(CLOUD_HOST, octet);
    const outside = await lan.attach(CLOUD_HOST, o.clientBridge, octet, 'eth1');
    await inNs(router.ns, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    await inNs(router.ns, ['ip', 'addr', 'add', `${METADATA_IP}/32`, 'dev', 'eth0']);
    const machines = o.machines.map((m) => ({ id: m.id, name: m.host, address: lan.host(m.host).address }));
    for (const m of o.machines) await inNs(lan.host(m.host).ns, ['ip', 'route', 'replace', 'default', 'via', router.address]);
    for (const h of lan.hosts.values()) {
      if (h.bridge === o.clientBridge) await inNs(h.ns, ['ip', 'route', 'replace', 'default', 'via', outside.address]);
    }
    const idOf = (host: string | null) => (host === null ? null : (o.machines.find((m) => m.host === host)?.id ?? null));
    const cfg: EmulatorConfig = {
      provider: o.provider,
      token: o.token,
      machines,
      ips: o.ips.map((i) => ({ ip: i.ip, ...(i.id !== undefined ? { id: i.id } : {}), holder: idOf(i.holder), delivery: i.delivery ?? (o.provider === 'hetzner' ? 'route' : 'dnat') })),
      api: { host: router.address, port: 80 },
      metadata: { host: METADATA_IP, port: 80 },
      routerDev: 'eth0',
      ...(o.actionMs !== undefined ? { actionMs: o.actionMs } : {}),
      ...(o.provider === 'aws' ? { aws: { moto: o.moto ?? ['moto_server'], port: 5000, subnet: `${lan.subnet}.0/${lan.prefix}`, secretAccessKey: o.awsSecret ?? '' } } : {}),
    };
    const child = lan.spawnIn(CLOUD_HOST, [process.execPath, MAIN], { stdio: ['pipe', 'pipe', 'pipe'] });
    const net = new CloudNetwork(lan, child, `http://${router.address}`);
    child.stdin?.write(`${JSON.stringify(cfg)}\n`);
    const ready = await net.waitEvent('the cloud emulator to be ready', (e) => e.ev === 'ready' || e.ev === 'error', 0, 45_000);
    if (ready.ev === 'error') throw new Error(`cloud emulator: ${String(ready.message)}`);
    net.machines = (ready.machines as { id: string; name: string; address: string }[]) ?? [];
    return net;
  }

  onEvent(l: (e: CloudEvent) => void): void {
    this.listeners.push(l);
  }

  /**
   * Sends a command and resolves once the emulator has applied it (its "ok"): a fault sent just
   * before a kill must be in force before the survivor's first request, however busy the machine.
   */
  async send(c: EmulatorCommand, timeoutMs = 10_000): Promise<void> {
    const acked = () => this.events.filter((e) => e.ev === 'ok').length;
    const before = acked();
    this.process.stdin?.write(`${JSON.stringify(c)}\n`);
    if (c.cmd !== 'exit') await waitFor(`the cloud emulator to apply "${c.cmd}"`, () => acked() > before, { timeoutMs, pollMs: 5 });
  }

  fault(f: Fault): Promise<void> {
    return this.send({ cmd: 'fault', fault: f });
  }

  clearFaults(): Promise<void> {
    return this.send({ cmd: 'clear' });
  }

  /** The API accepts another token from now on (a revoked one, as far as the nodes know). */
  acceptToken(token: string): Promise<void> {
    return this.send({ cmd: 'token', token });
  }

  /** The first event since `after` (epoch ms) that satisfies `pred`. */
  waitEvent(what: string, pred: (e: CloudEvent) => boolean, after = 0, timeoutMs = 15_000): Promise<CloudEvent> {
    return waitFor(what, () => this.events.find((e) => e.at >= after && pred(e)), { timeoutMs, pollMs: 20 });
  }

  /** Waits until `ip` is routed to `host` (null: nowhere) after `after`; returns that event. */
  waitRouted(ip: string, host: string | null, after = 0, timeoutMs = 15_000): Promise<CloudEvent> {
    return this.waitEvent(`${ip} to be delivered to ${host ?? 'nothing'}`, (e) => e.ev === 'routed' && e.ip === ip && e.to === host, after, timeoutMs);
  }

  /** Assignments the provider recorded, in order: [ip, host name or null, epoch ms]. */
  assignments(ip?: string): { ip: string; machine: string | null; at: number }[] {
    return this.events.filter((e) => e.ev === 'assigned' && (ip === undefined || e.ip === ip)).map((e) => ({ ip: String(e.ip), machine: (e.machine as string | null) ?? null, at: e.at }));
  }

  /** API requests seen (method, path, status, whether the token was right), in order. */
  requests(): CloudEvent[] {
    return this.events.filter((e) => e.ev === 'request');
  }
}
