#!/usr/bin/env node
// A cloud emulator as a process, for the namespace tests and the demo: started inside the
// "cloud" router namespace, it serves the provider's API and metadata service on that
// namespace's addresses and points each floating IP's traffic at the machine it is assigned to.
//
// It reads its configuration as the first line of stdin (JSON: the token must not be a process
// argument), then commands, one JSON object a line:
//   {"cmd":"fault","fault":{...}}   add a fault (faults.ts)      {"cmd":"clear"}  remove them
//   {"cmd":"token","token":"..."}   accept another token          {"cmd":"exit"}
// and reports on stdout, one JSON object a line: {"ev":"ready",...}, {"ev":"request",...},
// {"ev":"assigned","ip","machine","at"} (the provider recorded it), {"ev":"routed","ip","to","at"}
// (the router delivers it there now), {"ev":"error","message"}.
import { createInterface } from 'node:readline';
import { AwsEmulator } from './aws.js';
import type { EmulatedCloud, Listen, Machine } from './api-server.js';
import { DigitalOceanEmulator } from './digitalocean.js';
import type { Fault } from './faults.js';
import { HetznerEmulator } from './hetzner.js';
import { startMoto } from './moto.js';
import { CloudRouter, type Delivery } from './router.js';

export interface EmulatorConfig {
  provider: 'digitalocean' | 'hetzner' | 'aws';
  token: string;
  machines: Machine[];
  /** Each floating IP, its Hetzner id, the machine (by id) it points at first, and how it is delivered. */
  ips: { ip: string; id?: number; holder: string | null; delivery: Delivery }[];
  api: Listen;
  metadata: Listen;
  /** The router's interface towards the machines; null: no routing (API only). */
  routerDev: string | null;
  /** How long an assign action runs before it takes effect. */
  actionMs?: number;
  /**
   * AWS: how to run moto's server (argv; it gets `-H 127.0.0.1 -p PORT`), and the VPC subnet.
   * The machines' ids are moto's instance ids (reported in "ready"); `token` is the access key
   * id the API accepts, `secretAccessKey` its secret (signatures are checked with it). Elastic
   * IPs are the `dnat` ips, secondary private IPs the `route` ones.
   */
  aws?: { moto: string[]; port: number; subnet: string; secretAccessKey: string };
}

export type EmulatorCommand = { cmd: 'fault'; fault: Fault } | { cmd: 'clear' } | { cmd: 'token'; token: string } | { cmd: 'exit' };

const emit = (ev: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ ...ev, at: Date.now() })}\n`);

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const lines = createInterface({ input: process.stdin });
  const it = lines[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) throw new Error('no configuration on stdin');
  const cfg = JSON.parse(first.value) as EmulatorConfig;
  const router = cfg.routerDev ? new CloudRouter(cfg.routerDev) : null;
  const delivery = new Map(cfg.ips.map((i) => [i.ip, i.delivery]));
  const route = (ip: string, m: Machine | null): void => {
    if (!router) return;
    router.point(ip, m?.address ?? null, delivery.get(ip) ?? 'dnat').then(
      () => emit({ ev: 'routed', ip, to: m?.name ?? null }),
      (err: unknown) => emit({ ev: 'error', message: `routing ${ip}: ${(err as Error).message}` }),
    );
  };
  const hooks = {
    request: (r: object) => emit({ ev: 'request', ...r }),
    assigned: (ip: string, m: Machine | null) => {
      emit({ ev: 'assigned', ip, machine: m?.name ?? null, id: m?.id ?? null });
      route(ip, m);
    },
  };
  const emu: EmulatedCloud =
    cfg.provider === 'aws'
      ? await startAws(cfg, hooks)
      : cfg.provider === 'digitalocean'
      ? new DigitalOceanEmulator({ token: cfg.token, droplets: cfg.machines, ips: cfg.ips.map((i) => ({ ip: i.ip, droplet: i.holder })), ...(cfg.actionMs !== undefined ? { actionMs: cfg.actionMs } : {}) }, hooks)
      : new HetznerEmulator({ token: cfg.token, servers: cfg.machines, ips: cfg.ips.map((i) => ({ ip: i.ip, id: i.id ?? 1, server: i.holder })), ...(cfg.actionMs !== undefined ? { actionMs: cfg.actionMs } : {}) }, hooks);
  for (const i of cfg.ips) route(i.ip, i.holder ? emu.machineById(i.holder) : null);
  const ports = await emu.listen(cfg.api, cfg.metadata);
  emit({ ev: 'ready', ...ports, machines: emu.machines });
  for (;;) {
    const next = await it.next();
    if (next.done) break;
    let c: EmulatorCommand;
    try {
      c = JSON.parse(next.value) as EmulatorCommand;
    } catch {
      emit({ ev: 'error', message: 'a command line that is not JSON' });
      continue;
    }
    if (c.cmd === 'fault') emu.fault(c.fault);
    else if (c.cmd === 'clear') emu.faults.clear();
    else if (c.cmd === 'token') emu.token = c.token;
    else if (c.cmd === 'exit') break;
    emit({ ev: 'ok', cmd: c.cmd });
  }
  await emu.close();
}

/** moto in server mode on the router's loopback, then the EC2 world made in it. */
async function startAws(cfg: EmulatorConfig, hooks: ConstructorParameters<typeof AwsEmulator>[1]): Promise<AwsEmulator> {
  const a = cfg.aws;
  if (!a) throw new Error('provider aws needs the "aws" settings');
  const { url } = await startMoto(a.moto, a.port);
  const emu = new AwsEmulator(
    {
      motoUrl: url,
      accessKeyId: cfg.token,
      secretAccessKey: a.secretAccessKey,
      hosts: cfg.machines.map((m) => ({ name: m.name, address: m.address })),
      subnet: a.subnet,
      elasticIps: cfg.ips.filter((i) => i.delivery === 'dnat').map((i) => i.ip),
      secondaryIps: cfg.ips.filter((i) => i.delivery === 'route').map((i) => i.ip),
    },
    hooks,
  );
  await emu.setup();
  return emu;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    emit({ ev: 'error', message: (err as Error).message });
    process.exit(1);
  },
);
