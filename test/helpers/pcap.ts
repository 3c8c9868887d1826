// A small reader for classic pcap files (not pcapng): enough to pull UDP payloads out of
// captures of Heartbeat traffic. Handles both byte orders, micro- and nanosecond
// timestamps, and the link types tcpdump gives on Linux: Ethernet (with 802.1Q tags),
// Linux cooked (SLL, SLL2) and raw IP. IPv4 only; fragments are skipped.
import { readFileSync } from 'node:fs';

export interface UdpDatagram {
  /** Seconds since the epoch, from the record header. */
  time: number;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  payload: Buffer;
}

const LINKTYPE_NULL = 0;
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_IPV4 = 228;
const LINKTYPE_LINUX_SLL2 = 276;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_VLAN = 0x8100;
const IPPROTO_UDP = 17;

export function readUdpDatagrams(path: string): UdpDatagram[] {
  return parsePcap(readFileSync(path));
}

export function parsePcap(file: Buffer): UdpDatagram[] {
  if (file.length < 24) throw new Error('pcap: file shorter than its global header');
  const magic = file.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && magic !== 0xd4c3b2a1 && magic !== 0x4d3cb2a1) throw new Error('pcap: not a classic pcap file');
  const nano = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const u32 = (at: number): number => (le ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const linktype = u32(20) & 0xffff;

  const out: UdpDatagram[] = [];
  for (let pos = 24; pos + 16 <= file.length; ) {
    const time = u32(pos) + u32(pos + 4) / (nano ? 1e9 : 1e6);
    const captured = u32(pos + 8);
    const frame = file.subarray(pos + 16, pos + 16 + captured);
    if (frame.length !== captured) throw new Error(`pcap: record at byte ${pos} is truncated`);
    pos += 16 + captured;
    const ip = ipv4Of(frame, linktype);
    const udp = ip && udpOf(ip);
    if (udp) out.push({ time, ...udp });
  }
  return out;
}

function ipv4Of(frame: Buffer, linktype: number): Buffer | null {
  switch (linktype) {
    case LINKTYPE_ETHERNET: {
      let at = 12;
      while (frame.length >= at + 2 && frame.readUInt16BE(at) === ETHERTYPE_VLAN) at += 4;
      return frame.length >= at + 2 && frame.readUInt16BE(at) === ETHERTYPE_IPV4 ? frame.subarray(at + 2) : null;
    }
    case LINKTYPE_LINUX_SLL:
      return frame.length >= 16 && frame.readUInt16BE(14) === ETHERTYPE_IPV4 ? frame.subarray(16) : null;
    case LINKTYPE_LINUX_SLL2:
      return frame.length >= 20 && frame.readUInt16BE(0) === ETHERTYPE_IPV4 ? frame.subarray(20) : null;
    case LINKTYPE_NULL:
      return frame.length >= 4 && (frame.readUInt32LE(0) === 2 || frame.readUInt32BE(0) === 2) ? frame.subarray(4) : null;
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
      return frame;
    default:
      throw new Error(`pcap: unsupported link type ${linktype}`);
  }
}

function udpOf(ip: Buffer): Omit<UdpDatagram, 'time'> | null {
  if (ip.length < 20 || ip[0]! >> 4 !== 4) return null;
  const headerLen = (ip[0]! & 0x0f) * 4;
  const totalLen = ip.readUInt16BE(2);
  const fragment = ip.readUInt16BE(6) & 0x3fff; // more-fragments flag or an offset
  if (ip[9] !== IPPROTO_UDP || fragment !== 0 || totalLen > ip.length || headerLen + 8 > totalLen) return null;
  const udp = ip.subarray(headerLen, totalLen);
  const udpLen = udp.readUInt16BE(4);
  if (udpLen < 8 || udpLen > udp.length) return null;
  return {
    src: ip.subarray(12, 16).join('.'),
    dst: ip.subarray(16, 20).join('.'),
    srcPort: udp.readUInt16BE(0),
    dstPort: udp.readUInt16BE(2),
    payload: Buffer.from(udp.subarray(8, udpLen)),
  };
}
