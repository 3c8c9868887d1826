// Running an OCF resource agent (resource-agents' /usr/lib/ocf/resource.d/PROVIDER/TYPE) by the
// OCF calling convention: the parameters as OCF_RESKEY_* in an environment built from nothing,
// the action as the only argument, the answer in the exit code. Heartbeat's `status` is the
// OCF `monitor` (as its hto-mapfuncs mapped it); 0 means running, 7 (OCF_NOT_RUNNING) stopped,
// anything else a failure, logged with the code's name.
import { performance } from 'node:perf_hooks';
import type { OcfAgentSpec, ResourceSpec } from '../config/types.js';
import { metaDataEnv, META_DATA_TIMEOUT_MS, ocfCodeName, parseMetaData, rememberMetaData, type MetaResult } from '../config/ocf-meta.js';

export { ocfCodeName };
import { scriptEnv } from './env.js';
import { runProcess } from './process.js';
import type { AgentAction, AgentCall, AgentContext } from './types.js';

export const OCF_SUCCESS = 0;
export const OCF_NOT_RUNNING = 7;

type OcfSpec = ResourceSpec & { agent: { kind: 'ocf'; ocf: OcfAgentSpec } };

/** What the agent sees: Heartbeat's script variables, then the OCF ones. */
export function ocfEnv(ocf: OcfAgentSpec, ctx: AgentContext, timeoutMs: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...scriptEnv({ nodeName: ctx.nodeName, configDir: ctx.configDir, resourceDir: ctx.resourceDir, logging: ctx.logging, extra: ctx.env }),
    OCF_ROOT: ocf.root,
    OCF_RA_VERSION_MAJOR: '1',
    OCF_RA_VERSION_MINOR: '0',
    OCF_RESOURCE_INSTANCE: ocf.instance,
    OCF_RESOURCE_TYPE: ocf.type,
    OCF_RESOURCE_PROVIDER: ocf.provider,
    // Agents that wait for something (a mount, a daemon) size their waits from this.
    OCF_RESKEY_CRM_meta_timeout: String(timeoutMs),
  };
  for (const [k, v] of ocf.params) env[`OCF_RESKEY_${k}`] = v;
  return env;
}

/** `ocf:heartbeat:Filesystem (device=/dev/sda1 directory=/data1)`: the agent and its parameters, for log lines. */
function describe(ocf: OcfAgentSpec): string {
  const params = ocf.params.map(([k, v]) => `${k}=${v}`).join(' ');
  return `ocf:${ocf.provider}:${ocf.type}${params ? ` (${params})` : ''}`;
}

export async function runOcf(spec: OcfSpec, action: AgentAction, ctx: AgentContext): Promise<AgentCall> {
  const { ocf } = spec.agent;
  const op = action === 'status' ? 'monitor' : action;
  const argv = [ocf.path, op];
  const line = `${describe(ocf)} ${op}`;
  ctx.log(action === 'status' ? 'debug' : 'info', `Running ${line}`, 'ResourceManager');
  const env = { ...ocfEnv(ocf, ctx, ctx.timeoutMs), ...(op === 'monitor' ? { OCF_CHECK_LEVEL: '0' } : {}) };
  const r = await runProcess(argv, { timeoutMs: ctx.timeoutMs, killGraceMs: ctx.killGraceMs, env });
  const base = { resource: spec.raw, action, argv, exitCode: r.exitCode, signal: r.signal, timedOut: r.timedOut, durationMs: r.durationMs };
  const output = r.output.text();
  const tail = output.trim() ? `: ${output.trim().split('\n').slice(-5).join(' | ').slice(0, 1000)}` : '';

  if (r.spawnError || r.timedOut || r.exitCode === null) {
    const why = r.spawnError
      ? `cannot be run (${r.spawnError.code ?? r.spawnError.message})`
      : r.timedOut
        ? `timed out after ${ctx.timeoutMs} ms: killed its process group ${r.pid}`
        : `was killed by signal ${r.signal}`;
    ctx.log('error', `${line} ${why}${tail}`, 'ResourceManager');
    return { ...base, output, ok: false, exitName: r.timedOut ? 'timeout' : 'no exit code', ...(action === 'status' ? { running: false } : {}) };
  }

  const rc = r.exitCode;
  const exitName = ocfCodeName(rc);
  if (action === 'status') {
    if (rc === OCF_SUCCESS || rc === OCF_NOT_RUNNING) {
      ctx.log('debug', `${line} done. RC=${rc} (${exitName}): ${rc === OCF_SUCCESS ? 'running' : 'not running'}`, 'ResourceManager');
      return { ...base, output, ok: true, running: rc === OCF_SUCCESS, exitName };
    }
    // A failed monitor: the resource is neither cleanly running nor cleanly stopped.
    ctx.log('error', `${line} failed: return code ${rc} (${exitName})${tail}`, 'ResourceManager');
    return { ...base, output, ok: false, running: false, exitName };
  }
  if (rc === OCF_SUCCESS || (action === 'stop' && rc === OCF_NOT_RUNNING)) {
    if (rc === OCF_NOT_RUNNING) ctx.log('info', `${line}: return code 7 (OCF_NOT_RUNNING): it was not running`, 'ResourceManager');
    ctx.log('debug', `${line} done. RC=${rc} (${exitName})`, 'ResourceManager');
    return { ...base, output, ok: true, exitName };
  }
  ctx.log('error', `Return code ${rc} (${exitName}) from ${line}${tail}`, 'ResourceManager');
  return { ...base, output, ok: false, exitName };
}

/**
 * Reads an agent's meta-data without blocking the daemon (a reload names an agent not read
 * before), into the cache config/ocf-meta.ts keeps for the next load.
 */
export async function fetchMetaData(path: string, root: string): Promise<MetaResult> {
  const started = performance.now();
  const r = await runProcess([path, 'meta-data'], { timeoutMs: META_DATA_TIMEOUT_MS, env: metaDataEnv(root), outputLimitBytes: 1024 * 1024 });
  const result: MetaResult =
    r.exitCode === 0 && !r.timedOut
      ? parseMetaData(r.stdout.keptText())
      : { ok: false, error: `"${path} meta-data" failed (${r.timedOut ? `no answer in ${Math.round(performance.now() - started)} ms` : r.spawnError ? (r.spawnError.code ?? 'error') : `exit code ${r.exitCode ?? r.signal}`})` };
  rememberMetaData(path, result);
  return result;
}
