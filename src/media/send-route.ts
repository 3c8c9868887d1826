// How an IP medium sends, as plain data: the address the send socket is bound to, where the
// copies go, and the socket options. UdpTransport sets its send socket up from it, and hbd
// hands it to its address guard, which must send hbd's last words (see daemon/guard-perl.ts)
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
