// What `ip -json addr show` says about this host, and where a virtual IP belongs on it.
// Pure functions: the commands themselves are run by ipaddr.ts.
import type { VipSpec } from '../config/types.js';
import { isIPv6 } from 'node:net';
import { ipv4ToInt, sameSubnet, sameSubnet6 } from '../config/vip.js';

export interface IpAddress {
  family: string;
  local: string;
  prefixlen: number;
  broadcast?: string;
  /** iproute2 reports the interface name when the address has no label of its own. */
  label?: string;
}

export interface IpLink {
  ifname: string;
  flags: string[];
  link_type?: string;
  address?: string;
  addr_info: IpAddress[];
}

/** Kernel limit (IFNAMSIZ - 1) for interface names and address labels. */
const LABEL_MAX = 15;

export function parseIpAddrJson(stdout: string): IpLink[] {
  const data: unknown = JSON.parse(stdout || '[]');
  if (!Array.isArray(data)) throw new Error('`ip -json addr show` did not print a list');
  return data
    .filter((l): l is Record<string, unknown> => typeof l === 'object' && l !== null && typeof (l as { ifname?: unknown }).ifname === 'string')
    .map((l) => ({
      ifname: l.ifname as string,
      flags: Array.isArray(l.flags) ? (l.flags as string[]) : [],
      link_type: typeof l.link_type === 'string' ? l.link_type : undefined,
      address: typeof l.address === 'string' ? l.address : undefined,
      addr_info: Array.isArray(l.addr_info) ? (l.addr_info as IpAddress[]) : [],
    }));
}

const inet = (link: IpLink): IpAddress[] => link.addr_info.filter((a) => a.family === 'inet');
const ofFamily = (link: IpLink, family: 4 | 6): IpAddress[] => link.addr_info.filter((a) => a.family === (family === 6 ? 'inet6' : 'inet'));
/** IPv6 addresses compare as numbers: `ip` prints them shortened, a config may not. */
const sameIp = (a: string, b: string): boolean => a === b || (typeof a === 'string' && isIPv6(a) && isIPv6(b) && sameSubnet6(a, b, 128));

/**
 * Where the virtual IP is configured, if anywhere: only on `iface` when one is named, and
 * never on a loopback device otherwise. The same address as a /32 on `lo` (an LVS-DR real
 * server's) is another host role's copy: not ours to report, remove or guard.
 */
export function findAddress(links: IpLink[], ip: string, iface: string | null): { link: IpLink; addr: IpAddress } | null {
  for (const link of links) {
    if (iface ? link.ifname !== iface : isLoopback(link)) continue;
    const addr = ofFamily(link, ip.includes(':') ? 6 : 4).find((a) => sameIp(a.local, ip));
    if (addr) return { link, addr };
  }
  return null;
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.');
}

function network(a: IpAddress): string {
  const mask = a.prefixlen === 0 ? 0 : (~0 << (32 - a.prefixlen)) >>> 0;
  return `${intToIpv4((ipv4ToInt(a.local) & mask) >>> 0)}/${a.prefixlen}`;
}

/** "eth0 10.0.0.0/24, eth1 192.168.1.0/24": for error messages a person reads. */
export function describeSubnets(links: IpLink[]): string {
  const parts = links.flatMap((l) => inet(l).map((a) => `${l.ifname} ${network(a)}`));
  return parts.length ? parts.join(', ') : 'none';
}

/** The first `IF:N` label not yet used on the interface (Heartbeat's eth0:0, eth0:1...). */
export function freeLabel(link: IpLink): string | null {
  const used = new Set(link.addr_info.map((a) => a.label).filter((l): l is string => !!l));
  for (let n = 0; n < 1024; n++) {
    const label = `${link.ifname}:${n}`;
    if (label.length > LABEL_MAX) return null;
    if (!used.has(label)) return label;
  }
  return null;
}

export interface Placement {
  link: IpLink;
  cidr: number;
  label: string | null;
  broadcast: string | null;
}

export type PlacementResult = { ok: true; placement: Placement } | { ok: false; error: string };

/**
 * The interface for a VIP: the one named, else the one whose subnet holds the VIP (or the
 * gateway hint of `IPaddr::VIP/GATEWAY`), the most specific subnet winning. The prefix length,
 * unless given, is that of the interface's address on the VIP's subnet.
 */
export function placeVip(links: IpLink[], vip: VipSpec, agent: string): PlacementResult {
  const hint = vip.gateway ?? vip.ip;
  const v6 = vip.family === 6;
  const inet = (link: IpLink): IpAddress[] => ofFamily(link, vip.family).filter((a) => !v6 || !/^fe80:/i.test(a.local) || /^fe80:/i.test(vip.ip));
  const inSubnet = (a: IpAddress): boolean => !sameIp(a.local, vip.ip) && (v6 ? isIPv6(a.local) && sameSubnet6(a.local, hint, a.prefixlen) : sameSubnet(a.local, hint, a.prefixlen));
  const describe = (ls: IpLink[]): string => (v6 ? ls.flatMap((l) => inet(l).map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`)).join(', ') || 'none' : describeSubnets(ls));
  const example = `${agent}::${vip.ip}/${vip.cidr ?? (v6 ? 64 : 24)}/IFACE`;

  let link: IpLink | undefined;
  let cidr = vip.cidr;
  if (vip.iface) {
    link = links.find((l) => l.ifname === vip.iface);
    if (!link) {
      return { ok: false, error: `interface ${vip.iface} named for ${vip.ip} does not exist here (interfaces: ${links.map((l) => l.ifname).join(', ') || 'none'})` };
    }
    if (cidr === null) {
      const own = inet(link).find(inSubnet);
      if (!own) {
        return { ok: false, error: `cannot tell the prefix length of ${vip.ip} on ${vip.iface}: no address of ${vip.iface} is on its subnet (${describe([link])}); give it as ${agent}::${vip.ip}/${v6 ? 64 : 24}/${vip.iface}` };
      }
      cidr = own.prefixlen;
    }
  } else {
    let best: { link: IpLink; addr: IpAddress } | null = null;
    for (const l of links) {
      for (const a of inet(l)) {
        if (inSubnet(a) && (!best || a.prefixlen > best.addr.prefixlen)) best = { link: l, addr: a };
      }
    }
    if (!best) {
      const what = vip.gateway ? `${vip.ip} (gateway ${vip.gateway})` : vip.ip;
      return { ok: false, error: `no interface for ${what}: it is on none of this host's subnets (${describe(links)}); name the interface: ${example}` };
    }
    link = best.link;
    cidr = cidr ?? best.addr.prefixlen;
  }
  // Labels (eth0:0) exist for IPv4 addresses only.
  return { ok: true, placement: { link, cidr, label: v6 ? null : freeLabel(link), broadcast: vip.broadcast } };
}

function isLoopback(link: IpLink): boolean {
  return link.link_type === 'loopback' || link.flags.includes('LOOPBACK');
}

/** Gratuitous ARP makes no sense where there is no ARP (loopback, NOARP devices). */
export function arpCapable(link: IpLink): boolean {
  return !isLoopback(link) && !link.flags.includes('NOARP');
}
