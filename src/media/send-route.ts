// How an IP medium sends, as plain data: the address the send socket is bound to, where the
// copies go, and the socket options. UdpTransport sets its send socket up from it, and hbd
// hands it to its address guard, which must send hbd's last words (see daemon/guard-main.ts)
// the same way after hbd itself is gone, without ha.cf or the media code.
import dgram from 'node:dgram';

export interface SendRoute {
  /** Our address on the interface: the send socket is bound to it. */
  local: string;
  destinations: { address: string; port: number }[];
  broadcast?: boolean;
  multicast?: { ttl: number; loop: boolean };
}

/** The socket options a route needs, set on a bound send socket. */
export function prepareSendSocket(socket: dgram.Socket, route: SendRoute): void {
  if (route.broadcast) socket.setBroadcast(true);
  if (route.multicast) {
    socket.setMulticastInterface(route.local);
    socket.setMulticastTTL(route.multicast.ttl);
    socket.setMulticastLoopback(route.multicast.loop);
  }
}

/** A route as received over a pipe, or null when it is not one. */
export function readSendRoute(x: unknown): SendRoute | null {
  if (typeof x !== 'object' || x === null) return null;
  const r = x as Record<string, unknown>;
  const ipv4 = (a: unknown): a is string => typeof a === 'string' && /^\d{1,3}(\.\d{1,3}){3}$/.test(a);
  if (!ipv4(r.local) || !Array.isArray(r.destinations)) return null;
  const destinations: SendRoute['destinations'] = [];
  for (const d of r.destinations as unknown[]) {
    const { address, port } = (d ?? {}) as Record<string, unknown>;
    if (!ipv4(address) || typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return null;
    destinations.push({ address, port });
  }
  const route: SendRoute = { local: r.local, destinations };
  if (r.broadcast === true) route.broadcast = true;
  const m = r.multicast as Record<string, unknown> | undefined;
  if (m && typeof m.ttl === 'number' && typeof m.loop === 'boolean') route.multicast = { ttl: m.ttl, loop: m.loop };
  return route;
}
