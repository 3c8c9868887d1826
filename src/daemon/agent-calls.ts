// Resource agent calls as the daemon makes them: each with its timeout, its failure logged
// with the command line and output, its duration counted; and the removal of virtual IPs
// found configured where none of ours should run yet.
import { runResource, type AgentContext, type AgentLogTag, type HeldAddress } from '../agents/index.js';
import { effectiveLogFacility } from '../config/hacf-defaults.js';
import type { ClusterConfig, ResourceSpec } from '../config/types.js';
import type { LogLevel, LogTag } from '../core/node.js';
import type { AgentAction } from '../runtime/port.js';
import type { ClusterView } from '../status/cluster-view.js';
import type { DaemonLogger } from './log.js';

export const DEFAULT_AGENT_TIMEOUTS = { start: 60_000, stop: 60_000, status: 20_000 };

export interface AgentCallsHost {
  nodeName: string;
  resourceDir: string | undefined;
  timeouts: { start: number; stop: number; status: number };
  /** The operator set the timeouts (hbd --agent-timeout): they win over an OCF agent's own. */
  timeoutsGiven?: boolean;
  /** The running configuration (it changes at a reload). */
  config(): ClusterConfig;
  log: DaemonLogger;
  logAt(level: LogLevel, text: string, tag?: LogTag | AgentLogTag): void;
  view: ClusterView;
  now(): number;
}

/** What became of a call: its result for the core, and the copy of a virtual IP it reports. */
export interface CallOutcome {
  ok: boolean;
  running?: boolean;
  address?: HeldAddress;
}

export class AgentCalls {
  constructor(private readonly host: AgentCallsHost) {}

  /**
   * Runs `action` of `spec`; `done` always follows, once. A `monitor` (resource monitoring's
   * check of a running resource) is the agent's status call.
   */
  run(spec: ResourceSpec, action: AgentAction, done: (outcome: CallOutcome) => void, env?: Record<string, string>): void {
    const h = this.host;
    const agentAction = action === 'monitor' ? 'status' : action;
    const timeoutMs = this.timeoutFor(spec, agentAction);
    const started = h.now();
    runResource(spec, agentAction, { ...this.context(timeoutMs), ...(env ? { env } : {}) })
      .then((call) => {
        h.view.agentCall(spec.raw, action, h.now() - started, call.ok);
        if (!call.ok || call.timedOut) {
          const code = `exit code ${call.exitCode ?? call.signal}${call.exitName ? ` (${call.exitName})` : ''}`;
          h.log.error(`${call.argv.join(' ')}: ${call.timedOut ? `timed out after ${timeoutMs} ms` : code}${call.output ? `; output: ${call.output.slice(0, 500)}` : ''}`);
        } else if (action === 'monitor' && !call.running) {
          // A status probe is logged at debug only; a failed check is news: its command, code and output.
          h.log.warn(`monitor: ${call.argv.join(' ')} says ${spec.raw} is not running: exit code ${call.exitCode ?? call.signal}${call.exitName ? ` (${call.exitName})` : ''}${call.output.trim() ? `; output: ${call.output.trim().slice(0, 500)}` : ''}`);
        }
        done({ ok: call.ok, ...(call.running !== undefined ? { running: call.running } : {}), ...(call.address ? { address: call.address } : {}) });
      })
      .catch((err: unknown) => {
        h.log.error(`${spec.raw} ${action}: ${(err as Error).message}`);
        done({ ok: false, running: false });
      });
  }

  /** An OCF agent's own timeout (its meta-data's) unless the operator gave hbd one. */
  timeoutFor(spec: ResourceSpec, action: Exclude<AgentAction, 'monitor'>): number {
    const h = this.host;
    if (spec.agent.kind !== 'ocf' || h.timeoutsGiven) return h.timeouts[action];
    return spec.agent.ocf.timeouts[action === 'status' ? 'monitor' : action] ?? h.timeouts[action];
  }

  context(timeoutMs: number): AgentContext {
    const h = this.host;
    const config = h.config();
    return {
      timeoutMs,
      nodeName: h.nodeName,
      configDir: config.dir,
      resourceDir: h.resourceDir,
      // The facility hbd itself falls back to, so the scripts' own lines do not vanish either.
      logging: { ...config.ha, logfacility: effectiveLogFacility(config.ha) },
      log: (level, message, tag) => h.logAt(level, message, tag),
      apiCall: (r) => h.view.cloudApiCall(r),
    };
  }

  /**
   * Virtual IPs of our groups left configured by an earlier run (hbd and its guard both
   * killed, a clean exit in stop-failed, or added by hand) are removed before we join, and
   * those of a group a reload adds before the core knows it: an address must never run here
   * unguarded while a peer may take its group over. `why`: why none of them should run yet;
   * `before`: before what it is removed.
   */
  async releaseLeftovers(specs: ResourceSpec[], why: string, before: string): Promise<void> {
    const h = this.host;
    for (const spec of specs) {
      if (spec.agent.kind !== 'builtin') continue;
      const status = await runResource(spec, 'status', this.context(h.timeouts.status));
      if (!status.running) continue;
      const where = status.address ? `${status.address.ip}/${status.address.prefix} on ${status.address.dev}` : spec.raw;
      h.log.warn(`${where} (${spec.raw}) is configured although ${why} (left by an earlier run, or added by hand): removing it before ${before}.`);
      const stop = await runResource(spec, 'stop', this.context(h.timeouts.stop));
      if (!stop.ok) h.log.crit(`${spec.raw}: could not remove ${where}; it may now run on two hosts. Remove it by hand.`);
    }
  }
}
