// A child process that runs resource actions inside a network namespace (a Node process cannot
// enter one itself): JSON requests on stdin, one JSON line per reply or event on stdout.
// It does nothing unless HBT_AGENTS_RUNNER=1, because `node --test dist/test/` also loads it.
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import type { ResourceSpec } from '../../src/config/types.js';
import { parseVip } from '../../src/config/vip.js';
import { IpAddrAgent, runResource, type AgentAction, type ArpSettings } from '../../src/agents/index.js';

export interface RunnerRequest {
  id: number;
  spec: ResourceSpec;
  action: AgentAction;
  timeoutMs?: number;
}

export type RunnerLine =
  | {
      type: 'reply';
      id: number;
      call: import('../../src/agents/index.js').AgentCall;
      logs: { level: string; message: string }[];
      /** Runner clock (performance.now()) when the action resolved. */
      resolvedAt: number;
      /** Whether the VIP's arping was still running at that moment, and its PID. */
      arpRunning: boolean;
      arpPid: number | null;
    }
  | { type: 'log'; level: string; message: string }
  | { type: 'arp-exit'; ip: string; at: number; exitCode: number | null; killed: boolean }
  | { type: 'error'; message: string };

/** The address as the agent keys its announcements (an IPv6 one in the spelling `ip` prints). */
function ipOf(spec: ResourceSpec): string {
  const r = parseVip(spec.args[0] ?? '', [4, 6]);
  return r.ok ? r.vip.ip : '';
}

function main(): void {
  const arp = JSON.parse(process.env.HBT_AGENTS_ARP ?? '{}') as Partial<Record<'IPaddr' | 'IPaddr2' | 'IPv6addr', ArpSettings>>;
  const agent = new IpAddrAgent(undefined, arp);
  const emit = (line: RunnerLine): void => void process.stdout.write(`${JSON.stringify(line)}\n`);
  let chain: Promise<void> = Promise.resolve();

  const handle = async (req: RunnerRequest): Promise<void> => {
    const logs: { level: string; message: string }[] = [];
    let replied = false;
    const call = await runResource(req.spec, req.action, {
      timeoutMs: req.timeoutMs ?? 5000,
      nodeName: 'test',
      ipaddr: agent,
      // Lines logged after the reply (an arping failing later) become events of their own.
      log: (level, message) => (replied ? emit({ type: 'log', level, message }) : logs.push({ level, message })),
    });
    const resolvedAt = performance.now();
    const ip = req.spec.agent.kind === 'builtin' ? ipOf(req.spec) : '';
    const arping = ip ? agent.pendingArp(ip) : undefined;
    replied = true;
    emit({ type: 'reply', id: req.id, call, logs, resolvedAt, arpRunning: !!arping?.running(), arpPid: arping?.pid ?? null });
    if (arping && req.action === 'start') {
      void arping.exited.then((o) => emit({ type: 'arp-exit', ip, at: performance.now(), exitCode: o.exitCode, killed: o.killed }));
    }
  };

  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    chain = chain.then(() => handle(JSON.parse(line) as RunnerRequest)).catch((err: unknown) => emit({ type: 'error', message: String(err) }));
  });
  // stdin closed: the test is done with us; leave no arping behind.
  rl.on('close', () => void chain.then(() => agent.stopAllArps()));
}

if (process.env.HBT_AGENTS_RUNNER === '1') main();
