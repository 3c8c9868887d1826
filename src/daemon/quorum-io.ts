// The daemon's side of issue 16's quorum and takeover rules: what the core is told of the
// witness, the ping nodes and the fence devices (nodeOptions), the pinger that feeds it echo
// replies, and the fencer that carries out its fence-node effects and answers with fence-done.
import type * as Node from '../core/node.js';
import type { HaCf } from '../config/types.js';
import { ipfailOn } from '../config/hacf-quorum.js';
import type { Logger } from '../lib/logger.js';
import { fenceNode } from './fencer.js';
import { Pinger, pingIntervalMs } from './pinger.js';

/** How long after a failed fence it is tried again (Heartbeat's StonithProcessDied: 5 s). */
export const FENCE_RETRY_MS = 5000;

/** The core's options from ha.cf's witness, ping nodes and fence devices. */
export function quorumOptions(ha: HaCf): Pick<Node.NodeOptions, 'nodes' | 'witnesses' | 'ping' | 'fencing'> {
  const w = ha.quorum.witness?.name;
  const fencing = ha.quorum.stonith.length > 0 || ha.quorum.fenceAgents.length > 0;
  return {
    nodes: w ? [...ha.nodes, w] : ha.nodes,
    witnesses: w ? [w] : [],
    ping: { nodes: ha.pingNodes.map((p) => p.name), deadpingMs: ha.deadpingMs, ipfail: ipfailOn(ha) },
    ...(fencing ? { fencing: { retryMs: FENCE_RETRY_MS } } : {}),
  };
}

type Command = (event: Extract<Node.NodeEvent, { kind: 'ping-reply' | 'fence-done' }>) => void;

export class QuorumIo {
  private pinger: Pinger | null = null;
  private closed = false;

  constructor(
    private readonly ha: () => HaCf,
    private readonly me: string,
    private readonly log: Logger,
    private readonly command: Command,
  ) {}

  start(): void {
    const ha = this.ha();
    this.pinger = new Pinger(ha.pingNodes, { intervalMs: pingIntervalMs(ha.deadpingMs), log: this.log, reply: (node) => this.command({ kind: 'ping-reply', node }) });
    this.pinger.start();
  }

  /** A step's effect: a fence-node runs the fence devices, then tells the core how it went. */
  effect(e: Node.NodeEffect): void {
    if (e.kind !== 'fence-node' || this.closed) return;
    void fenceNode(this.ha().quorum, this.me, e.node, this.log).then((ok) => {
      if (!this.closed) this.command({ kind: 'fence-done', node: e.node, ok });
    });
  }

  close(): void {
    this.closed = true;
    this.pinger?.close();
  }
}
