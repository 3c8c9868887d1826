// The argument of IPaddr/IPaddr2 in haresources: ip[/cidr[/iface[/broadcast]]].
// The second part may also be a dotted netmask (255.255.255.0) or, as in the Arch wiki
// seed, a gateway address on the VIP's subnet.
import { isIPv4 } from 'node:net';
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

export function parseVip(arg: string): VipResult {
  const parts = arg.split('/');
  const [ip, second, iface, broadcast, ...extra] = parts;
  if (!ip || !isIPv4(ip)) return { ok: false, error: `"${ip ?? ''}" is not an IPv4 address` };
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
    vip: { ip, cidr, iface: iface || null, broadcast: broadcast || null, gateway },
  };
}
