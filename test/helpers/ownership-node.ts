// One node's ownership core (src/core/ownership.ts) stepped by hand in core tests: its state,
// the effects it returned, its clock, and membership's view as membership would pass it in
// (a node is up since it was first seen live).
import type { MembershipView } from '../../src/core/membership.js';
import { step, type OwnershipEffect, type OwnershipEvent, type OwnershipState } from '../../src/core/ownership.js';

export type AgentEffect = Extract<OwnershipEffect, { kind: 'agent' }>;

export class OwnershipNode {
  effects: OwnershipEffect[] = [];
  now = 0;
  view: MembershipView = { live: [], settled: false, since: {} };
  constructor(public state: OwnershipState) {}

  on(ev: OwnershipEvent): OwnershipEffect[] {
    const r = step(this.state, ev, this.view, this.now);
    this.state = r.state;
    this.effects.push(...r.effects);
    return r.effects;
  }

  membership(live: string[], settled = true): OwnershipEffect[] {
    this.view = { live, settled, since: Object.fromEntries(live.map((n) => [n, this.view.since[n] ?? this.now])) };
    return this.on({ kind: 'membership' });
  }

  /** Answers every agent call with `answer` until no call is pending; the calls, in order. */
  answerAgents(answer: (e: AgentEffect) => { ok: boolean; running?: boolean } = () => ({ ok: true, running: false })): AgentEffect[] {
    const calls: AgentEffect[] = [];
    for (let guard = 0; guard < 100; guard++) {
      const pending = this.effects.filter((e): e is AgentEffect => e.kind === 'agent');
      this.effects = this.effects.filter((e) => e.kind !== 'agent');
      if (pending.length === 0) break;
      for (const p of pending) {
        calls.push(p);
        this.on({ kind: 'agent-done', group: p.group, resource: p.resource, action: p.action, ...answer(p) });
      }
    }
    return calls;
  }
}
