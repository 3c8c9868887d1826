// What ownership is stepped by and what it returns: its events and effects, as data.
import type { PeerAdvert } from './advert.js';
import type { ArbiterEffect, ArbiterNews } from './arbiter.js';
import type * as S from './sequencer.js';
import type * as W from './switches.js';

/** A node is gone for ownership: after a deadtime of silence, its goodbye, or its restart. */
export type LostReason = 'timeout' | 'shutdown' | 'restart';

export type OwnershipEvent =
  | { kind: 'tick' }
  /** Membership's view changed (it is passed in with every step). */
  | { kind: 'membership' }
  /** This process was not scheduled for a while; `silentMs`: since our last heartbeat went out. */
  | { kind: 'stalled'; silentMs: number }
  | { kind: 'node-lost'; node: string; reason: LostReason }
  | { kind: 'advert'; node: string; advert: PeerAdvert }
  | ({ kind: 'agent-done'; group: number } & S.AgentResult)
  | { kind: 'standby'; scope: W.Scope }
  /** `from`: a Heartbeat peer gives us these (its hb_standby): we stand by for them no more. */
  | { kind: 'takeover'; scope: W.Scope; from?: string }
  /** `hbctl clear`: these groups (by id) are no longer kept out here after failed monitors. */
  | { kind: 'clear'; groups: string[] }
  | { kind: 'leave' }
  /** A fence call (node-fencing.ts) answered: `ok` only when the device reported success. */
  | { kind: 'fence-done'; node: string; ok: boolean }
  /** How many ping nodes we reach changed (core/ping.ts). */
  | { kind: 'pings'; count: number }
  /** What the etcd arbiter's shell saw (arbiter.ts). */
  | { kind: 'arbiter'; news: ArbiterNews };

/**
 * What resource monitoring found and did, for logs' companions (metrics, status): a check
 * failed, a resource recovered by itself, a restart began, this node keeps out of the group
 * (until `until`: Infinity until cleared), or it no longer does (cleared by hand, or timed out).
 */
export type MonitorEffect = {
  kind: 'monitor';
  group: number;
  resource: number | null;
  what: 'failed' | 'recovered' | 'restart' | 'keep-out' | 'cleared' | 'expired';
  until?: number;
};

export type OwnershipEffect =
  | S.GroupEffect
  | MonitorEffect
  /** Our advertised state changed: send a heartbeat now rather than at the next keepalive. */
  | { kind: 'advertise' }
  /**
   * We run the group and another node that held it too (a healed partition, a conflict
   * resolved in our favour) has let go or died: its last gratuitous ARP may have pointed the
   * LAN at it, so our addresses must be announced again. Also when a node we could not hear
   * is heard again ('returned'): it may have held the group meanwhile.
   */
  | { kind: 'reassert'; group: number; from: string; why: 'released' | 'returned' }
  /**
   * Quorum clusters: our lease on the group is over and another node may now start it, but
   * our stop is not done: remove the group's addresses at once (the other resources' stops
   * go on in order).
   */
  | { kind: 'fence'; group: number }
  /** Power off (or reset) a node not seen to stop cleanly, before taking over (node-fencing.ts). */
  | { kind: 'fence-node'; node: string; attempt: number }
  /** The etcd arbiter: campaign for a group's key, or give it up (arbiter.ts). */
  | ArbiterEffect
  /** Every group is stopped after `leave`: the daemon may say goodbye and exit. */
  | { kind: 'left' };
