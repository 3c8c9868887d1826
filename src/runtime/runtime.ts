// One cluster node, as the daemon runs it and as the simulator runs it: the pure core
// (core/node.ts) plus what every shell around it needs and must not write twice: which
// received messages are news (replay window, "newest message only"), our sequence numbers,
// building the messages we send, and when to be woken next. Every effect goes to a NodePort.
import * as Node from '../core/node.js';
import { HbMessage } from '../wire/message.js';
import { GroupKeys, readAdvert } from '../wire/advert.js';
import { LAST_WORDS_SPAN, lastWordsMessages, readIncoming, shutdoneMessage, stampMessage, statusMessage, type Sender } from '../wire/messages.js';
import { HeartbeatProtocol, readNegotiation, type Outgoing } from '../wire/heartbeat-protocol.js';
import { ReplayWindow } from '../wire/replay.js';
import type { AgentResult, NodePort } from './port.js';

/** The decision core a runtime steps: the real one, or a deliberately broken variant in tests. */
export interface Core {
  initNode: typeof Node.initNode;
  step: typeof Node.step;
  nextWake: typeof Node.nextWake;
}

/** What we read of others' adverts: our groups, and their resources (held by a peer under another line). */
function keysOf(groups: readonly Node.GroupDef[]): GroupKeys {
  return new GroupKeys(
    groups.map((g) => g.id),
    groups.flatMap((g) => g.resources),
  );
}

/** ha.cf's `node` lines (a witness is ours alone): the node list a Heartbeat peer asks for. */
function memberNodes(o: Node.NodeOptions): string[] {
  return o.nodes.filter((n) => !(o.witnesses ?? []).includes(n));
}

export const realCore: Core = { initNode: Node.initNode, step: Node.step, nextWake: Node.nextWake };

/** What became of a received message, for the shell's counters and warnings. */
export type ReceiveOutcome =
  | { kind: 'accepted'; src: string; fresh: boolean }
  /** Our own bcast/mcast coming back. */
  | { kind: 'own' }
  /** A Heartbeat message type we do not act on. */
  | { kind: 'ignored'; src: string; type: string }
  | { kind: 'malformed'; reason: string }
  /** Signed, but from a node that is not in ha.cf. */
  | { kind: 'foreign'; src: string }
  /** A replay or an out-of-date copy: it proves nothing. */
  | { kind: 'stale'; src: string; generation: number; seq: number; why: 'replay' | 'out-of-date' };

export interface RuntimeOptions {
  node: Node.NodeOptions;
  /** Who we are on the wire (node name, uuid, generation, deadtime, config part digests). */
  sender: Sender;
  port: NodePort;
  core?: Core;
}

export class NodeRuntime {
  private core: Core;
  private state: Node.NodeState;
  private readonly port: NodePort;
  private sender: Sender;
  private readonly nodes: ReadonlySet<string>;
  /** The groups we read of others' adverts: the core's, retrieved when its list changes (a reload). */
  private keys: GroupKeys;
  private keysOf: readonly Node.GroupDef[];
  private readonly replay = new ReplayWindow();
  /** Newest (generation, seq) heard from each node. */
  private readonly newest = new Map<string, { generation: number; seq: number }>();
  private seq = 0;
  /** Heartbeat's protocol around the heartbeats, spoken with real Heartbeat peers. */
  private readonly protocol: HeartbeatProtocol;
  /** Each peer's uuid (srcuuid), for the destuuid of messages directed to it. */
  private readonly uuids = new Map<string, Buffer>();
  /** The wake time last handed to the port (our clock), to skip re-arming the same timer. */
  private armedAt = Infinity;

  constructor(opts: RuntimeOptions, now: number) {
    this.core = opts.core ?? realCore;
    this.port = opts.port;
    this.sender = opts.sender;
    this.nodes = new Set(opts.node.nodes);
    this.protocol = new HeartbeatProtocol(opts.sender.node, memberNodes(opts.node));
    this.state = this.core.initNode(opts.node, now);
    this.keysOf = this.state.ownership.groups;
    this.keys = keysOf(this.keysOf);
  }

  get nodeState(): Node.NodeState {
    return this.state;
  }

  /** Our timer fired (or was lost, as in a frozen VM): time may have moved. */
  tick(now: number): void {
    this.armedAt = Infinity;
    this.dispatch({ kind: 'tick' }, now);
  }

  agentDone(result: AgentResult, now: number): void {
    // The group's number when the call began may have changed (a reload): it is found by id.
    const group = this.state.ownership.groups.findIndex((d) => d.id === result.groupId);
    if (group < 0) return;
    const { resource, action, ok, running } = result;
    this.dispatch({ kind: 'agent-done', group, resource, action, ok, ...(running !== undefined ? { running } : {}) }, now);
  }

  /**
   * A reload: the core takes the new options whole, and our heartbeats carry the new deadtime
   * and config digests; or nothing changes, and the reasons are returned (one sentence each).
   */
  reconfigure(options: Node.NodeOptions, sender: Sender, now: number): string[] {
    const refused = Node.refusals(this.state, options);
    if (refused.length > 0) return refused;
    this.sender = sender;
    this.protocol.setNodes(memberNodes(options));
    this.dispatch({ kind: 'reconfigure', options }, now);
    return [];
  }

  /** An operator's request (hb_standby, hb_takeover, hbctl clear, SIGTERM), or what the shell saw: a ping node's echo reply, a fence's answer. */
  command(event: Extract<Node.NodeEvent, { kind: 'standby' | 'takeover' | 'clear' | 'shutdown' | 'ping-reply' | 'fence-done' | 'arbiter' }>, now: number): void {
    this.dispatch(event, now);
  }

  /**
   * hbd's last words from our next message on, for its address guard to send if hbd dies
   * (wire/messages.ts), and the last seq of ours they cover: renew them before we send it.
   */
  lastWords(): { messages: HbMessage[]; coversUpTo: number } {
    return { messages: lastWordsMessages(this.sender, this.seq, this.port.wallSeconds()), coversUpTo: this.seq + LAST_WORDS_SPAN };
  }

  /** The seq of our newest sequenced message. */
  get lastSeq(): number {
    return this.seq;
  }

  /** A verified message from `link`. */
  receive(message: HbMessage, link: string, now: number): ReceiveOutcome {
    const inc = readIncoming(message);
    if (inc.kind === 'invalid') return { kind: 'malformed', reason: inc.reason };
    if (inc.src === this.sender.node) return { kind: 'own' };
    if (!this.nodes.has(inc.src)) return { kind: 'foreign', src: inc.src };
    this.heartbeatProtocol(message, inc.src);
    if (inc.kind === 'other') return this.negotiation(message, inc.src, inc.type, now);
    const verdict = this.replay.accept(inc.src, inc.generation, inc.seq);
    const stale = { kind: 'stale', src: inc.src, generation: inc.generation, seq: inc.seq } as const;
    if (verdict === 'replay-old-generation' || verdict === 'too-old') return { ...stale, why: 'replay' };
    // Liveness moves only forward: the newest message of a node is news; an older one that
    // arrives now (reordered, or replayed from a capture we never received) proves nothing,
    // and a copy of the newest over a second medium proves only that medium alive.
    const newest = this.newest.get(inc.src);
    const newer = !newest || inc.generation > newest.generation || inc.seq > newest.seq;
    const copyOfNewest = verdict === 'duplicate' && newest?.generation === inc.generation && newest.seq === inc.seq;
    const fresh = verdict === 'new' && newer;
    if (!fresh && !(copyOfNewest && this.state.membership.peers[inc.src]?.status !== 'dead')) return { ...stale, why: 'out-of-date' };
    if (fresh) this.newest.set(inc.src, { generation: inc.generation, seq: inc.seq });
    this.port.received?.(inc, link, fresh);
    if (inc.kind === 'shutdone') {
      if (fresh) this.dispatch({ kind: 'peer-left', from: inc.src, generation: inc.generation, crashed: inc.crashed }, now);
    } else {
      // A copy over a second link proves only that link: its advert (the costly part to read) is not news.
      const advert = fresh ? readAdvert(message, this.keys) : null;
      const heartbeatPeer = this.protocol.isHeartbeatPeer(inc.src);
      this.dispatch({ kind: 'status', from: inc.src, link, generation: inc.generation, fresh, st: inc.st, advert, digest: inc.digest, ...(heartbeatPeer ? { heartbeatPeer } : {}) }, now);
    }
    return { kind: 'accepted', src: inc.src, fresh };
  }

  /** A Heartbeat peer's resource negotiation message, once (it may come twice, or again after a gap). */
  private negotiation(message: HbMessage, src: string, type: string, now: number): ReceiveOutcome {
    const event = this.protocol.isHeartbeatPeer(src) ? readNegotiation(message) : null;
    const generation = message.getHex('hg');
    const seq = message.getHex('seq');
    if (!event || generation === undefined || seq === undefined || seq < 1) return { kind: 'ignored', src, type };
    const verdict = this.replay.accept(src, generation, seq);
    // A second copy is Heartbeat's retransmission (asked for, or not yet acknowledged): no news, no attack.
    if (verdict === 'duplicate') return { kind: 'ignored', src, type };
    if (verdict !== 'new') return { kind: 'stale', src, generation, seq, why: 'replay' };
    this.dispatch({ kind: 'hb-peer', from: src, generation, event }, now);
    return { kind: 'accepted', src, fresh: true };
  }

  /** What Heartbeat's protocol asks of us for a message of a known peer (acks, the node list, retransmissions). */
  private heartbeatProtocol(message: HbMessage, src: string): void {
    const uuid = message.getBinary('srcuuid');
    if (uuid?.length === 16) this.uuids.set(src, uuid);
    // A real Heartbeat sends none of our fields; an hbd peer always sends its advert's clock.
    if (message.getString('t') === 'status') this.protocol.notePeerKind(src, !message.has('hts_at'));
    for (const out of this.protocol.receive(message)) this.emit(out);
  }

  /** Sends one message, numbered when it is sequenced; those are kept for retransmission. */
  private emit(out: Outgoing): void {
    if (out.kind === 'resend') {
      this.port.send(out.message);
      return;
    }
    const seq = out.kind === 'sequenced' ? ++this.seq : null;
    const dest = out.message.getString('dest');
    const m = stampMessage(out.message, this.sender, seq, this.port.wallSeconds(), dest !== undefined ? this.uuids.get(dest) : undefined, this.port.loadAverage?.());
    if (seq !== null) this.protocol.sent(seq, m);
    this.port.send(m);
  }

  /** Sends one of our sequenced messages, kept for retransmission. */
  private sendNumbered(m: HbMessage, seq: number): void {
    this.protocol.sent(seq, m);
    this.port.send(m);
  }

  /** One event into the core; its effects out to the port; the timer armed again. */
  private dispatch(event: Node.NodeEvent, now: number): void {
    const { state, effects } = this.core.step(this.state, event, now);
    this.state = state;
    if (state.ownership.groups !== this.keysOf) {
      this.keysOf = state.ownership.groups;
      this.keys = keysOf(this.keysOf);
    }
    let exit = false;
    for (const e of effects) {
      switch (e.kind) {
        case 'send-status':
          this.sendNumbered(statusMessage(this.sender, ++this.seq, this.port.wallSeconds(), e.payload, this.port.loadAverage?.()), this.seq);
          break;
        case 'send-leave': {
          // Sent twice: a lost goodbye costs the peers a whole deadtime; a duplicate costs nothing.
          const bye = shutdoneMessage(this.sender, ++this.seq, this.port.wallSeconds(), this.port.loadAverage?.());
          this.sendNumbered(bye, this.seq);
          this.port.send(bye);
          break;
        }
        case 'send-hb':
          this.emit({ message: HbMessage.of(e.fields), kind: 'sequenced' });
          break;
        case 'agent':
          this.port.runAgent({ group: e.group, groupId: state.ownership.groups[e.group]!.id, resource: e.resource, action: e.action });
          break;
        case 'log':
          this.port.log(e.level, e.text, e.tag);
          break;
        case 'exit':
          exit = true;
          break;
        default:
          break;
      }
    }
    this.port.observe(effects, state);
    if (exit) {
      this.armedAt = Infinity;
      this.port.wakeIn(null);
      this.port.exit();
      return;
    }
    this.arm(now);
  }

  private arm(now: number): void {
    const wake = this.core.nextWake(this.state, now);
    if (wake === this.armedAt) return;
    this.armedAt = wake;
    // Timers have millisecond granularity: round up, or we would wake just before the deadline.
    this.port.wakeIn(Number.isFinite(wake) ? Math.max(0, Math.ceil(wake - now)) : null);
  }
}
