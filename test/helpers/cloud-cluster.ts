// The first seed's world with a cloud around it: primary and secondary run real hbd with a
// cloud IP agent in haresources, the client sits on a LAN of its own behind the "cloud" router
// namespace (src/emulators/network.ts), which serves the provider's API and metadata service
// and delivers the floating IP to whichever server the API says. Built on withCluster, so
// every process, namespace and file is removed afterwards and checked gone.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inNs } from '../../src/lib/netns.js';
import { CloudNetwork, type CloudNetworkOptions } from '../../src/emulators/network.js';
import { withCluster, type NsCluster, type NsClusterOptions } from './cluster.js';

export const FIP = '203.0.113.10';
export const SERVER_IDS = { primary: '3164444', secondary: '3164494' };

export interface CloudClusterOptions {
  provider: CloudNetworkOptions['provider'];
  subnet: string;
  clientSubnet: string;
  /** The haresources line's resource, given the API's URL. */
  resource: (apiUrl: string) => string;
  /** The token files' name in each node's config dir, and the token in them. */
  tokenFile: string;
  token: string;
  /** Hetzner's id of the floating IP. */
  fipId?: number;
  autoFailback?: 'on' | 'off';
  hbdArgs?: string[];
  extraHaCf?: string;
  /** Configure the floating IP on every server itself (Hetzner's setup: the address on lo). */
  fipOnServers?: boolean;
  /** The secret file's text, when it is not the token alone (AWS's credentials file). */
  secretText?: string;
  /** The addresses the cloud delivers (default: FIP, unassigned). */
  ips?: CloudNetworkOptions['ips'];
  /** AWS: moto's server command, and the secret access key the front checks signatures with. */
  moto?: string[];
  awsSecret?: string;
}

export interface CloudCluster {
  c: NsCluster;
  cloud: CloudNetwork;
}

export async function withCloudCluster<T>(o: CloudClusterOptions, fn: (w: CloudCluster) => Promise<T>): Promise<T> {
  const apiUrl = `http://${o.subnet}.254`;
  const opts: NsClusterOptions = {
    subnet: o.subnet,
    clientNet: { bridge: 'inet', subnet: o.clientSubnet },
    autoFailback: o.autoFailback ?? 'on',
    haresources: `primary ${o.resource(apiUrl)}\n`,
    ...(o.hbdArgs ? { hbdArgs: o.hbdArgs } : {}),
    ...(o.extraHaCf ? { extraHaCf: o.extraHaCf } : {}),
  };
  return withCluster(opts, async (c) => {
    for (const n of c.names) {
      const p = join(c.configDir(n), o.tokenFile);
      writeFileSync(p, o.secretText ?? `${o.token}\n`);
      chmodSync(p, 0o600);
      if (o.fipOnServers) await inNs(c.host(n).ns, ['ip', 'addr', 'add', `${FIP}/32`, 'dev', 'lo']);
    }
    const cloud = await CloudNetwork.create(c.lan, {
      provider: o.provider,
      token: o.token,
      machines: c.names.map((n) => ({ host: n, id: SERVER_IDS[n as keyof typeof SERVER_IDS] })),
      ips: o.ips ?? [{ ip: FIP, holder: null, ...(o.fipId !== undefined ? { id: o.fipId } : {}) }],
      clientBridge: 'inet',
      ...(o.moto ? { moto: o.moto } : {}),
      ...(o.awsSecret ? { awsSecret: o.awsSecret } : {}),
      actionMs: 200,
    });
    return fn({ c, cloud });
  });
}

/** Every place a secret must never show: the nodes' logs, /status, /metrics, hbd's command lines. */
export async function secretLeaks(c: NsCluster, secret: string, metricsUrl: string | null): Promise<string[]> {
  const found: string[] = [];
  for (const n of c.names) {
    if (c.logText(n).includes(secret)) found.push(`${n}: hbd's output`);
    if (c.readFile(n, 'ha-log').includes(secret)) found.push(`${n}: ha-log`);
    if (c.running(n)) {
      if (JSON.stringify(await c.status(n)).includes(secret)) found.push(`${n}: status`);
      const pid = c.hbd.get(n)?.pid;
      const { stdout: cmdline } = await inNs(c.host(n).ns, ['cat', `/proc/${pid}/cmdline`]).catch(() => ({ stdout: '' }));
      if (cmdline.includes(secret)) found.push(`${n}: hbd's command line`);
      if (metricsUrl) {
        const { stdout } = await inNs(c.host(n).ns, ['curl', '-s', '-m', '5', metricsUrl]);
        if (!stdout.includes('hbd_cloud_api_call_duration_seconds')) found.push(`${n}: /metrics did not answer with the cloud metrics`);
        if (stdout.includes(secret)) found.push(`${n}: /metrics`);
      }
    }
  }
  return found;
}
