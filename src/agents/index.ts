// One entry point for running a resource action, whatever kind of agent the resource has.
import type { ResourceSpec } from '../config/types.js';
import { IpAddrAgent } from './ipaddr.js';
import { runScript } from './run.js';
import { CloudIpAgent } from './cloud/agent.js';
import type { AgentAction, AgentCall, AgentContext } from './types.js';

export type { AgentAction, AgentCall, AgentContext, AgentLog, AgentLogTag, HeldAddress, LogLevel } from './types.js';
export { judgeStatusOutput, scriptArgv } from './run.js';
export { scriptEnv } from './env.js';
export { IpAddrAgent, ARP_DEFAULTS, systemCommands, type CommandRunner, type CommandOutcome, type ArpSettings } from './ipaddr.js';
export { OUTPUT_LIMIT_BYTES } from './process.js';
export { CloudIpAgent, type CloudAgentDeps } from './cloud/agent.js';
export type { ApiCallRecord, CloudFailure } from './cloud/http.js';

/** The process-wide IPaddr/IPaddr2 agent: it owns the ARP bursts a later stop must end. */
export const ipAddrAgent = new IpAddrAgent();

/** The process-wide cloud IP agent: it remembers this machine's id at each provider. */
export const cloudIpAgent = new CloudIpAgent();

/** Runs one action of one resource. Never rejects for an agent's failure: see `ok`. */
export async function runResource(
  spec: ResourceSpec,
  action: AgentAction,
  ctx: AgentContext & { ipaddr?: IpAddrAgent; cloud?: CloudIpAgent },
): Promise<AgentCall> {
  const agent = spec.agent;
  switch (agent.kind) {
    case 'builtin':
      return (ctx.ipaddr ?? ipAddrAgent).run({ ...spec, agent }, action, ctx);
    case 'cloud':
      return (ctx.cloud ?? cloudIpAgent).run({ ...spec, agent }, action, ctx);
    case 'resource.d':
    case 'init.d':
      return runScript({ ...spec, agent }, action, ctx);
    case 'missing': {
      // ResourceManager's words, then where we looked, so the fix is obvious.
      const output = `Cannot locate resource script ${spec.name} (looked for an executable ${agent.searched.join(' or ')})`;
      ctx.log('error', output, 'ResourceManager');
      return {
        resource: spec.raw,
        action,
        argv: [spec.name, ...spec.args, action],
        exitCode: null,
        signal: null,
        timedOut: false,
        output,
        durationMs: 0,
        ok: false,
        ...(action === 'status' ? { running: false } : {}),
      };
    }
  }
}
