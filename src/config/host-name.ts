// Host names as the HTTP API compares them (ha.cf `http_allowed_hosts`, the listen address,
// a request's Host header): one spelling per host, so a comparison is a string equality.
import { isIPv4, isIPv6 } from 'node:net';

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * `name` in its one spelling: DNS names lower-cased without a trailing dot, IPv4 as written,
 * IPv6 compressed (`[::1]`, `0:0::1` and `::1` are one host), without brackets. Null when
 * `name` is neither a DNS name nor an IP address.
 */
export function canonicalHost(name: string): string | null {
  if (name.startsWith('[')) return name.endsWith(']') && isIPv6(name.slice(1, -1)) ? canonicalIPv6(name.slice(1, -1)) : null;
  if (isIPv4(name)) return name;
  if (isIPv6(name)) return canonicalIPv6(name);
  const n = name.toLowerCase().replace(/\.$/, '');
  const labels = n.split('.');
  if (n.length === 0 || n.length > 253 || !labels.every((l) => LABEL.test(l))) return null;
  // A name ending in a number (`127.1`, `0x7f.1`, `127.0.0.1.`) is an address to a browser's
  // URL parser; refusing these spellings keeps one per host.
  if (/^(\d+|0x[0-9a-f]*)$/.test(labels[labels.length - 1] ?? '')) return null;
  return n;
}

function canonicalIPv6(address: string): string | null {
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
}
