// Small fixtures for agent tests: temp script dirs, resource specs, a log recorder.
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResourceSpec } from '../../src/config/types.js';
import type { AgentContext, LogLevel } from '../../src/agents/types.js';
import { signalPid } from '../../src/lib/signal.js';

export interface ScriptDir {
  dir: string;
  /** Writes an executable bash script (or with `mode`) and returns its path. */
  script(name: string, body: string, mode?: number): Promise<string>;
  remove(): Promise<void>;
}

export async function scriptDir(): Promise<ScriptDir> {
  const dir = await mkdtemp(join(tmpdir(), 'hbt-agents-'));
  return {
    dir,
    async script(name, body, mode = 0o755) {
      const path = join(dir, name);
      await writeFile(path, `#!/bin/bash\n${body}\n`, { mode });
      return path;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export function resourceD(path: string, args: string[] = [], name = path.split('/').pop() ?? path): ResourceSpec {
  return { raw: [name, ...args].join('::'), name, args, agent: { kind: 'resource.d', path } };
}

export function initD(path: string, name = path.split('/').pop() ?? path): ResourceSpec {
  return { raw: name, name, args: [], agent: { kind: 'init.d', path } };
}

/** `IPaddr2::10.0.0.5/24` -> a built-in ResourceSpec, as the config layer would build it. */
export function builtin(raw: string): ResourceSpec {
  const [name = '', ...args] = raw.split('::');
  if (name !== 'IPaddr' && name !== 'IPaddr2') throw new Error(`not a built-in: ${raw}`);
  return { raw, name, args, agent: { kind: 'builtin', id: name } };
}

export interface LogRecorder {
  lines: { level: LogLevel; message: string }[];
  ctx(over?: Partial<AgentContext>): AgentContext;
  text(): string;
}

export function recorder(): LogRecorder {
  const lines: { level: LogLevel; message: string }[] = [];
  return {
    lines,
    ctx: (over = {}) => ({ timeoutMs: 5000, nodeName: 'node1', log: (level, message) => lines.push({ level, message }), ...over }),
    text: () => lines.map((l) => `${l.level}: ${l.message}`).join('\n'),
  };
}

/** Kills by PID what a test started, ignoring what is already gone. */
export function killPids(pids: number[]): void {
  for (const pid of pids) signalPid(pid);
}

export async function readPids(file: string): Promise<number[]> {
  try {
    return (await readFile(file, 'utf8')).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
