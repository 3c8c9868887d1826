// `npm run demo -- --cloud digitalocean|hetzner|aws`: the first seed as it was meant, with a
// cloud floating IP instead of a LAN virtual IP. The client sits on a network of its own behind
// a "cloud" router namespace that serves the provider's API (an emulator; moto for AWS) and
// metadata service and delivers the floating IP to whichever droplet the API says; hbd's
// built-in agent moves it, as the seed's assign-ip script did, with the token in a file.
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inNs, type Lan } from '../lib/netns.js';
import { CloudNetwork, type CloudEvent } from '../emulators/network.js';
import { findMoto } from '../emulators/moto.js';
import { say } from './output.js';

export type CloudName = 'digitalocean' | 'hetzner' | 'aws';
export const CLOUDS: readonly CloudName[] = ['digitalocean', 'hetzner', 'aws'];

/** The floating IP of the demo: a documentation address, reachable only inside the demo's namespaces. */
export const FLOATING_IP = '203.0.113.10';
export const CLIENT_BRIDGE = 'inet';
export const CLIENT_SUBNET = '10.232.1';
const IDS: Record<string, string> = { primary: '3164444', secondary: '3164494' };

interface Provider {
  title: string;
  /** The secret file in the config dir and its text for a token. */
  file: string;
  secret: (token: string) => string;
  resource: (api: string) => string;
  /** What the provider calls the address and the machines, for the demo's lines. */
  address: string;
  machine: string;
}

const PROVIDERS: Record<CloudName, Provider> = {
  digitalocean: {
    title: 'DigitalOcean (API v2 emulator: reserved IP actions, droplet metadata)',
    file: 'digitalocean.token',
    secret: (t) => `${t}\n`,
    resource: (api) => `DigitalOceanIP::${FLOATING_IP}::api=${api}`,
    address: 'reserved IP',
    machine: 'droplet',
  },
  hetzner: {
    title: 'Hetzner Cloud (API v1 emulator: floating IP actions, server metadata)',
    file: 'hetzner.token',
    secret: (t) => `${t}\n`,
    resource: (api) => `HetznerFloatingIP::${FLOATING_IP}::api=${api}`,
    address: 'floating IP',
    machine: 'server',
  },
  aws: {
    title: 'AWS (moto in server mode as EC2, an IMDSv2 metadata service)',
    file: 'aws.credentials',
    secret: (t) => `[default]\naws_access_key_id = AKIADEMO${t.slice(0, 12).toUpperCase()}\naws_secret_access_key = ${t}\n`,
    resource: (api) => `AWSElasticIP::${FLOATING_IP}::credentials=aws.credentials::api=${api}`,
    address: 'Elastic IP',
    machine: 'instance',
  },
};

export class CloudSetup {
  /** A fresh token each run, written to the nodes' files (mode 600) and never printed. */
  private readonly token = randomBytes(24).toString('hex');
  readonly p: Provider;
  net: CloudNetwork | null = null;

  constructor(readonly name: CloudName) {
    this.p = PROVIDERS[name];
  }

  get apiUrl(): string {
    return this.net?.apiUrl ?? '';
  }

  /** AWS needs moto: why the demo cannot run, or null. */
  async missing(): Promise<string | null> {
    if (this.name !== 'aws') return null;
    return (await findMoto()) ? null : 'The AWS demo needs moto (the EC2 emulator): run bash scripts/install-deps.sh first.';
  }

  /** The haresources line, given the API's address (known before the router starts). */
  haresources(routerAddress: string): string {
    return `primary ${this.p.resource(`http://${routerAddress}`)}\n`;
  }

  writeSecret(configDir: string): void {
    const path = join(configDir, this.p.file);
    writeFileSync(path, this.p.secret(this.token));
    chmodSync(path, 0o600);
  }

  /** The cloud around the LAN: router, API, metadata, delivery of the floating IP. */
  async create(lan: Lan, servers: string[]): Promise<void> {
    if (this.name === 'hetzner') {
      // Hetzner's servers configure the floating IP themselves (on lo); the cloud routes it.
      for (const n of servers) await inNs(lan.host(n).ns, ['ip', 'addr', 'add', `${FLOATING_IP}/32`, 'dev', 'lo']);
      say('world', `primary, secondary: ${FLOATING_IP}/32 on lo, as Hetzner's documentation has you configure a floating IP`);
    }
    const moto = this.name === 'aws' ? await findMoto() : null;
    const accepted = this.name === 'aws' ? `AKIADEMO${this.token.slice(0, 12).toUpperCase()}` : this.token;
    this.net = await CloudNetwork.create(lan, {
      provider: this.name,
      token: accepted,
      machines: servers.map((n) => ({ host: n, id: IDS[n] ?? '1' })),
      ips: [{ ip: FLOATING_IP, holder: null, ...(this.name === 'hetzner' ? { id: 4711 } : {}) }],
      clientBridge: CLIENT_BRIDGE,
      actionMs: this.name === 'aws' ? 0 : 500,
      ...(moto ? { moto, awsSecret: this.token } : {}),
    });
    for (const m of this.net.machines) say('cloud', `${this.p.machine} ${m.name}: id ${m.id}, address ${m.address}`);
    this.net.onEvent((e) => this.narrate(e));
  }

  /** The cloud's side of the story: API calls that change something, assignments, routing. */
  private narrate(e: CloudEvent): void {
    // What changes something: not GETs, nor EC2's Describe* (which, like every EC2 call, are POSTs).
    const op = typeof e.operation === 'string' ? e.operation : null;
    if (e.ev === 'request' && e.service === 'api' && e.method !== 'GET' && !op?.startsWith('Describe')) {
      say('cloud', `API: ${op ?? `${String(e.method)} ${String(e.path)}`} -> ${String(e.status)}${e.authorized ? '' : ' (credentials refused)'}`, e.at);
    } else if (e.ev === 'assigned') {
      say('cloud', `the ${this.p.address} ${String(e.ip)} is now assigned to ${e.machine ? `${this.p.machine} ${String(e.machine)}` : 'nothing'}`, e.at);
    } else if (e.ev === 'routed') {
      say('cloud', `router: traffic for ${String(e.ip)} now goes to ${e.to ? String(e.to) : 'nowhere'}`, e.at);
    } else if (e.ev === 'error') {
      say('cloud', `error: ${String(e.message)}`, e.at);
    }
  }
}
