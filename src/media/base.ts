// What every medium shares: handler lists, counters, and the rule that nothing a peer sends
// and nothing a handler does may throw into the socket or tty callbacks (an exception there
// would take the whole daemon down, and with it every other link).
import type { ErrorHandler, LinkStats, PacketHandler, Transport, TransportKind } from './transport.js';
import { MAX_PACKET_BYTES } from './transport.js';

export abstract class TransportBase implements Transport {
  private readonly packetHandlers: PacketHandler[] = [];
  private readonly errorHandlers: ErrorHandler[] = [];
  protected readonly counters: LinkStats = { sent: 0, received: 0, sendErrors: 0, dropped: 0 };

  constructor(
    readonly kind: TransportKind,
    readonly linkName: string,
    /** ha.cf lines this medium comes from, for error messages. */
    protected readonly lines: number[],
  ) {}

  /** open() and close() run one after the other, in the order they were called. */
  private lifecycle: Promise<void> = Promise.resolve();

  abstract send(packet: Buffer): void;
  /** True while sockets or the tty are held. */
  protected abstract get isOpen(): boolean;
  /** Acquires sockets or the tty; on failure releases what it took and rejects. */
  protected abstract start(): Promise<void>;
  /** Releases everything start() took, if anything; must not fail. */
  protected abstract stop(): Promise<void>;

  open(): Promise<void> {
    return this.inTurn(async () => {
      if (!this.isOpen) await this.start();
    });
  }

  close(): Promise<void> {
    return this.inTurn(() => this.stop());
  }

  private inTurn(step: () => Promise<void>): Promise<void> {
    const done = this.lifecycle.then(step);
    this.lifecycle = done.catch(() => undefined);
    return done;
  }

  onPacket(handler: PacketHandler): void {
    this.packetHandlers.push(handler);
  }

  onError(handler: ErrorHandler): void {
    this.errorHandlers.push(handler);
  }

  stats(): LinkStats {
    return { ...this.counters };
  }

  /** "ucast eth0 (ha.cf:12,13)": the prefix of every message this medium writes. */
  protected get where(): string {
    return describeLink(this.kind, this.linkName, this.lines);
  }

  protected deliver(packet: Buffer, from: string): void {
    if (packet.length > MAX_PACKET_BYTES) {
      this.counters.dropped++;
      return;
    }
    this.counters.received++;
    for (const handler of this.packetHandlers) {
      try {
        handler(packet, from);
      } catch (err) {
        this.report(new Error(`${this.where}: a packet handler threw: ${messageOf(err)}`, { cause: err }));
      }
    }
  }

  /** Refuses what no medium can carry; true when the packet may go. */
  protected admit(packet: Buffer): boolean {
    if (packet.length <= MAX_PACKET_BYTES) return true;
    this.sendFailed(
      new Error(`${this.where}: packet of ${packet.length} bytes not sent: the limit is ${MAX_PACKET_BYTES} bytes`),
    );
    return false;
  }

  protected sendFailed(err: Error): void {
    this.counters.sendErrors++;
    this.report(err);
  }

  protected report(err: Error): void {
    for (const handler of this.errorHandlers) {
      try {
        handler(err);
      } catch {
        // An error handler that fails has nobody left to tell.
      }
    }
  }
}

/** "ucast eth0 (ha.cf:12,13)": how every message names a medium. */
export function describeLink(kind: string, linkName: string, lines: number[]): string {
  const known = lines.filter((n) => n > 0);
  return `${kind} ${linkName}${known.length ? ` (ha.cf:${known.join(',')})` : ''}`;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
