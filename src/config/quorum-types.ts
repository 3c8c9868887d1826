// What ha.cf says about a quorum source, ping nodes and fencing: the directives of issue 16
// (Heartbeat's `stonith_host`, `ping`, `deadping`, and ours: `witness`, `ipfail`,
// `fence_agent`, `fence_timeout`). Kept apart from types.ts so that each concern reads alone.

/** `stonith_host FROM TYPE PARAMS...` as Heartbeat spells it: run through cluster-glue's `stonith`. */
export interface StonithHost {
  /** The node that may use this device (`*`: any). */
  from: string;
  /** cluster-glue's device type (`external/ssh`, `meatware`, `baytech`...). */
  type: string;
  /** The device's parameters: name=value words as `stonith` takes them, or positional words (`-p`). */
  params: string[];
  line: number;
}

/** `fence_agent TARGET AGENT key=value...` (ours): a fence-agents `fence_*` program fed key=value on stdin. */
export interface FenceAgent {
  /** The node this agent powers off (`*`: any node). */
  target: string;
  /** `fence_ipmilan`, or an absolute path to a program with the same stdin interface. */
  agent: string;
  /** The key=value lines given to the agent, in order (action=reboot when none names an action). */
  args: [string, string][];
  line: number;
}

export interface QuorumCf {
  /** `witness NAME` (ours): a third host running `hbd --witness` that votes for one side of a partition. */
  witness: { name: string; line: number } | null;
  /** `ipfail on|off` (ours); null: on when a `respawn` line runs Heartbeat's ipfail. */
  ipfail: { on: boolean; line: number } | null;
  stonith: StonithHost[];
  fenceAgents: FenceAgent[];
  /** `fence_timeout` (ours): a fence request that has not answered by then has failed. */
  fenceTimeoutMs: number;
}

export function defaultQuorumCf(): QuorumCf {
  return { witness: null, ipfail: null, stonith: [], fenceAgents: [], fenceTimeoutMs: 60_000 };
}
