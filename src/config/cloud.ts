// The built-in cloud IP agents as haresources names them: which provider, which address, and
// the few options that say where the API, the metadata service and the secret are. Parsed once
// here so that check-config, hbd and the agents agree on one typed shape.
//
//   DigitalOceanIP::45.55.96.8[::OPTION=VALUE...]         a reserved (floating) IP
//   HetznerFloatingIP::4711|IP[::OPTION=VALUE...]          a floating IP, by id or address
//   AWSElasticIP::203.0.113.7|eipalloc-ID[::OPTION=VALUE...]
//   AWSSecondaryIP::10.0.1.50[/24[/eth0]][::OPTION=VALUE...]
//
// Options: token=PATH (DigitalOcean, Hetzner), credentials=PATH (AWS; without it the SDK's own
// chain: environment, ~/.aws, the instance role), region=NAME (AWS), api=URL, metadata=URL,
// timeout=DURATION (one API call). A relative PATH is relative to the configuration directory.
import { isAbsolute, join } from 'node:path';
import { isIPv4 } from 'node:net';
import { parseDuration } from './duration.js';
import { parseVip } from './vip.js';

export type CloudIpKind = 'DigitalOceanIP' | 'HetznerFloatingIP' | 'AWSElasticIP' | 'AWSSecondaryIP';
export type CloudProviderId = 'digitalocean' | 'hetzner' | 'aws';

export const CLOUD_IP_KINDS: readonly CloudIpKind[] = ['DigitalOceanIP', 'HetznerFloatingIP', 'AWSElasticIP', 'AWSSecondaryIP'];

export interface CloudIpSpec {
  kind: CloudIpKind;
  provider: CloudProviderId;
  /** What the provider calls the address: an IPv4 address, a Hetzner id or an AWS allocation id. */
  target: string;
  /** AWSSecondaryIP: the address also configured on this host (prefix and interface as given). */
  local: { ip: string; prefix: number | null; iface: string | null } | null;
  /** The file holding the API token (DigitalOcean, Hetzner) or AWS credentials; null: the AWS SDK's chain. */
  secretFile: string | null;
  /** The API's base URL (null: the provider's public one). */
  api: string | null;
  /** The metadata service's base URL. */
  metadata: string;
  /** AWS region (null: the instance's, from the metadata service). */
  region: string | null;
  /** Longest wait for one API call before it counts as failed (and may be retried). */
  callTimeoutMs: number;
}

export const METADATA_URL = 'http://169.254.169.254';
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

const PROVIDER: Record<CloudIpKind, CloudProviderId> = {
  DigitalOceanIP: 'digitalocean',
  HetznerFloatingIP: 'hetzner',
  AWSElasticIP: 'aws',
  AWSSecondaryIP: 'aws',
};

/** The token file each provider uses when `token=` is not given, in the configuration directory. */
const DEFAULT_TOKEN: Partial<Record<CloudProviderId, string>> = { digitalocean: 'digitalocean.token', hetzner: 'hetzner.token' };

const OPTIONS: Record<CloudProviderId, readonly string[]> = {
  digitalocean: ['token', 'api', 'metadata', 'timeout'],
  hetzner: ['token', 'api', 'metadata', 'timeout'],
  aws: ['credentials', 'region', 'api', 'metadata', 'timeout'],
};

const EXAMPLE: Record<CloudIpKind, string> = {
  DigitalOceanIP: 'DigitalOceanIP::45.55.96.8',
  HetznerFloatingIP: 'HetznerFloatingIP::4711',
  AWSElasticIP: 'AWSElasticIP::eipalloc-0abc1234',
  AWSSecondaryIP: 'AWSSecondaryIP::10.0.1.50/24/eth0',
};

export function isCloudIpKind(name: string): name is CloudIpKind {
  return (CLOUD_IP_KINDS as readonly string[]).includes(name);
}

export type CloudParse = { ok: true; spec: CloudIpSpec } | { ok: false; error: string };

/** The target argument, checked for the kind; returns an error text or the parts. */
function parseTarget(kind: CloudIpKind, arg: string): { target: string; local: CloudIpSpec['local'] } | string {
  switch (kind) {
    case 'DigitalOceanIP':
      return isIPv4(arg) ? { target: arg, local: null } : `"${arg}" is not an IPv4 address (DigitalOcean reserved IPs are IPv4)`;
    case 'HetznerFloatingIP':
      return /^[1-9]\d{0,18}$/.test(arg) || isIPv4(arg) ? { target: arg, local: null } : `"${arg}" is neither a floating IP id (a number) nor an IPv4 address`;
    case 'AWSElasticIP':
      return isIPv4(arg) || /^eipalloc-[0-9a-f]{8,17}$/.test(arg) ? { target: arg, local: null } : `"${arg}" is neither an Elastic IP address nor an allocation id (eipalloc-...)`;
    case 'AWSSecondaryIP': {
      const v = parseVip(arg);
      if (!v.ok) return v.error;
      if (v.vip.gateway || v.vip.broadcast) return `"${arg}": write ip[/prefix[/interface]]`;
      return { target: v.vip.ip, local: { ip: v.vip.ip, prefix: v.vip.cidr, iface: v.vip.iface } };
    }
  }
}

function checkUrl(key: string, value: string): string | null {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return `${key}=${value} is not a URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `${key}=${value}: only http: and https: URLs`;
  if (u.username || u.password) return `${key}=: a URL must not carry credentials (they would show in logs and status)`;
  return null;
}

/**
 * `name` and its `::` arguments as haresources gives them. `configDir` anchors relative paths
 * and the default token file.
 */
export function parseCloudIp(kind: CloudIpKind, args: readonly string[], configDir: string): CloudParse {
  const provider = PROVIDER[kind];
  const [first = '', ...rest] = args;
  if (!first || first.includes('=')) return { ok: false, error: `${kind} needs the address first — e.g. "${EXAMPLE[kind]}"` };
  const t = parseTarget(kind, first);
  if (typeof t === 'string') return { ok: false, error: `${kind}: ${t} — e.g. "${EXAMPLE[kind]}"` };
  const given = new Map<string, string>();
  for (const opt of rest) {
    const eq = opt.indexOf('=');
    const key = eq > 0 ? opt.slice(0, eq) : '';
    const value = eq > 0 ? opt.slice(eq + 1) : '';
    if (!OPTIONS[provider].includes(key)) {
      return { ok: false, error: `${kind}: unknown option "${opt.slice(0, 40)}" — options are ${OPTIONS[provider].map((o) => `${o}=...`).join(', ')}` };
    }
    if (!value) return { ok: false, error: `${kind}: option ${key}= has no value` };
    if (given.has(key)) return { ok: false, error: `${kind}: option ${key}= is given twice` };
    given.set(key, value);
  }
  for (const key of ['api', 'metadata'] as const) {
    const v = given.get(key);
    const bad = v === undefined ? null : checkUrl(key, v);
    if (bad) return { ok: false, error: `${kind}: ${bad}` };
  }
  let callTimeoutMs = DEFAULT_CALL_TIMEOUT_MS;
  const timeout = given.get('timeout');
  if (timeout !== undefined) {
    const ms = parseDuration(timeout);
    if (ms === null || ms < 100 || ms > 300_000) return { ok: false, error: `${kind}: timeout=${timeout} must be a time from 100ms to 300s (e.g. timeout=5s)` };
    callTimeoutMs = ms;
  }
  const region = given.get('region') ?? null;
  if (region !== null && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) return { ok: false, error: `${kind}: region=${region} is not an AWS region name (e.g. eu-west-1)` };
  const secretName = given.get('token') ?? given.get('credentials') ?? DEFAULT_TOKEN[provider] ?? null;
  const secretFile = secretName === null ? null : isAbsolute(secretName) ? secretName : join(configDir, secretName);
  return {
    ok: true,
    spec: {
      kind,
      provider,
      ...t,
      secretFile,
      api: given.get('api')?.replace(/\/+$/, '') ?? null,
      metadata: (given.get('metadata') ?? METADATA_URL).replace(/\/+$/, ''),
      region,
      callTimeoutMs,
    },
  };
}
