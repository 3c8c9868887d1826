// The protocol a real Heartbeat 3.0.6 peer runs around its heartbeats (heartbeat.c,
// hb_rexmit.c), as far as a peer must answer it for Heartbeat to count it a member:
//
//  - the node list: a node that starts asks for it (`reqnodes`, directed to one peer, about
//    once a second) and goes `active` only once a peer answers with `repnodes` (ha.cf's
//    nodes, each followed by a space, and the deleted nodes: none);
//  - reliable delivery: every message with a `seq` is one stream per sender; a receiver that
//    sees a gap asks for the missing ones (`NS_rexmit`, firstseq/lastseq in decimal) and the
//    sender sends them again from its history (the last 500) or says it cannot
//    (`NS_nak_rexmit`, firstseq in hex, `info` the reason);
//  - flow control: a node whose status carries `protocol` acknowledges the streams it
//    receives (`NS_ackmsg`, dest = the sender of the stream, ackseq = hex, the highest seq
//    up to which nothing is missing), about one ack per ten messages. A sender keeps its
//    messages until every node acknowledged them; unacknowledged, its queue fills up and it
//    pauses its clients.
//
// This class keeps the state of that protocol (the streams we receive, our history) and says
// what to send; the runtime numbers, signs and sends it. It runs only for peers that speak
// Heartbeat's protocol alone (no `hts_` fields in their status): between hbd nodes it is
// silent, so clusters of hbd alone send exactly what they sent before.
import { F_ORIG, F_SEQ, F_TO, F_TYPE, HbMessage, parseHex, toHex } from './message.js';
import type { Hold, HbPeerEvent } from '../core/heartbeat-peer.js';

export const T_REQNODES = 'reqnodes';
export const T_REPNODES = 'repnodes';
export const T_ACKMSG = 'NS_ackmsg';
export const T_REXMIT = 'NS_rexmit';
export const T_NAKREXMIT = 'NS_nak_rexmit';

/** Heartbeat keeps this many sent messages for retransmission (MAXMSGHIST). */
export const HISTORY = 500;
/** One ack per this many messages of a stream (ACK_MSG_DIV). */
export const ACK_EVERY = 10;
/** Asks for a missing message again after this many later ones, and gives up after that many asks. */
const REASK_AFTER = 5;
const MAX_ASKS = 3;
/** A gap this large is a reset, not a loss (FLOWCONTROL_LIMIT): Heartbeat starts over too. */
const RESET_GAP = HISTORY / 2;

/**
 * A message for the runtime to send: `sequenced` takes our next seq, `unsequenced` (NS_) none;
 * both get our sender fields. A `resend` is a message of our history, sent again as it was.
 */
export interface Outgoing {
  message: HbMessage;
  kind: 'sequenced' | 'unsequenced' | 'resend';
}

/** One peer's stream of sequenced messages, as we received it in its current run. */
interface Stream {
  generation: number;
  last: number;
  /** Missing seq -> how many messages have come after it since we last asked for it, and how often we asked. */
  missing: Map<number, { since: number; asks: number }>;
  /** The highest seq we acknowledged. */
  acked: number;
}

export class HeartbeatProtocol {
  private readonly me: string;
  /** ha.cf's `node` lines, in order: what repnodes carries. */
  private nodes: readonly string[];
  private readonly streams = new Map<string, Stream>();
  /** Our sequenced messages by seq, oldest first (Map order), at most HISTORY. */
  private readonly history = new Map<number, HbMessage>();
  /** Peers known to speak Heartbeat's protocol alone (a real Heartbeat), by name. */
  private readonly heartbeatPeers = new Set<string>();

  constructor(me: string, nodes: readonly string[]) {
    this.me = me;
    this.nodes = nodes;
  }

  /** A reload changed ha.cf's node list. */
  setNodes(nodes: readonly string[]): void {
    this.nodes = nodes;
  }

  /** Whether `node` was last heard as a peer of Heartbeat's protocol alone. */
  isHeartbeatPeer(node: string): boolean {
    return this.heartbeatPeers.has(node);
  }

  /** What a peer's status says it is: a real Heartbeat (no fields of ours) or an hbd. */
  notePeerKind(node: string, heartbeatOnly: boolean): void {
    if (heartbeatOnly) this.heartbeatPeers.add(node);
    else this.heartbeatPeers.delete(node);
  }

  /** We sent a sequenced message: keep it for retransmission. */
  sent(seq: number, message: HbMessage): void {
    this.history.set(seq, message);
    if (this.history.size > HISTORY) this.history.delete(this.history.keys().next().value!);
  }

  /**
   * A verified message from peer `src` (any type). Tracks its stream and answers what
   * Heartbeat's protocol asks of us: the messages to send, in order.
   */
  receive(m: HbMessage): Outgoing[] {
    const src = m.getString(F_ORIG);
    if (!src || src === this.me) return [];
    const out: Outgoing[] = [];
    const type = m.getString(F_TYPE) ?? '';
    const toUs = (m.getString(F_TO) ?? this.me) === this.me;
    if (type === T_REXMIT) {
      if (toUs) out.push(...this.retransmit(src, m));
      return out;
    }
    if (type === T_NAKREXMIT) {
      const seq = parseHex(m.getString('firstseq'));
      if (toUs && seq !== undefined) this.gaveUp(src, seq, out);
      return out;
    }
    if (type.startsWith('NS_')) return out;
    this.track(src, m, out);
    if (type === T_REQNODES && toUs) out.push({ message: this.repnodes(src), kind: 'sequenced' });
    return out;
  }

  /** The seq stream of `src`: gaps asked for, acks sent as Heartbeat sends them. */
  private track(src: string, m: HbMessage, out: Outgoing[]): void {
    // hbd peers need neither acks nor our asking for what they lost: they resend nothing.
    if (!this.heartbeatPeers.has(src)) return;
    const seq = parseHex(m.getString(F_SEQ));
    const generation = parseHex(m.getString('hg')) ?? 0;
    if (seq === undefined || seq < 1) return;
    let s = this.streams.get(src);
    if (!s || generation > s.generation) {
      // A new run of the peer: its stream starts over.
      s = { generation, last: seq - 1, missing: new Map(), acked: 0 };
      this.streams.set(src, s);
    } else if (generation < s.generation) {
      return;
    }
    if (seq > s.last + RESET_GAP) {
      // A jump no retransmission can fill: start over from it, as Heartbeat does.
      s.missing.clear();
      s.last = seq;
    } else if (seq > s.last) {
      for (const entry of s.missing.values()) entry.since += seq - s.last;
      if (seq > s.last + 1) {
        for (let k = s.last + 1; k < seq; k++) s.missing.set(k, { since: seq - k, asks: 1 });
        out.push(this.rexmitRequest(src, s.last + 1, seq - 1));
      }
      s.last = seq;
      this.reask(src, s, out);
    } else if (!s.missing.delete(seq)) {
      return; // a duplicate
    }
    this.ack(src, s, out);
  }

  /** Missing messages asked for long enough ago are asked for again, and given up after MAX_ASKS. */
  private reask(src: string, s: Stream, out: Outgoing[]): void {
    for (const [seq, entry] of s.missing) {
      if (entry.since < REASK_AFTER) continue;
      if (entry.asks >= MAX_ASKS) {
        s.missing.delete(seq);
        continue;
      }
      entry.asks += 1;
      entry.since = 0;
      out.push(this.rexmitRequest(src, seq, seq));
    }
  }

  private gaveUp(src: string, seq: number, out: Outgoing[]): void {
    const s = this.streams.get(src);
    if (s?.missing.delete(seq)) this.ack(src, s, out);
  }

  /** Acknowledges the stream up to its first gap, once per ACK_EVERY messages, to peers that need it. */
  private ack(src: string, s: Stream, out: Outgoing[]): void {
    const upTo = s.missing.size === 0 ? s.last : Math.min(...s.missing.keys()) - 1;
    if (upTo <= s.acked || Math.floor(upTo / ACK_EVERY) === Math.floor(s.acked / ACK_EVERY)) return;
    s.acked = upTo;
    out.push({ message: HbMessage.of([['t', T_ACKMSG], [F_TO, src], ['ackseq', toHex(upTo)]]), kind: 'unsequenced' });
  }

  private rexmitRequest(src: string, first: number, last: number): Outgoing {
    // ha_msg_add_int: decimal, unlike every other number on the wire.
    return { message: HbMessage.of([['t', T_REXMIT], [F_TO, src], ['firstseq', String(first)], ['lastseq', String(last)]]), kind: 'unsequenced' };
  }

  private repnodes(to: string): HbMessage {
    return HbMessage.of([
      [F_TO, to],
      ['t', T_REPNODES],
      ['nodelist', this.nodes.map((n) => `${n} `).join('')],
      ['delnodelist', ' '],
    ]);
  }

  /** Sends again what `src` asks for from our history, or says why not (hb_rexmit). */
  private retransmit(src: string, m: HbMessage): Outgoing[] {
    const first = decimal(m.getString('firstseq'));
    const last = decimal(m.getString('lastseq'));
    if (first === undefined || last === undefined || first > last || last - first >= HISTORY) return [];
    const out: Outgoing[] = [];
    for (let seq = first; seq <= last; seq++) {
      const kept = this.history.get(seq);
      if (kept) out.push({ message: kept, kind: 'resend' });
      else out.push({ message: HbMessage.of([['t', T_NAKREXMIT], ['firstseq', toHex(seq)], [F_TO, src], ['info', 'seqno not found']]), kind: 'unsequenced' });
    }
    return out;
  }
}

function decimal(text: string | undefined): number | undefined {
  return text !== undefined && /^[1-9][0-9]{0,12}$/.test(text) ? Number(text) : undefined;
}

/** The message types of haresources mode's resource negotiation (hb_resource.c). */
export const NEGOTIATION_TYPES = new Set(['starting', 'resource', 'ask_resources', 'hb_takeover', 'ip-request']);

/** Heartbeat's four words for what a node holds (hb_resource.c rsc_msg). */
const HOLD_WORDS: readonly string[] = ['none', 'local', 'foreign', 'all'] satisfies Hold[];
const holdOf = (text: string | undefined): Hold | null => (text !== undefined && HOLD_WORDS.includes(text) ? (text as Hold) : null);

/** A resource negotiation message of a Heartbeat peer as a core event; null when it is none or malformed. */
export function readNegotiation(m: HbMessage): HbPeerEvent | null {
  const type = m.getString(F_TYPE);
  const info = m.getString('info') ?? null;
  if (type === 'starting') return { kind: 'starting' };
  if (type === 'resource') {
    const hold = holdOf(m.getString('rsc_hold'));
    const stable = m.getString('isstable');
    return hold === null ? null : { kind: 'resource', hold, full: m.getString('rtype') === 'full', stable: stable === undefined ? null : stable === '1', info };
  }
  if (type === 'ask_resources') {
    // No rsc_hold means all (ask_for_resources).
    const hold = m.has('rsc_hold') ? holdOf(m.getString('rsc_hold')) : 'all';
    return hold !== null && (info === 'me' || info === 'other' || info === 'done') ? { kind: 'ask', hold, info } : null;
  }
  if (type === 'hb_takeover') {
    const text = m.getString('rsc_hold');
    // hb_takeover's "failback" asks for the groups this node prefers: its "local".
    const hold = text === 'failback' ? 'local' : holdOf(text);
    return hold === null ? null : { kind: 'hb-takeover', hold };
  }
  // auto_failback legacy: a node coming up asks for each of its groups by its first resource.
  const key = m.getString('ipaddr');
  if (type === 'ip-request' && key) return { kind: 'ip-request', key };
  return null;
}
