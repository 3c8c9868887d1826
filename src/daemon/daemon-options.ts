// What hbd is told when it starts (its command line, or a test), besides the three files.
import type { LoadOptions } from '../config/load.js';
import type { DaemonLogger } from './log.js';

export interface DaemonOptions extends LoadOptions {
  /** This node's name (default `uname -n`). */
  nodeName: string;
  stateDir: string;
  /** For several daemons on one host (127.0.0.x): the address this node's media bind to. */
  localAddress?: string;
  foreground: boolean;
  /** Agent call timeouts. */
  agentTimeoutMs?: { start: number; stop: number; status: number };
  /** Given by the operator: then they win over OCF agents' own timeouts (their meta-data's). */
  agentTimeoutsGiven?: boolean;
  /** Injected for tests; default: a logger built from ha.cf. */
  logger?: DaemonLogger;
  /** Tag of the daemon's log lines (hbd --log-tag); beats ha.cf's `log_tag`. Default `heartbeat`. */
  logTag?: string;
  /** The syslog socket for logfacility (default /dev/log). */
  syslogSocket?: string;
  /** Remove our virtual IPs if hbd dies without a goodbye (default on). */
  addressGuard?: boolean;
  /** hbd --witness: this host is ha.cf's `witness`, a vote that runs no resource group. */
  witness?: boolean;
}
