// Builds the links of a node from ha.cf: one Transport per (kind, interface), one per serial
// device. Nothing is opened here; errors found in the configuration are thrown at once.
import type { HaCf, Medium } from '../config/types.js';
import { describeLink } from './base.js';
import { requireIpv4, systemInterfaces, type InterfaceLister } from './interfaces.js';
import { serialTransport } from './serial.js';
import type { Transport } from './transport.js';
import { bcastTransport, mcastTransport, ucastTransport } from './udp.js';

export type { LinkStats, Transport, TransportKind } from './transport.js';
export { MAX_PACKET_BYTES } from './transport.js';

export interface TransportOptions {
  /**
   * This node's address for the IP media, instead of reading the interface's addresses.
   * For tests running several nodes on one machine (127.0.0.1, .2, .3: every 127.x address is
   * local to all of them). For bcast and mcast it must be an address of the interface.
   */
  localAddress?: string;
  /** Defaults to systemInterfaces (ip -json addr); tests describe other machines with it. */
  networkInterfaces?: InterfaceLister;
}

type Group =
  | { kind: 'ucast'; iface: string; addresses: string[]; lines: number[] }
  | { kind: 'bcast'; iface: string; lines: number[] }
  | { kind: 'mcast'; medium: Extract<Medium, { kind: 'mcast' }>; lines: number[] }
  | { kind: 'serial'; device: string; lines: number[] };

export function createTransports(ha: Pick<HaCf, 'media' | 'udpport' | 'baud'>, opts: TransportOptions = {}): Transport[] {
  const interfaces = opts.networkInterfaces ?? systemInterfaces;
  const groups = groupMedia(ha.media);
  const table = interfaces();
  for (const group of groups) {
    if (group.kind === 'serial') {
      if (!group.device.startsWith('/')) {
        throw new Error(`${describeLink('serial', group.device, group.lines)}: the serial device must be a full path such as /dev/ttyS0`);
      }
      continue;
    }
    const iface = group.kind === 'mcast' ? group.medium.iface : group.iface;
    requireIpv4(table, iface, describeLink(group.kind, iface, group.lines));
  }
  const common = { localAddress: opts.localAddress, interfaces };
  return groups.map((group): Transport => {
    switch (group.kind) {
      case 'ucast':
        return ucastTransport({ ...common, iface: group.iface, addresses: group.addresses, lines: group.lines, udpport: ha.udpport });
      case 'bcast':
        return bcastTransport({ ...common, iface: group.iface, lines: group.lines, udpport: ha.udpport });
      case 'mcast': {
        const { iface, group: mgroup, port, ttl, loop } = group.medium;
        return mcastTransport({ ...common, iface, group: mgroup, port, ttl, loop, lines: group.lines });
      }
      case 'serial':
        return serialTransport({ device: group.device, baud: ha.baud, lines: group.lines });
    }
  });
}

/**
 * What makes each link createTransports builds, in the same order, as words: two links with
 * the same words are the same link (a reload keeps it open), and the words name it in logs.
 */
export function linkKeys(ha: Pick<HaCf, 'media' | 'udpport' | 'baud'>): string[] {
  return groupMedia(ha.media).map((g) => {
    switch (g.kind) {
      case 'ucast':
        return `ucast ${g.iface} ${[...new Set(g.addresses)].sort().join(' ')} (port ${ha.udpport})`;
      case 'bcast':
        return `bcast ${g.iface} (port ${ha.udpport})`;
      case 'mcast':
        return `mcast ${g.medium.iface} ${g.medium.group} port ${g.medium.port} ttl ${g.medium.ttl} loop ${g.medium.loop ? 1 : 0}`;
      case 'serial':
        return `serial ${g.device} (${ha.baud} baud)`;
    }
  });
}

/**
 * One group per link, in the order of ha.cf. Heartbeat makes one medium per ucast line,
 * all named after the interface; a link is what cl_status shows and what a node's liveness
 * is tracked per, so here the lines of an interface are one link that reaches every peer.
 */
export function groupMedia(media: Medium[]): Group[] {
  const groups = new Map<string, Group>();
  for (const m of media) {
    const key = m.kind === 'serial' ? `serial ${m.device}` : `${m.kind} ${m.iface}`;
    const seen = groups.get(key);
    if (!seen) {
      groups.set(key, start(m));
      continue;
    }
    if (m.kind === 'mcast' && seen.kind === 'mcast') {
      const first = seen.medium;
      if (first.group !== m.group || first.port !== m.port || first.ttl !== m.ttl || first.loop !== m.loop) {
        throw new Error(`mcast ${m.iface} (ha.cf:${m.line}): a second, different mcast line for ${m.iface} (the first is at ha.cf:${first.line}); one interface carries one mcast group: remove one of the lines`);
      }
    }
    if (m.kind === 'ucast' && seen.kind === 'ucast') seen.addresses.push(m.address);
    seen.lines.push(m.line);
  }
  return [...groups.values()];
}

function start(m: Medium): Group {
  switch (m.kind) {
    case 'ucast':
      return { kind: 'ucast', iface: m.iface, addresses: [m.address], lines: [m.line] };
    case 'bcast':
      return { kind: 'bcast', iface: m.iface, lines: [m.line] };
    case 'mcast':
      return { kind: 'mcast', medium: m, lines: [m.line] };
    case 'serial':
      return { kind: 'serial', device: m.device, lines: [m.line] };
  }
}
