// Simulated resource agents: how each call the core asks for ends (ok, fail, or hang until
// the daemon's timeout) under the agent faults in effect, and what it does to the resources.
import type { Rng } from './prng.js';
import type { Fault, Schedule } from './schedule.js';

export type AgentOutcome = 'ok' | 'fail' | 'hang';

export interface Call {
  id: number;
  gen: number;
  /** The group's number in its node's core when the call began, its id, and its global index. */
  g: number;
  gid: string;
  global: number;
  r: number;
  /** `monitor`: a status call checking a running resource (faults and timeouts as for status). */
  action: 'status' | 'start' | 'stop' | 'monitor';
  outcome: AgentOutcome;
  startedAt: number;
  timeoutMs: number;
}

type AgentFault = Extract<Fault, { kind: 'agent' }>;

export class VirtualAgents {
  private readonly active = new Set<AgentFault>();
  private callNo = 0;

  constructor(
    private readonly schedule: Schedule,
    private readonly rng: Rng,
  ) {}

  toggle(f: AgentFault, on: boolean): void {
    if (on) this.active.add(f);
    else this.active.delete(f);
  }

  /** A new call on `node` (generation `gen`) and when it ends: after its run time, or at its timeout if it hangs. */
  begin(node: string, gen: number, g: number, gid: string, global: number, r: number, action: Call['action'], now: number): { call: Call; endsAt: number } {
    const { agent } = this.schedule.config;
    let outcome: AgentOutcome = 'ok';
    for (const f of this.active) {
      const asked = action === 'monitor' ? 'status' : action;
      if (f.node !== node || f.action !== asked || (f.group !== null && f.group !== gid)) continue;
      if (this.rng() < f.rate) outcome = f.mode;
    }
    const timeoutMs = agent.timeoutMs[action === 'monitor' ? 'status' : action];
    const dur = agent.minMs + this.rng() * (agent.maxMs - agent.minMs);
    const call: Call = { id: ++this.callNo, gen, g, gid, global, r, action, outcome, startedAt: now, timeoutMs };
    return { call, endsAt: now + (outcome === 'hang' ? timeoutMs : dur) };
  }

  /**
   * The call ends at `now`: its outcome as the daemon sees it, applied to the resources of its
   * group on that node (`running`, by resource index). A failed or hung start may have left
   * the resource running; a hung stop may or may not have stopped it.
   */
  finish(call: Call, now: number, running: boolean[]): { ok: boolean; running?: boolean } {
    let outcome = call.outcome;
    // Frozen past its timeout: the daemon's timer fires before the child's exit is read.
    if (outcome !== 'hang' && now - call.startedAt > call.timeoutMs) outcome = 'hang';
    const coin = () => this.rng() < 0.5;
    if (call.action === 'start') running[call.r] = outcome === 'ok' ? true : coin();
    else if (call.action === 'stop') {
      if (outcome === 'ok') running[call.r] = false;
      else if (outcome === 'hang' && coin()) running[call.r] = false;
    }
    const ok = outcome === 'ok';
    return call.action === 'status' || call.action === 'monitor' ? { ok, running: ok && running[call.r]! } : { ok };
  }
}
