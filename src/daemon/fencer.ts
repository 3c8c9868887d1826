// Carrying out the core's fence-node effects (core/node-fencing.ts): the devices ha.cf names
// for the target, tried in file order until one reports success. Heartbeat's `stonith_host`
// runs through cluster-glue's `stonith` command (`stonith -t TYPE PARAMS -T reset NODE`, the
// plugins Heartbeat itself used); our `fence_agent` runs a fence-agents program with its
// options as key=value lines on stdin (`action=reboot` unless given). Each call is bounded by
// `fence_timeout`: a fence that hangs has failed. Only exit code 0 is success.
import { existsSync } from 'node:fs';
import { runProcess, type ProcessResult } from '../agents/process.js';
import type { FenceAgent, QuorumCf, StonithHost } from '../config/quorum-types.js';
import type { Logger } from '../lib/logger.js';

/** One way to fence a node: what to run, and what to tell it on stdin. */
export interface FenceCall {
  device: string;
  argv: string[];
  stdin?: string;
}

/** cluster-glue's `stonith` for a `stonith_host` line: name=value parameters as such, positional ones through -p. */
export function stonithCall(s: StonithHost, node: string): FenceCall {
  const named = s.params.length > 0 && s.params.every((p) => /^[A-Za-z_][A-Za-z0-9_-]*=/.test(p));
  const params = named ? s.params : s.params.length > 0 ? ['-p', s.params.join(' ')] : [];
  return { device: `stonith ${s.type}`, argv: ['stonith', '-t', s.type, ...params, '-T', 'reset', node] };
}

/** A fence-agents program for a `fence_agent` line; a `*` line names the target as its plug unless told otherwise. */
export function fenceAgentCall(f: FenceAgent, node: string, sbin = '/usr/sbin'): FenceCall {
  const program = f.agent.startsWith('/') ? f.agent : existsSync(`${sbin}/${f.agent}`) ? `${sbin}/${f.agent}` : f.agent;
  const keys = new Set(f.args.map(([k]) => k));
  const lines = [...(keys.has('action') ? [] : ['action=reboot']), ...(f.target === '*' && !keys.has('plug') && !keys.has('port') ? [`plug=${node}`] : []), ...f.args.map(([k, v]) => `${k}=${v}`)];
  return { device: f.agent, argv: [program], stdin: `${lines.join('\n')}\n` };
}

/** The devices that may fence `node` from `me`, in ha.cf's order. */
export function fenceCalls(q: QuorumCf, me: string, node: string): FenceCall[] {
  const lines: { line: number; call: FenceCall }[] = [
    ...q.stonith.filter((s) => s.from === '*' || s.from === me).map((s) => ({ line: s.line, call: stonithCall(s, node) })),
    ...q.fenceAgents.filter((f) => f.target === '*' || f.target === node).map((f) => ({ line: f.line, call: fenceAgentCall(f, node) })),
  ];
  return lines.sort((a, b) => a.line - b.line).map((l) => l.call);
}

function outcome(r: ProcessResult, timeoutMs: number): string {
  if (r.spawnError) return `could not run (${r.spawnError.code ?? r.spawnError.message})`;
  if (r.timedOut) return `timed out after ${timeoutMs} ms (fence_timeout): killed`;
  if (r.signal) return `killed by signal ${r.signal}`;
  return `exit code ${r.exitCode}`;
}

/** Fences `node`: true once a device reported success; false when none did (each failure logged). */
export async function fenceNode(q: QuorumCf, me: string, node: string, log: Logger): Promise<boolean> {
  const calls = fenceCalls(q, me, node);
  if (calls.length === 0) {
    log.crit(`no fence device in ha.cf can fence node ${node}: add "fence_agent ${node} fence_... key=value..." or a "stonith_host" line that covers it`);
    return false;
  }
  for (const c of calls) {
    log.info(`Resetting node ${node} with [${c.device}]`);
    const r = await runProcess(c.argv, { timeoutMs: q.fenceTimeoutMs, ...(c.stdin !== undefined ? { stdin: c.stdin } : {}) });
    const text = r.output.text().trim();
    if (text) log.info(`${c.device} said: ${text.slice(0, 2048)}`);
    if (!r.spawnError && !r.timedOut && r.exitCode === 0) return true;
    log.error(`Host ${node} not reset! ${c.device}: ${outcome(r, q.fenceTimeoutMs)}`);
  }
  return false;
}
