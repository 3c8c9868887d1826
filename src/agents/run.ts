// Running a resource.d or init.d script the way Heartbeat's ResourceManager does:
// `path arg1 arg2 ... ACTION` (the `::` arguments, then the action), one call per action,
// each bounded in time and output, with ResourceManager's log lines.
import type { ResourceSpec } from '../config/types.js';
import { scriptEnv } from './env.js';
import { runProcess, type ProcessResult } from './process.js';
import type { AgentAction, AgentCall, AgentContext } from './types.js';

/** Heartbeat's ResourceManager runs the scripts and prints these lines. */
const RM = 'ResourceManager' as const;

/** Longest piece of output repeated in a log line; the full (bounded) text is in AgentCall. */
const LOG_OUTPUT_CHARS = 4096;

/**
 * ResourceManager's we_own_resource(): only what the script prints on stdout counts, never
 * its exit code. "not <anything> running" (N-O-T in any case, R of running in any case) means
 * stopped; otherwise "running"/"Running" or "OK" anywhere means held; anything else,
 * including no output at all, means not held.
 */
export function judgeStatusOutput(stdout: string): boolean {
  // ResourceManager's `egrep "[Nn][Oo][Tt] .*[Rr]unning"`, in linear time: the first "not "
  // followed by "running" anywhere later. (The regex /not [\s\S]*running/ backtracks: on
  // 64 KiB of output full of "not " and no "running" it blocked the event loop, and with it
  // every heartbeat, for 300 ms; see bench/stability.ts.)
  const not = /[Nn][Oo][Tt] /.exec(stdout);
  if (not && /[Rr]unning/.test(stdout.slice(not.index + 4))) return false;
  return /[Rr]unning|OK/.test(stdout);
}

/** The command line ResourceManager's doscript() builds: script, its `::` args, the action. */
export function scriptArgv(path: string, args: readonly string[], action: AgentAction): string[] {
  return [path, ...args, action];
}

function clip(text: string): string {
  const t = text.trimEnd();
  return t.length > LOG_OUTPUT_CHARS ? `${t.slice(0, LOG_OUTPUT_CHARS)} [...]` : t;
}

/** Why a call did not end well, in ResourceManager's words where it has some. */
function failure(r: ProcessResult, path: string, line: string, timeoutMs: number): string {
  if (r.timedOut) return `${line} timed out after ${timeoutMs} ms: killed its process group ${r.pid}`;
  if (r.signal) return `${line} was killed by signal ${r.signal}`;
  return `Return code ${r.exitCode} from ${path}`;
}

type ScriptSpec = ResourceSpec & { agent: { kind: 'resource.d' | 'init.d'; path: string } };

export async function runScript(spec: ScriptSpec, action: AgentAction, ctx: AgentContext): Promise<AgentCall> {
  const { path } = spec.agent;
  // Heartbeat passes the `::` arguments whichever directory the script was found in; for an
  // init.d script haresources normally gives none, so that is `path ACTION`.
  const argv = scriptArgv(path, spec.args, action);
  const line = argv.join(' ');
  // ResourceManager logs start/stop at info (doscript); status probes only in its debug log.
  ctx.log(action === 'status' ? 'debug' : 'info', `Running ${line}`, RM);

  const r = await runProcess(argv, {
    timeoutMs: ctx.timeoutMs,
    killGraceMs: ctx.killGraceMs,
    env: scriptEnv({ nodeName: ctx.nodeName, configDir: ctx.configDir, resourceDir: ctx.resourceDir, logging: ctx.logging, extra: ctx.env }),
  });
  const base = {
    resource: spec.raw,
    action,
    argv,
    exitCode: r.exitCode,
    signal: r.signal,
    timedOut: r.timedOut,
    durationMs: r.durationMs,
  };

  if (r.spawnError) {
    const why = r.spawnError.code === 'EACCES' ? 'not executable' : r.spawnError.code === 'ENOENT' ? 'no such file' : r.spawnError.message;
    const output = `Cannot run resource script ${path}: ${why} (${r.spawnError.code ?? 'error'})`;
    ctx.log('error', output, RM);
    return { ...base, output, ok: false, ...(action === 'status' ? { running: false } : {}) };
  }

  const output = r.output.text();
  const finished = !r.timedOut && r.exitCode !== null;

  if (action === 'status') {
    // A status that never finished answers nothing: treat it as not held (so a start will
    // follow, as after Heartbeat's empty-output case) and say why.
    const running = finished && judgeStatusOutput(r.stdout.keptText());
    if (!finished) ctx.log('error', failure(r, path, line, ctx.timeoutMs), RM);
    ctx.log('debug', `${line} done. RC=${r.exitCode ?? r.signal}: ${running ? 'running' : 'not running'}`, RM);
    return { ...base, output, ok: finished, running };
  }

  const ok = finished && r.exitCode === 0;
  ctx.log('debug', `${line} done. RC=${r.exitCode ?? r.signal}`, RM);
  if (!ok) {
    ctx.log('error', failure(r, path, line, ctx.timeoutMs), RM);
    if (output.trim()) ctx.log('error', `output of ${line}: ${clip(output)}`, RM);
  } else if (output.trim()) {
    ctx.log('debug', `output of ${line}: ${clip(output)}`, RM);
  }
  return { ...base, output, ok };
}
