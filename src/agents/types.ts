// The vocabulary shared by every resource agent: what was asked, what happened, how to log it.
import type { CloudIpKind } from '../config/cloud.js';
import type { ScriptLogging } from './env.js';
import type { ApiCallRecord } from './cloud/http.js';

export type AgentAction = 'start' | 'stop' | 'status';

export type LogLevel = 'info' | 'warn' | 'error' | 'debug';

/**
 * Log sink supplied by the caller (the daemon): lines are worded like Heartbeat's. `tag`: the
 * Heartbeat program that printed such a line (`ResourceManager`, `IPaddr`), for its log tag.
 */
export type AgentLog = (level: LogLevel, message: string, tag?: AgentLogTag) => void;

/**
 * ResourceManager runs scripts (and OCF agents, units); IPaddr, IPaddr2, IPv6addr are
 * Heartbeat's resource.d wrappers; the cloud IP agents tag their lines with their own names.
 */
export type AgentLogTag = 'ResourceManager' | 'IPaddr' | 'IPaddr2' | 'IPv6addr' | CloudIpKind;

/** The outcome of one resource action. */
export interface AgentCall {
  /** The resource as written in haresources, e.g. `IPaddr::10.0.0.5/24/eth0`. */
  resource: string;
  action: AgentAction;
  /** What was run; for built-ins, the command line Heartbeat's resource.d wrapper would get. */
  argv: string[];
  /** null when the process never ran or was ended by a signal. */
  exitCode: number | null;
  /** What the exit code means, where the agent kind names its codes (OCF_ERR_GENERIC, a unit's Result=). */
  exitName?: string;
  signal: string | null;
  timedOut: boolean;
  /** stdout and stderr as they came, bounded (see OUTPUT_LIMIT_BYTES). */
  output: string;
  durationMs: number;
  /**
   * start/stop: the action succeeded (exit code 0). status: the question was answered
   * (the script ran to its end); the answer itself is `running`.
   */
  ok: boolean;
  /** status only: whether the resource is held here, judged as ResourceManager judges it. */
  running?: boolean;
  /** A virtual IP's start, or its status when running: the copy this resource holds (for the address guard). */
  address?: HeldAddress;
}

/** One configured copy of a virtual IP: exactly what `ip addr del ADDRESS/PREFIX dev DEV` removes. */
export interface HeldAddress {
  ip: string;
  prefix: number;
  dev: string;
}

export interface AgentContext {
  /** Upper bound for the whole action; the process group is killed when it expires. */
  timeoutMs: number;
  /** hbd's --config-dir: exported to scripts as HA_DIR (and HA_FUNCS). Default /etc/ha.d. */
  configDir?: string;
  /** hbd's --resource-dir: exported as HA_RESOURCEDIR. Default CONFIG-DIR/resource.d. */
  resourceDir?: string;
  /** ha.cf's logfile, debugfile, logfacility: exported as HA_LOGFILE, HA_DEBUGLOG, HA_LOGFACILITY. */
  logging?: ScriptLogging;
  log: AgentLog;
  /** This node's name as in ha.cf: exported to scripts as HA_CURHOST. */
  nodeName: string;
  /** Time between SIGTERM and SIGKILL of a timed-out process group (default 2000 ms). */
  killGraceMs?: number;
  /**
   * Variables for this call beyond Heartbeat's: HA_ARBITER_REVISION, the etcd arbiter's fencing
   * token (the revision at which this node took the group's key; it grows with every new owner).
   */
  env?: Record<string, string>;
  /** Each attempt of a cloud API call (cloud IP agents), for metrics. */
  apiCall?: (r: ApiCallRecord) => void;
}
