// What a node tells its peers in every status heartbeat about resource groups, keyed by group
// id (never by a node's own haresources order, which may differ between nodes). The core
// builds it whole; wire/advert.ts carries it unchanged; a receiver looks up its own groups
// by id, and a group missing from an advert is one the sender has no haresources line for.

export type GroupPhase = 'stopped' | 'starting' | 'running' | 'stopping' | 'stop-failed';

/** A vote for one claim of one node (of one generation) on one group. */
export interface Grant {
  node: string;
  gen: number;
  claim: number;
}

/** "The newest advert I have from `node` (generation `gen`) was built at its time `at`." */
export interface Ack {
  node: string;
  gen: number;
  at: number;
}

/** The sender's part in one group. */
export interface GroupAdvert {
  phase: GroupPhase;
  /** Quorum clusters: the claim under which the sender wants or holds the group, or null. */
  claim: number | null;
  /** Quorum clusters: the claim the sender grants the group to, or null. */
  grant: Grant | null;
}

export interface PeerAdvert {
  /** Every group the sender has a haresources line for, by group id. */
  groups: Record<string, GroupAdvert>;
  /** Groups this node refuses while another eligible node is up (hb_standby). */
  standby: string[];
  /** Groups whose start failed on this node recently: it must not be asked again soon. */
  failed: string[];
  /** Takeover requests (hb_takeover on that node): applied once per serial. */
  takeover: { serial: number; groups: string[] } | null;
  /** The node is shutting down: it is no candidate, and takes nothing new. */
  leaving: boolean;
  /** The sender's generation (restart count). */
  gen: number;
  /** The sender's own clock (ms, floored) when it built this advert. */
  at: number;
  /** The sender's deadtime: it declares a node dead only after this much silence. */
  deadtimeMs: number;
  /** Quorum clusters: for each node the sender holds alive, the newest `at` it has received from it. */
  acks: Ack[];
  /**
   * The resources the sender may have running (those of its groups not stopped), by name, as
   * far as the receiver knows them: a node whose haresources has another line with the same
   * resources (a reload changed the line on one node first) holds them under another id.
   */
  resources: string[];
  /**
   * How many ping nodes the sender reaches (core/ping.ts, with its hysteresis); absent when
   * it has none. With ipfail on, a node that reaches fewer than another is no candidate.
   */
  pings?: number;
  /**
   * A synthetic advert, read from a peer that speaks Heartbeat's protocol alone
   * (core/heartbeat-peer.ts): it sends no claims, grants nor acks, and negotiates each move of
   * a group by messages instead. Never on the wire.
   */
  heartbeatPeer?: true;
  /** Such a peer's answer (`other`) to our `me`: the groups it is ready to take from us now. */
  accepts?: string[];
}

/** A node in this phase may have some of the group's resources running: it holds the group. */
export function holds(phase: GroupPhase): boolean {
  return phase !== 'stopped';
}
