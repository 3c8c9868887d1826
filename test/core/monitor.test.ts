// Resource monitoring in the pure core: checks while a group runs, failures counted in a row,
// a restart of the failed resource (stop right to left down to it, start left to right), a
// keep-out after too many restarts within the window, its end by `clear` or by its timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MembershipView } from '../../src/core/membership.js';
import * as Mon from '../../src/core/monitor.js';
import { advertOf, initOwnership, nextWake, step, desiredOwner, type OwnershipEffect, type OwnershipEvent, type OwnershipState } from '../../src/core/ownership.js';
import type { GroupDef, MonitorDef } from '../../src/core/group.js';

const MON: MonitorDef = { resource: 1, intervalMs: 1000, failures: 2, restarts: 2, windowMs: 60_000, keepOutMs: null };
const group = (monitors: MonitorDef[] = [MON]): GroupDef => ({ id: 'a IPaddr::10.0.0.10 apache2 mysql', preferredNode: 'a', resources: ['IPaddr::10.0.0.10', 'apache2', 'mysql'], monitors });

class Node {
  state: OwnershipState;
  effects: OwnershipEffect[] = [];
  now = 0;
  view: MembershipView = { live: [], settled: true, since: {} };
  /** Whether each resource "runs": what a status or monitor call answers. */
  up = [false, false, false];
  constructor(me: string, def: GroupDef = group()) {
    this.state = initOwnership(me, ['a', 'b'], [def], 'on');
  }
  on(ev: OwnershipEvent): OwnershipEffect[] {
    const r = step(this.state, ev, this.view, this.now);
    this.state = r.state;
    this.effects.push(...r.effects);
    return r.effects;
  }
  /** Answers every agent call from `up` (start/stop change it) until none is pending; the calls made. */
  runAgents(): string[] {
    const calls: string[] = [];
    for (let guard = 0; guard < 100; guard++) {
      const pending = this.effects.filter((e): e is Extract<OwnershipEffect, { kind: 'agent' }> => e.kind === 'agent');
      this.effects = this.effects.filter((e) => e.kind !== 'agent');
      if (pending.length === 0) break;
      for (const p of pending) {
        calls.push(`${['ip', 'apache2', 'mysql'][p.resource]} ${p.action}`);
        if (p.action === 'start') this.up[p.resource] = true;
        if (p.action === 'stop') this.up[p.resource] = false;
        const running = this.up[p.resource]!;
        this.on({ kind: 'agent-done', group: 0, resource: p.resource, action: p.action, ok: true, ...(p.action === 'status' || p.action === 'monitor' ? { running } : {}) });
      }
    }
    return calls;
  }
  /** Moves the clock to the core's next wake and ticks. */
  wake(): void {
    this.now = nextWake(this.state, this.view, this.now);
    this.on({ kind: 'tick' });
  }
  phase(): string {
    return this.state.local[0]!.run.phase;
  }
  monitorEffects(): string[] {
    return this.effects.flatMap((e) => (e.kind === 'monitor' ? [e.what] : []));
  }
}

/** Node a alone, its group running. */
function running(def?: GroupDef): Node {
  const a = new Node('a', def);
  a.on({ kind: 'membership' });
  a.runAgents();
  assert.equal(a.phase(), 'running');
  return a;
}

test('a monitored resource is checked every interval while the group runs, with the agent call "monitor"', () => {
  const a = running();
  assert.equal(nextWake(a.state, a.view, a.now), 1000, 'the first check is one interval after the group runs');
  a.wake();
  assert.deepEqual(a.runAgents(), ['apache2 monitor']);
  assert.equal(nextWake(a.state, a.view, a.now), 2000, 'the next one an interval after the answer');
  a.wake();
  assert.deepEqual(a.runAgents(), ['apache2 monitor']);
  assert.deepEqual(a.monitorEffects(), [], 'healthy checks say nothing');
});

test('without a monitor line nothing is checked (Heartbeat\'s behaviour)', () => {
  const a = running(group([]));
  assert.equal(nextWake(a.state, a.view, a.now), Infinity);
});

test('failures in a row restart the failed resource: stop right to left down to it, start left to right; the group is held throughout', () => {
  const a = running();
  a.up[1] = false; // apache2 dies behind a healthy node
  a.wake();
  assert.deepEqual(a.runAgents(), ['apache2 monitor']);
  assert.deepEqual(a.monitorEffects(), ['failed'], 'one failure is counted, no restart yet (failures 2)');
  assert.equal(a.phase(), 'running');
  a.wake();
  const phases: string[] = [];
  const calls: string[] = [];
  for (let i = 0; i < 20 && (i === 0 || a.phase() !== 'running'); i++) {
    calls.push(...a.runAgents().slice(0, 1));
    phases.push(a.phase());
  }
  assert.deepEqual(a.monitorEffects(), ['failed', 'failed', 'restart']);
  assert.equal(a.phase(), 'running');
  assert.deepEqual(a.up, [true, true, true], 'every resource runs again');
  assert.ok(!phases.includes('stopped'), 'never stopped in between: no other node may take it');
  const phaseChanges = a.effects.flatMap((e) => (e.kind === 'group-phase' ? [`${e.from}->${e.to}`] : []));
  assert.deepEqual(phaseChanges.slice(-3), ['running->stopping', 'stopping->starting', 'starting->running']);
});

test('the restart calls, in order: mysql and apache2 stopped, the IP untouched, then apache2 and mysql started', () => {
  const a = running();
  a.up[1] = false;
  a.wake();
  a.runAgents();
  a.wake();
  assert.deepEqual(a.runAgents(), ['apache2 monitor', 'mysql stop', 'apache2 stop', 'apache2 status', 'apache2 start', 'mysql status', 'mysql start']);
});

/** Kills apache2 and lets checks run until a restart or keep-out happened. */
function failUntil(a: Node, what: 'restart' | 'keep-out'): void {
  a.up[1] = false;
  const before = a.monitorEffects().filter((w) => w === what).length;
  for (let i = 0; i < 10 && a.monitorEffects().filter((w) => w === what).length === before; i++) {
    a.wake();
    a.runAgents();
  }
  assert.equal(a.monitorEffects().filter((w) => w === what).length, before + 1, `a ${what} happened`);
}

test('after `restarts` restarts within the window the group moves: this node stops it and keeps out until cleared', () => {
  const a = running();
  a.view = { live: ['b'], settled: true, since: { b: 0 } };
  failUntil(a, 'restart');
  failUntil(a, 'restart');
  failUntil(a, 'keep-out');
  a.runAgents();
  assert.equal(a.phase(), 'stopped', 'the whole group is stopped here');
  assert.deepEqual(a.up, [false, false, false]);
  assert.deepEqual(advertOf(a.state, a.now).failed, [group().id], 'the peers read that this node keeps out of it');
  assert.equal(desiredOwner(a.state, a.view, 0, a.now), 'b', 'the policy picks the other node');
  assert.equal(nextWake(a.state, a.view, a.now), Infinity, 'no timeout: kept out until cleared');
  // Nothing happens by itself, even long after.
  a.now += 3_600_000;
  a.on({ kind: 'tick' });
  assert.deepEqual(advertOf(a.state, a.now).failed, [group().id]);
  a.on({ kind: 'clear', groups: [group().id] });
  assert.deepEqual(advertOf(a.state, a.now).failed, [], 'cleared: a candidate again');
  assert.equal(desiredOwner(a.state, a.view, 0, a.now), 'a', 'auto_failback on: the preferred node wants it back');
  assert.ok(a.monitorEffects().includes('cleared'));
});

test('restarts older than the window are forgotten: a slow trickle of failures never moves the group', () => {
  const a = running({ ...group(), monitors: [{ ...MON, windowMs: 5000 }] });
  for (let k = 0; k < 5; k++) {
    failUntil(a, 'restart');
    a.now += 6000;
    a.on({ kind: 'tick' });
    a.runAgents();
  }
  assert.ok(!a.monitorEffects().includes('keep-out'));
  assert.equal(a.phase(), 'running');
});

test('restarts 0: the first failure moves the group at once; a keep-out with a timeout ends by itself', () => {
  const a = running({ ...group(), monitors: [{ ...MON, failures: 1, restarts: 0, keepOutMs: 30_000 }] });
  failUntil(a, 'keep-out');
  a.runAgents();
  assert.equal(a.phase(), 'stopped');
  const at = a.now;
  assert.equal(nextWake(a.state, a.view, a.now), at + 30_000, 'woken when the keep-out ends');
  a.wake();
  assert.ok(a.monitorEffects().includes('expired'));
  assert.deepEqual(advertOf(a.state, a.now).failed, []);
  a.runAgents();
  assert.equal(a.phase(), 'running', 'alone, it runs the group again');
});

test('an answer of a check begun before a restart is stale and counts nothing', () => {
  let m = Mon.started(Mon.NO_MONITOR, group(), 0);
  m = Mon.begun(m, 1);
  m = Mon.started({ ...m }, group(), 500); // the group reached running again (a new run)
  const r = Mon.answer(m, group(), 1, false, true, 600);
  assert.equal(r.verdict.kind, 'stale');
  assert.equal(r.state.pending, null, 'the resource may be checked again');
  assert.equal(r.state.failed[1] ?? 0, 0);
});

test('a check whose status call failed (timed out) counts as a failure too', () => {
  let m = Mon.started(Mon.NO_MONITOR, group(), 0);
  m = Mon.begun(m, 1);
  const r = Mon.answer(m, group(), 1, false, true, 1000);
  assert.deepEqual(r.verdict, { kind: 'failed', count: 1, of: 2 });
});

test('a shutdown during a restart stops the whole group', () => {
  const a = running();
  a.up[1] = false;
  a.wake();
  a.runAgents();
  a.wake();
  // The restart begins: its first stop is in flight; hbd is told to stop.
  const pending = a.effects.filter((e): e is Extract<OwnershipEffect, { kind: 'agent' }> => e.kind === 'agent');
  assert.equal(pending.length, 1);
  a.on({ kind: 'leave' });
  a.runAgents();
  assert.equal(a.phase(), 'stopped');
  assert.deepEqual(a.up, [false, false, false]);
  assert.ok(a.effects.some((e) => e.kind === 'left'));
});
