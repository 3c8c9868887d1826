// What the daemon does with each packet a medium hands it: the signature checked against
// authkeys, the message handed to the runtime, and what went wrong counted and said, at most
// once per source per minute: a second cluster on the wire, or a flood, must not fill the disk.
import type { AuthKeys } from '../config/types.js';
import { clip } from '../lib/clip.js';
import { RateLimiter } from '../lib/ratelimit.js';
import type { Transport } from '../media/transport.js';
import type { NodeRuntime } from '../runtime/runtime.js';
import type { ClusterView } from '../status/cluster-view.js';
import { verify } from '../wire/auth.js';
import type { Logger } from './log.js';

/** The sending host of a packet ("10.0.0.2:694" -> "10.0.0.2"; a serial device as it is): a new source port is no new source. */
const sourceOf = (from: string): string => from.replace(/:\d+$/, '');

export interface PacketHost {
  /** The keys in effect (a reload may change them). */
  auth(): AuthKeys;
  /** Undefined until the daemon has started its runtime. */
  runtime(): NodeRuntime | undefined;
  view: ClusterView;
  log: Logger;
  now(): number;
}

export class PacketIntake {
  /** Once per source per minute, and at most 30 lines a minute in all: a flood from many addresses must not fill the disk. */
  private readonly limiter = new RateLimiter({ windowMs: 60_000, maxPerWindow: 30 });

  constructor(private readonly host: PacketHost) {}

  /** Puts the daemon's handlers on a medium's transport. */
  attach(t: Transport): void {
    t.onPacket((packet, from) => this.onPacket(t, packet, from));
    t.onError((err) => this.warnOnce(`medium:${t.linkName}`, `${t.kind} ${t.linkName}: ${err.message}`));
  }

  private onPacket(t: Transport, packet: Buffer, from: string): void {
    try {
      this.receive(t, packet, from);
    } catch (err) {
      // A packet must never take the daemon down; count it and go on.
      this.host.view.count('internal_errors');
      this.warnOnce(`internal:${sourceOf(from)}`, `internal error on a packet from ${from}: ${(err as Error).message}`);
    }
  }

  private receive(t: Transport, packet: Buffer, from: string): void {
    const { view } = this.host;
    // The media open before the runtime starts (the guard and leftover addresses come
    // between): a packet then is nothing to act on yet, and the next heartbeat will come.
    const runtime = this.host.runtime();
    if (runtime === undefined) return;
    const v = verify(packet, this.host.auth());
    if (!v.ok) {
      const bad = v.stage === 'auth' ? 'auth_failures' : 'malformed_packets';
      view.count(bad);
      this.warnOnce(`bad:${sourceOf(from)}`, `dropped a packet from ${from} on ${t.linkName}: ${v.reason} (${v.code})`);
      return;
    }
    const r = runtime.receive(v.message, t.linkName, this.host.now());
    switch (r.kind) {
      case 'malformed':
        view.count('malformed_packets');
        this.warnOnce(`bad:${sourceOf(from)}`, `dropped a signed packet from ${from}: ${r.reason}`);
        break;
      case 'foreign':
        view.count('foreign_packets');
        this.warnOnce(`foreign:${r.src}:${sourceOf(from)}`, `process_status_message: bad node [${r.src}] in message from ${from}: not a node of ha.cf (autojoin none); ignored`);
        break;
      case 'stale':
        view.count('replayed_packets');
        this.warnOnce(`replay:${r.src}`, `dropped a replayed or ${r.why === 'replay' ? 'stale' : 'out-of-date'} packet claiming to be from ${r.src} (generation ${r.generation}, seq ${r.seq}) via ${from}`);
        break;
      default:
        break; // accepted, our own, or a Heartbeat message we don't speak (yet)
    }
  }

  /** One warning per key per minute. */
  private warnOnce(key: string, text: string): void {
    const r = this.limiter.check(key, this.host.now());
    // Every such line may carry text from a packet: bounded whatever a caller put in it.
    if (r.allowed) this.host.log.warn(clip(r.suppressed > 0 ? `${text} (${r.suppressed} similar messages suppressed)` : text, 400));
  }
}
