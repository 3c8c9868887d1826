// A systemd unit as a resource (`systemd:nginx`, as Pacemaker spells it), for distributions
// without init scripts: start and stop through systemctl, which waits for the job to finish;
// status is `systemctl is-active`. When a start fails, the unit's own account of why
// (Result=, the main process's exit status) goes into the log line.
import type { ResourceSpec } from '../config/types.js';
import { baseEnv } from './env.js';
import { runProcess } from './process.js';
import type { AgentAction, AgentCall, AgentContext } from './types.js';

type UnitSpec = ResourceSpec & { agent: { kind: 'systemd'; unit: string } };

/** is-active answers that count as held: the unit runs, or is on its way up or reloading. */
const HELD = new Set(['active', 'activating', 'reloading']);

export async function runSystemd(spec: UnitSpec, action: AgentAction, ctx: AgentContext): Promise<AgentCall> {
  const { unit } = spec.agent;
  // `--`: whatever the unit is called, it is never read as an option.
  const argv = action === 'status' ? ['systemctl', 'is-active', '--', unit] : ['systemctl', '--no-ask-password', action, '--', unit];
  const line = argv.join(' ');
  ctx.log(action === 'status' ? 'debug' : 'info', `Running ${line}`, 'ResourceManager');
  const r = await runProcess(argv, { timeoutMs: ctx.timeoutMs, killGraceMs: ctx.killGraceMs, env: baseEnv() });
  const base = { resource: spec.raw, action, argv, exitCode: r.exitCode, signal: r.signal, timedOut: r.timedOut, durationMs: r.durationMs };
  const output = r.output.text();
  if (r.spawnError || r.timedOut || r.exitCode === null) {
    const why = r.spawnError ? `cannot run systemctl (${r.spawnError.code ?? r.spawnError.message}): is this a systemd host?` : r.timedOut ? `timed out after ${ctx.timeoutMs} ms (the job may still be running: see systemctl list-jobs)` : `was killed by signal ${r.signal}`;
    ctx.log('error', `${line}: ${why}`, 'ResourceManager');
    return { ...base, output, ok: false, ...(action === 'status' ? { running: false } : {}) };
  }
  if (action === 'status') {
    const state = r.stdout.keptText().trim().split('\n')[0] ?? '';
    const running = HELD.has(state);
    ctx.log('debug', `${line}: ${state || 'no answer'} (${running ? 'running' : 'not running'})`, 'ResourceManager');
    return { ...base, output, ok: true, running, exitName: state };
  }
  if (r.exitCode === 0) return { ...base, output, ok: true };
  const why = await unitReason(unit, ctx);
  ctx.log('error', `${line} failed (exit code ${r.exitCode})${why ? `: ${why}` : ''}${output.trim() ? `; systemctl said: ${output.trim().slice(0, 500)}` : ''}`, 'ResourceManager');
  return { ...base, output, ok: false, ...(why ? { exitName: why } : {}) };
}

/** The unit's own words on its failure: `Result=exit-code, ExecMainStatus=1, ActiveState=failed`. */
async function unitReason(unit: string, ctx: AgentContext): Promise<string | null> {
  const r = await runProcess(['systemctl', 'show', '--property=Result,ExecMainStatus,ActiveState,SubState,LoadState', '--', unit], {
    timeoutMs: Math.min(ctx.timeoutMs, 5000),
    env: baseEnv(),
  });
  if (r.exitCode !== 0) return null;
  const props = new Map<string, string>();
  for (const l of r.stdout.keptText().split('\n')) {
    const eq = l.indexOf('=');
    if (eq > 0) props.set(l.slice(0, eq), l.slice(eq + 1));
  }
  if (props.get('LoadState') === 'not-found') return `unit ${unit} not found: install it or fix the name`;
  return ['Result', 'ExecMainStatus', 'ActiveState', 'SubState']
    .filter((k) => props.get(k))
    .map((k) => `${k}=${props.get(k)}`)
    .join(', ');
}
