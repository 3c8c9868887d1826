// Which authenticated packets are new (heartbeat.c should_drop_message, simplified).
//
// Every sequenced packet names its sender (src), the sender's heartbeat generation (hg:
// persisted by the sender, bumped on every start) and a sequence number (seq: 1, 2, ...
// per run). Per node we keep the newest generation and a sliding bitmap of the last
// `window` sequence numbers:
//   older generation              -> 'replay-old-generation' (a recorded packet replayed)
//   newer generation              -> the peer restarted: forget the old run, 'new'
//   seq already seen in window    -> 'duplicate' (the same packet over a second medium,
//                                    or a retransmission we already have)
//   seq below the window          -> 'too-old'
// Memory is bounded: `window` bits per node, at most `maxNodes` nodes (least recently
// heard is forgotten first). Types starting with NS_ (NS_ackmsg ...) carry no seq by
// design and cannot be checked here.

import { F_HBGENERATION, F_ORIG, F_SEQ, F_TYPE, NOSEQ_PREFIX, type HbMessage } from './message.js';

export type ReplayVerdict = 'new' | 'duplicate' | 'replay-old-generation' | 'too-old';

export interface ReplayOptions {
  /** How many sequence numbers back a late packet is still recognised. Multiple of 32. */
  window?: number;
  maxNodes?: number;
}

/** Heartbeat keeps 500 sent messages for retransmission (MAXMSGHIST); cover all of them. */
export const DEFAULT_WINDOW = 512;
export const DEFAULT_MAX_NODES = 256;

interface SeqTrack {
  generation: number;
  /** Highest seq seen in this generation. */
  last: number;
  /** Bit (seq % window) is set when seq in (last - window, last] was seen. */
  seen: Uint32Array;
}

export class ReplayWindow {
  readonly window: number;
  readonly maxNodes: number;
  // Map order = recency: a node is moved to the end each time it is heard.
  private readonly nodes = new Map<string, SeqTrack>();

  constructor({ window = DEFAULT_WINDOW, maxNodes = DEFAULT_MAX_NODES }: ReplayOptions = {}) {
    if (!Number.isInteger(window) || window < 32 || window % 32 !== 0) {
      throw new RangeError(`window must be a positive multiple of 32, not ${window}`);
    }
    if (!Number.isInteger(maxNodes) || maxNodes < 1) throw new RangeError(`maxNodes must be at least 1, not ${maxNodes}`);
    this.window = window;
    this.maxNodes = maxNodes;
  }

  /**
   * Record one packet and say whether it is new. Call it only for authenticated packets:
   * a forged one could otherwise push a node's generation up and silence it.
   * Throws RangeError on a seq below 1 or a non-integer (use sequenceOf() to read them).
   */
  accept(src: string, generation: number, seq: number): ReplayVerdict {
    if (!Number.isSafeInteger(generation) || generation < 0) throw new RangeError(`bad generation ${generation}`);
    if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError(`bad seq ${seq}`);

    const track = this.nodes.get(src);
    if (track) {
      this.nodes.delete(src);
      this.nodes.set(src, track);
    }
    if (!track || generation > track.generation) {
      this.remember(src, this.fresh(generation, seq));
      return 'new';
    }
    if (generation < track.generation) return 'replay-old-generation';

    if (seq > track.last) {
      this.slide(track, seq);
      return 'new';
    }
    if (track.last - seq >= this.window) return 'too-old';
    if (this.isSeen(track, seq)) return 'duplicate';
    this.mark(track, seq);
    return 'new';
  }

  /** Forget a node, e.g. when it is removed from the cluster. */
  forget(src: string): void {
    this.nodes.delete(src);
  }

  /** The newest generation heard from a node, if any. */
  generationOf(src: string): number | undefined {
    return this.nodes.get(src)?.generation;
  }

  get size(): number {
    return this.nodes.size;
  }

  private remember(src: string, track: SeqTrack): void {
    this.nodes.delete(src);
    while (this.nodes.size >= this.maxNodes) {
      const oldest = this.nodes.keys().next().value as string;
      this.nodes.delete(oldest);
    }
    this.nodes.set(src, track);
  }

  private fresh(generation: number, seq: number): SeqTrack {
    const track = { generation, last: seq, seen: new Uint32Array(this.window / 32) };
    this.mark(track, seq);
    return track;
  }

  /** Move the window up to `seq`, clearing the bits of the numbers skipped over. */
  private slide(track: SeqTrack, seq: number): void {
    if (seq - track.last >= this.window) {
      track.seen.fill(0);
    } else {
      for (let s = track.last + 1; s < seq; s++) this.clear(track, s);
    }
    track.last = seq;
    this.mark(track, seq);
  }

  private isSeen(track: SeqTrack, seq: number): boolean {
    const bit = seq % this.window;
    return (track.seen[bit >>> 5]! & (1 << (bit & 31))) !== 0;
  }

  private mark(track: SeqTrack, seq: number): void {
    const bit = seq % this.window;
    track.seen[bit >>> 5]! |= 1 << (bit & 31);
  }

  private clear(track: SeqTrack, seq: number): void {
    const bit = seq % this.window;
    track.seen[bit >>> 5]! &= ~(1 << (bit & 31));
  }
}

export interface Sequence {
  src: string;
  generation: number;
  seq: number;
}

/**
 * The (src, hg, seq) of a message, or null when it has none to check: NS_ types carry
 * no seq, and a message without src or with a bad seq is one Heartbeat drops too.
 * A missing hg counts as generation 0, as in Heartbeat.
 */
export function sequenceOf(message: HbMessage): Sequence | null {
  const type = message.getString(F_TYPE);
  const src = message.getString(F_ORIG);
  const seq = message.getHex(F_SEQ);
  if (type === undefined || type.startsWith(NOSEQ_PREFIX) || src === undefined) return null;
  if (seq === undefined || seq < 1) return null;
  const hg = message.getString(F_HBGENERATION);
  const generation = hg === undefined ? 0 : message.getHex(F_HBGENERATION);
  if (generation === undefined) return null;
  return { src, generation, seq };
}
