// The one small interface the daemon sees for every medium (ucast, bcast, mcast, serial).
// It is runtime-neutral on purpose: the layers above never touch a socket or a file
// descriptor, so a simulator or a test can stand in for a real link.

import type { SendRoute } from './send-route.js';

export type TransportKind = 'ucast' | 'bcast' | 'mcast' | 'serial';

export interface LinkStats {
  /** Copies handed to the OS and accepted (a ucast send to two peers counts two). */
  sent: number;
  /** Packets delivered to the packet handlers. */
  received: number;
  /** Copies refused or failed on the way out (oversize, closed, socket error, backlog full). */
  sendErrors: number;
  /** Incoming data thrown away: oversize, corrupt or truncated serial frames, line noise. */
  dropped: number;
}

export type PacketHandler = (packet: Buffer, from: string) => void;
export type ErrorHandler = (err: Error) => void;

export interface Transport {
  readonly kind: TransportKind;
  /** Heartbeat's link name as `cl_status listhblinks` shows it: the interface ("eth0") for IP media, the device path for serial. */
  readonly linkName: string;
  /** Rejects with an error that says what failed, where (interface, address, port, ha.cf line) and what to do. May be called again after close(). */
  open(): Promise<void>;
  /** To every peer this medium reaches. Never throws: failures are counted and reported through onError. */
  send(packet: Buffer): void;
  onPacket(handler: PacketHandler): void;
  onError(handler: ErrorHandler): void;
  /** Releases sockets and file descriptors; idempotent. */
  close(): Promise<void>;
  stats(): LinkStats;
  /** How an open IP medium sends, for hbd's address guard to send its last words the same way; absent or null for serial and closed links. */
  sendRoute?(): SendRoute | null;
}

/**
 * The largest packet any medium carries: the largest IPv4 UDP payload (64 KiB less the IP
 * and UDP headers). Serial links use the same limit so the layers above see one number.
 */
export const MAX_PACKET_BYTES = 65_507;
