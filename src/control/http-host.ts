// The defence against DNS rebinding. A web page on a name its owner controls can, once the
// browser has loaded it, point that name at this server's address: the page is then
// same-origin with the API and could read /status, /metrics and /events. Its requests still
// carry the page's name in Host, so the API answers only a Host that names this server: the
// address it listens on, `localhost` when that address is a loopback one, or a name the
// operator listed (ha.cf `http_allowed_hosts`).
import { isIPv4, isIPv6 } from 'node:net';
import { canonicalHost } from '../config/host-name.js';

export interface HostPolicyOptions {
  /** The host of the listen address as configured: an IP literal, `localhost` or a name. */
  listenHost: string;
  /** The address the server is bound to. */
  boundAddress: string;
  /** ha.cf `http_allowed_hosts`. */
  allowedHosts: readonly string[];
}

export class HostPolicy {
  private readonly hosts = new Set<string>();
  /** Bound to every address (0.0.0.0, ::): any address of the host may be in Host. */
  private readonly anyAddress: boolean;

  constructor(o: HostPolicyOptions) {
    const bound = canonicalHost(o.boundAddress);
    this.anyAddress = bound === '0.0.0.0' || bound === '::';
    for (const h of [bound, canonicalHost(o.listenHost), ...o.allowedHosts.map(canonicalHost)]) if (h !== null) this.hosts.add(h);
    // `localhost` cannot be rebound: browsers resolve it to loopback themselves.
    if (this.anyAddress || (bound !== null && isLoopback(bound))) this.hosts.add('localhost');
  }

  /** Whether a request carrying this Host header may be answered. */
  allows(header: string | undefined): boolean {
    // Browsers always send Host (and node refuses an HTTP/1.1 request without one), so a
    // request without it is an HTTP/1.0 tool, not a rebound page.
    if (header === undefined) return true;
    const host = hostOf(header);
    if (host === null) return false;
    if (this.hosts.has(host)) return true;
    // An address literal cannot be rebound: a page at http://ADDRESS/ is this server's own origin.
    return this.anyAddress && (isIPv4(host) || isIPv6(host));
  }
}

/** The host of a Host header (`name`, `name:port`, `[v6]`, `[v6]:port`) in canonicalHost's spelling; null if malformed. The port is not compared: a tunnel or a port forward changes it, and a rebound page cannot choose the name. */
export function hostOf(header: string): string | null {
  const m = /^(\[[^\]]*\]|[^:[\]]*)(?::\d{1,5})?$/.exec(header.trim());
  return m?.[1] ? canonicalHost(m[1]) : null;
}

function isLoopback(address: string): boolean {
  return address === '::1' || (isIPv4(address) && address.startsWith('127.'));
}
