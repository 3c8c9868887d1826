// The argument of IPaddr/IPaddr2 in haresources: ip[/cidr[/iface[/broadcast]]].
// The second part may also be a dotted netmask (255.255.255.0) or, as in the Arch wiki
// seed, a gateway address on the VIP's subnet. IPv6 (IPv6addr, IPaddr2): ip[/prefix[/iface]].
import { isIPv4, isIPv6 } from 'node:net';
import type { VipSpec } from './types.js';

export type VipResult = { ok: true; vip: VipSpec } | { ok: false; error: string };

/** 255.255.254.0 -> 23; null when the dotted quad is not a contiguous mask. */
export function netmaskToCidr(mask: string): number | null {
  if (!isIPv4(mask)) return null;
  const n = ipv4ToInt(mask);
  // A valid mask is ones followed by zeros: its complement plus one is a power of two.
  const inv = ~n >>> 0;
  if ((inv & (inv + 1)) !== 0) return null;
  return 32 - (inv === 0 ? 0 : 32 - Math.clz32(inv));
}

export function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

export function sameSubnet(a: string, b: string, cidr: number): boolean {
  if (cidr === 0) return true;
  const mask = cidr >= 32 ? 0xffffffff : (~((1 << (32 - cidr)) - 1)) >>> 0;
  return ((ipv4ToInt(a) & mask) >>> 0) === ((ipv4ToInt(b) & mask) >>> 0);
}

const IFACE = /^[A-Za-z0-9_.:@-]{1,15}$/;

/** An IPv6 address as a 128-bit number. */
export function ipv6ToBigInt(ip: string): bigint {
  let text = ip;
  // A trailing dotted quad (::ffff:10.0.0.1) is two groups.
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const n = ipv4ToInt(quad[1] ?? '');
    text = `${text.slice(0, quad.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const a = head ? head.split(':') : [];
  const b = tail ? tail.split(':') : [];
  const groups = tail === undefined ? a : [...a, ...Array<string>(8 - a.length - b.length).fill('0'), ...b];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

export function sameSubnet6(a: string, b: string, prefix: number): boolean {
  const shift = BigInt(128 - Math.max(0, Math.min(128, prefix)));
  return ipv6ToBigInt(a) >> shift === ipv6ToBigInt(b) >> shift;
}

/** The spelling `ip` and inet_ntop print (RFC 5952): lower case, the longest run of zero groups (two or more) as `::`. */
export function canonicalIpv6(ip: string): string {
  const n = ipv6ToBigInt(ip);
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.len < 2) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

function parseVip6(arg: string): VipResult {
  const [written = '', prefix, iface, ...extra] = arg.split('/');
  const ip = canonicalIpv6(written);
  if (extra.length > 0) return { ok: false, error: `too many "/" parts in "${arg}" (an IPv6 address is written ip[/prefix[/iface]])` };
  let cidr: number | null = null;
  if (prefix !== undefined && prefix !== '') {
    if (!/^\d{1,3}$/.test(prefix) || Number(prefix) < 1 || Number(prefix) > 128) return { ok: false, error: `prefix length /${prefix} must be 1..128` };
    cidr = Number(prefix);
  }
  if (iface !== undefined && iface !== '' && !IFACE.test(iface)) return { ok: false, error: `"${iface}" is not a valid interface name` };
  if (/^::ffff:/i.test(ip) || written.includes('.')) return { ok: false, error: `${written} is an IPv4 address written as IPv6: write it as IPv4 (IPaddr::${written.replace(/^.*:/, '')})` };
  if (/^fe80:/i.test(ip) && !iface) return { ok: false, error: `${ip} is link-local: name the interface, e.g. ${ip}/64/eth0` };
  return { ok: true, vip: { ip, family: 6, cidr, iface: iface || null, broadcast: null, gateway: null } };
}

/** `families`: the address families the agent takes (IPaddr: 4; IPv6addr: 6; IPaddr2: both). */
export function parseVip(arg: string, families: readonly (4 | 6)[] = [4]): VipResult {
  const first = arg.split('/')[0] ?? '';
  if (isIPv6(first)) return families.includes(6) ? parseVip6(arg) : { ok: false, error: `"${first}" is not an IPv4 address` };
  const parts = arg.split('/');
  const [ip, second, iface, broadcast, ...extra] = parts;
  if (!ip || !isIPv4(ip)) return { ok: false, error: `"${ip ?? ''}" is not an ${families.includes(4) ? (families.includes(6) ? 'IPv4 or IPv6' : 'IPv4') : 'IPv6'} address` };
  if (!families.includes(4)) return { ok: false, error: `"${ip}" is not an IPv6 address (IPv4 addresses are IPaddr's or IPaddr2's)` };
  if (extra.length > 0) return { ok: false, error: `too many "/" parts in "${arg}" (expected ip[/cidr[/iface[/broadcast]]])` };
  let cidr: number | null = null;
  let gateway: string | null = null;
  if (second !== undefined && second !== '') {
    if (/^\d{1,2}$/.test(second)) {
      cidr = Number(second);
      if (cidr < 1 || cidr > 32) return { ok: false, error: `prefix length /${second} must be 1..32` };
    } else if (isIPv4(second)) {
      cidr = netmaskToCidr(second);
      if (cidr === null) gateway = second;
    } else {
      return { ok: false, error: `"${second}" is neither a prefix length, a netmask nor an address` };
    }
  }
  if (iface !== undefined && iface !== '' && !IFACE.test(iface)) {
    return { ok: false, error: `"${iface}" is not a valid interface name` };
  }
  if (broadcast !== undefined && broadcast !== '' && !isIPv4(broadcast)) {
    return { ok: false, error: `broadcast "${broadcast}" is not an IPv4 address` };
  }
  return {
    ok: true,
    vip: { ip, family: 4, cidr, iface: iface || null, broadcast: broadcast || null, gateway },
  };
}
