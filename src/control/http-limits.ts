// Caps per client address. The global caps (connections, /events streams) keep hbd's memory
// and file descriptors bounded, but one client can fill them alone and lock the operator out;
// a cap per address leaves room for everyone else.
import { isIPv4, type Socket } from 'node:net';

/** The address a client is counted under: an IPv4 client of a dual-stack server arrives as ::ffff:a.b.c.d and is counted as a.b.c.d. */
export function clientAddress(socket: Socket): string {
  const a = socket.remoteAddress ?? 'unknown';
  return a.startsWith('::ffff:') && isIPv4(a.slice(7)) ? a.slice(7) : a;
}

/** Slots per address, at most `perAddress` held by each; an address holding none is forgotten. */
export class AddressSlots {
  private readonly held = new Map<string, number>();

  constructor(readonly perAddress: number) {}

  /** Takes a slot for `address`; false when it already holds its share. */
  take(address: string): boolean {
    const n = this.held.get(address) ?? 0;
    if (n >= this.perAddress) return false;
    this.held.set(address, n + 1);
    return true;
  }

  release(address: string): void {
    const n = (this.held.get(address) ?? 0) - 1;
    if (n > 0) this.held.set(address, n);
    else this.held.delete(address);
  }
}
