// The three IP media of ha.cf, as plans for UdpTransport:
//
//   ucast IF ADDR        one line per node, identical files everywhere: a node skips the line
//                        naming itself and sends one copy to each other address.
//   bcast IF             to the interface's broadcast address on udpport.
//   mcast IF GROUP PORT TTL LOOP
//
// node:dgram cannot bind to a device (no SO_BINDTODEVICE), so the interface is pinned by
// binding to one of its addresses instead. That is also what lets several daemons share a
// machine on 127.0.0.x in tests: each binds its own address on the same port.
import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import { describeLink, messageOf } from './base.js';
import { interfaceBroadcast, requireIpv4, type IfAddress, type InterfaceLister } from './interfaces.js';
import type { Transport } from './transport.js';
import { UdpTransport, type UdpPlan } from './udp-transport.js';

export interface IpMediumOptions {
  iface: string;
  /** ha.cf lines, for error messages. */
  lines: number[];
  /**
   * This node's address on the interface. When absent it is read from the interface. Tests
   * running several nodes on one machine need it: every 127.x address is local to all of them.
   */
  localAddress?: string;
  interfaces: InterfaceLister;
}

export interface UcastOptions extends IpMediumOptions {
  /** The addresses (or host names) of every `ucast IF ADDR` line of this interface. */
  addresses: string[];
  udpport: number;
}

export interface McastOptions extends IpMediumOptions {
  group: string;
  port: number;
  ttl: number;
  loop: boolean;
}

export function ucastTransport(o: UcastOptions): Transport {
  const where = describeLink('ucast', o.iface, o.lines);
  return new UdpTransport('ucast', o.iface, o.lines, async () => {
    const targets = await Promise.all(o.addresses.map((name) => resolveIpv4(name, where)));
    const own = o.localAddress ? [o.localAddress] : requireIpv4(o.interfaces(), o.iface, where).map((a) => a.address);
    const { local, peers } = ucastEnds(targets, own);
    return {
      local,
      listen: { address: local, port: o.udpport, reuseAddr: false },
      destinations: peers.map((address) => ({ address, port: o.udpport })),
      portHint: 'give this cluster another udpport in ha.cf',
    } satisfies UdpPlan;
  });
}

/**
 * Which of the ucast targets are peers, and which address we listen on: the target that is
 * ours (the line naming this node), else the interface's first address.
 */
export function ucastEnds(targets: string[], ownAddresses: string[]): { local: string; peers: string[] } {
  const own = new Set(ownAddresses);
  const local = targets.find((t) => own.has(t)) ?? ownAddresses[0];
  if (!local) throw new Error('ucastEnds: no address of our own');
  const peers = [...new Set(targets.filter((t) => !own.has(t)))];
  return { local, peers };
}

export function bcastTransport(o: IpMediumOptions & { udpport: number }): Transport {
  const where = describeLink('bcast', o.iface, o.lines);
  return new UdpTransport('bcast', o.iface, o.lines, async () => {
    const local = ownAddress(o, where);
    const broadcast = await interfaceBroadcast(o.iface, local);
    if (!broadcast) {
      throw new Error(`${where}: ${local.address}/${local.prefix} has no broadcast address; use ucast on this interface`);
    }
    return {
      local: local.address,
      // Bound to the broadcast address rather than 0.0.0.0, so it neither steals ucast
      // traffic on the same port nor hides a second daemon (that one gets EADDRINUSE).
      listen: { address: broadcast, port: o.udpport, reuseAddr: false },
      destinations: [{ address: broadcast, port: o.udpport }],
      broadcast: true,
      portHint: 'give this cluster another udpport in ha.cf',
    } satisfies UdpPlan;
  });
}

export function mcastTransport(o: McastOptions): Transport {
  const where = describeLink('mcast', o.iface, o.lines);
  return new UdpTransport('mcast', o.iface, o.lines, async () => {
    if (!isMulticast(o.group)) {
      throw new Error(`${where}: ${o.group} is not an IPv4 multicast group (224.0.0.0 to 239.255.255.255); correct the mcast line`);
    }
    const local = ownAddress(o, where).address;
    return {
      local,
      // Every node of the group listens on GROUP:PORT, so the address must be shareable.
      listen: { address: o.group, port: o.port, reuseAddr: true },
      destinations: [{ address: o.group, port: o.port }],
      prepareReceiver: (socket) => socket.addMembership(o.group, local),
      multicast: { ttl: o.ttl, loop: o.loop },
      portHint: 'choose another port in the mcast line of ha.cf',
    } satisfies UdpPlan;
  });
}

export function isMulticast(address: string): boolean {
  const first = Number(address.split('.')[0]);
  return isIPv4(address) && first >= 224 && first <= 239;
}

function ownAddress(o: IpMediumOptions, where: string): IfAddress {
  const addresses = requireIpv4(o.interfaces(), o.iface, where);
  if (!o.localAddress) return addresses[0] as IfAddress;
  const found = addresses.find((a) => a.address === o.localAddress);
  if (!found) throw new Error(`${where}: local address ${o.localAddress} is not an address of ${o.iface}`);
  return found;
}

async function resolveIpv4(name: string, where: string): Promise<string> {
  if (isIPv4(name)) return name;
  try {
    return (await lookup(name, { family: 4 })).address;
  } catch (err) {
    throw new Error(`${where}: cannot resolve ${JSON.stringify(name)} to an IPv4 address (${messageOf(err)}); write the address in ha.cf or add the name to /etc/hosts`, { cause: err });
  }
}
