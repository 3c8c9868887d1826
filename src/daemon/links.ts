// The heartbeat media of a running daemon, each open transport with the words that make it
// (media/index.ts linkKeys), so that a reload can keep the links that did not change open,
// close the removed ones and open the added ones, or, when an added one cannot open, put
// everything back as it was.
import type { HaCf } from '../config/types.js';
import { createTransports, linkKeys, type Transport, type TransportOptions } from '../media/index.js';

export interface Link {
  key: string;
  transport: Transport;
}

/** What a new ha.cf does to the links. */
export interface LinkChange {
  kept: Link[];
  added: Link[];
  removed: Link[];
}

export class Links {
  private links: Link[] = [];

  /** `attach`: the daemon's packet and error handlers, put on every transport before it opens. */
  constructor(
    private readonly attach: (t: Transport) => void,
    private readonly opts: TransportOptions,
  ) {}

  get transports(): Transport[] {
    return this.links.map((l) => l.transport);
  }

  /** The link names the core tracks each peer's liveness on (one per interface or device). */
  names(): string[] {
    return [...new Set(this.transports.map((t) => t.linkName))];
  }

  /** At start: every medium of ha.cf, opened in order. */
  async openAll(ha: HaCf): Promise<void> {
    this.links = this.build(ha);
    for (const l of this.links) {
      this.attach(l.transport);
      await l.transport.open();
    }
  }

  /** What `ha` keeps, adds and removes. Throws, as createTransports does, on media that cannot be built here. */
  changeFor(ha: HaCf): LinkChange {
    const next = this.build(ha);
    const now = new Set(this.links.map((l) => l.key));
    const wanted = new Set(next.map((l) => l.key));
    return {
      kept: this.links.filter((l) => wanted.has(l.key)),
      added: next.filter((l) => !now.has(l.key)),
      removed: this.links.filter((l) => !wanted.has(l.key)),
    };
  }

  /**
   * Closes the removed links, then opens the added ones (a changed link binds what the old one
   * bound). When one cannot open, the added ones are closed again, the removed ones reopened,
   * and the error is thrown: the links are as they were.
   */
  async apply(change: LinkChange): Promise<void> {
    await Promise.all(change.removed.map((l) => l.transport.close().catch(() => undefined)));
    const opened: Link[] = [];
    try {
      for (const l of change.added) {
        this.attach(l.transport);
        await l.transport.open();
        opened.push(l);
      }
    } catch (err) {
      await Promise.all(opened.map((l) => l.transport.close().catch(() => undefined)));
      for (const l of change.removed) await l.transport.open().catch(() => undefined);
      throw err;
    }
    this.links = [...change.kept, ...change.added];
  }

  /** Puts back the links `apply` replaced (a reload refused after its links changed). */
  async undo(change: LinkChange): Promise<void> {
    await Promise.all(change.added.map((l) => l.transport.close().catch(() => undefined)));
    for (const l of change.removed) await l.transport.open().catch(() => undefined);
    this.links = [...change.kept, ...change.removed];
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.transports.map((t) => t.close().catch(() => undefined)));
  }

  private build(ha: HaCf): Link[] {
    const keys = linkKeys(ha);
    return createTransports(ha, this.opts).map((transport, i) => ({ key: keys[i]!, transport }));
  }
}
