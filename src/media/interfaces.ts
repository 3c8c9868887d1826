// The IPv4 addresses of a network interface, as IP media need them. node:dgram cannot bind
// to a device, so an interface is always turned into one of its addresses here.
import { execFile, execFileSync } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The shape of os.networkInterfaces(); injectable so tests can describe any machine. */
export type InterfaceTable = NodeJS.Dict<os.NetworkInterfaceInfo[]>;
export type InterfaceLister = () => InterfaceTable;

export interface IfAddress {
  address: string;
  prefix: number;
}

/**
 * This machine's interfaces with their IPv4 addresses, from `ip -json -4 addr show`, carrier or
 * not. Not os.networkInterfaces(): it leaves out an interface that is not running (libuv lists
 * only those), so a node whose second heartbeat cable is unplugged refused to start ("interface
 * eth1 does not exist"); its address is there and a socket binds to it, and the medium is
 * simply dead until the cable is back, as a cut one is while hbd runs. os.networkInterfaces()
 * only where `ip` cannot answer.
 */
export const systemInterfaces: InterfaceLister = () => {
  let out: string;
  try {
    out = execFileSync('ip', ['-json', '-4', 'addr', 'show'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return os.networkInterfaces();
  }
  return fromIpJson(out);
};

type IpJsonLink = { ifname?: unknown; address?: unknown; flags?: unknown; addr_info?: { family?: unknown; local?: unknown; prefixlen?: unknown }[] };

/** `ip -json addr show` as os.networkInterfaces() shapes it (IPv4 entries only). */
export function fromIpJson(stdout: string): InterfaceTable {
  const table: InterfaceTable = {};
  const links = JSON.parse(stdout || '[]') as IpJsonLink[];
  for (const l of Array.isArray(links) ? links : []) {
    if (typeof l.ifname !== 'string') continue;
    for (const a of l.addr_info ?? []) {
      if (a.family !== 'inet' || typeof a.local !== 'string' || typeof a.prefixlen !== 'number') continue;
      (table[l.ifname] ??= []).push({
        address: a.local,
        netmask: intToIpv4(a.prefixlen === 0 ? 0 : (0xffffffff << (32 - a.prefixlen)) >>> 0),
        family: 'IPv4',
        mac: typeof l.address === 'string' ? l.address : '00:00:00:00:00:00',
        internal: Array.isArray(l.flags) && l.flags.includes('LOOPBACK'),
        cidr: `${a.local}/${a.prefixlen}`,
      });
    }
  }
  return table;
}

/** The interface's IPv4 addresses in kernel order (primary first); undefined when unknown. */
export function ipv4Addresses(table: InterfaceTable, iface: string): IfAddress[] | undefined {
  const infos = table[iface];
  if (!infos) return undefined;
  return infos
    .filter((info) => info.family === 'IPv4')
    .map((info) => ({ address: info.address, prefix: prefixOf(info) }));
}

/** Like ipv4Addresses, but an unknown interface or one without IPv4 is an error a person can act on. */
export function requireIpv4(table: InterfaceTable, iface: string, where: string): IfAddress[] {
  const addresses = ipv4Addresses(table, iface);
  if (addresses && addresses.length > 0) return addresses;
  const known = Object.keys(table).sort().join(', ') || 'none';
  const what = addresses ? `interface ${iface} has no IPv4 address` : `interface ${iface} does not exist on this node`;
  return fail(`${where}: ${what} (interfaces with addresses: ${known}); correct the interface name in ha.cf or bring the interface up with its address`);
}

function fail(message: string): never {
  throw new Error(message);
}

function prefixOf(info: os.NetworkInterfaceInfo): number {
  const fromCidr = info.cidr ? Number(info.cidr.split('/')[1]) : NaN;
  if (Number.isInteger(fromCidr)) return fromCidr;
  return info.netmask.split('.').reduce((bits, octet) => bits + popcount(Number(octet)), 0);
}

function popcount(n: number): number {
  let bits = 0;
  for (let v = n; v; v >>= 1) bits += v & 1;
  return bits;
}

export function ipv4ToInt(address: string): number {
  return address.split('.').reduce((acc, octet) => ((acc << 8) | Number(octet)) >>> 0, 0);
}

export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 0xff).join('.');
}

/** The subnet broadcast address of address/prefix; null for /31 and /32, which have none. */
export function subnetBroadcast(address: string, prefix: number): string | null {
  if (prefix >= 31) return null;
  const host = prefix === 0 ? 0xffffffff : (1 << (32 - prefix)) - 1;
  return intToIpv4((ipv4ToInt(address) | host) >>> 0);
}

/**
 * The broadcast address the kernel has for this address (what Heartbeat gets from
 * SIOCGIFBRDADDR): `ip -json addr` knows a `brd` set by hand; without iproute2 it is
 * computed from the prefix, which is what `ip addr add ... brd +` sets anyway.
 */
export async function interfaceBroadcast(iface: string, local: IfAddress): Promise<string | null> {
  try {
    const { stdout } = await run('ip', ['-json', 'addr', 'show', 'dev', iface], { timeout: 5_000 });
    const links = JSON.parse(stdout) as { addr_info?: { family?: string; local?: string; broadcast?: string }[] }[];
    for (const link of links) {
      for (const info of link.addr_info ?? []) {
        if (info.family === 'inet' && info.local === local.address && info.broadcast) return info.broadcast;
      }
    }
  } catch {
    // No iproute2 or an unexpected answer: the computed address is right for every
    // interface configured without an explicit brd.
  }
  return subnetBroadcast(local.address, local.prefix);
}
