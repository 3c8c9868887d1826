// A reload in the node runtime (runtime/runtime.ts): agent calls in flight when the groups are
// renumbered come back to their own group, found by id; adverts of groups a reload added are
// read from the next heartbeat on; and a refused reload changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupDef, NodeOptions, PeerAdvert } from '../../src/core/node.js';
import { NodeRuntime } from '../../src/runtime/runtime.js';
import type { AgentCall, NodePort } from '../../src/runtime/port.js';
import type { HbMessage } from '../../src/wire/message.js';
import { statusMessage, type Sender } from '../../src/wire/messages.js';

const X: GroupDef = { id: 'a IPaddr::10.0.0.5', preferredNode: 'a', resources: ['IPaddr::10.0.0.5'] };
const A: GroupDef = { id: 'a IPaddr::10.0.0.10 apache2', preferredNode: 'a', resources: ['IPaddr::10.0.0.10', 'apache2'] };
const C: GroupDef = { id: 'b IPaddr::10.0.0.30', preferredNode: 'b', resources: ['IPaddr::10.0.0.30'] };

const TIMERS = { keepaliveMs: 100, warntimeMs: 300, deadtimeMs: 1000, initdeadMs: 2000 };
const options = (groups: GroupDef[]): NodeOptions => ({ me: 'a', nodes: ['a', 'b'], linkNames: ['eth0'], timers: TIMERS, groups, autoFailback: 'on', digest: 'd1', generation: 1 });
const sender = (node: string, deadtimeMs = TIMERS.deadtimeMs): Sender => ({ node, uuid: Buffer.alloc(16), generation: 1, deadtimeMs });

class Port implements NodePort {
  calls: AgentCall[] = [];
  sent: HbMessage[] = [];
  send(m: HbMessage): void {
    this.sent.push(m);
  }
  runAgent(call: AgentCall): void {
    this.calls.push(call);
  }
  log(): void {}
  wakeIn(): void {}
  wallSeconds(): number {
    return 1_700_000_000;
  }
  observe(): void {}
  exit(): void {}
}

let seq = 0;
/** A status heartbeat of b listing `groups`, all stopped. */
function fromB(groups: GroupDef[], at: number): HbMessage {
  const advert: PeerAdvert = {
    groups: Object.fromEntries(groups.map((g) => [g.id, { phase: 'stopped' as const, claim: null, grant: null }])),
    standby: [],
    failed: [],
    takeover: null,
    leaving: false,
    gen: 1,
    at,
    deadtimeMs: TIMERS.deadtimeMs,
    acks: [],
    resources: [],
  };
  return statusMessage(sender('b'), ++seq, 1_700_000_000, { st: 'active', advert, digest: 'd1' });
}

function take(port: Port): AgentCall[] {
  const calls = port.calls;
  port.calls = [];
  return calls;
}

test('an agent call in flight across a reload that renumbers the groups comes back to its own group', () => {
  const port = new Port();
  const rt = new NodeRuntime({ node: options([X, A]), sender: sender('a'), port }, 0);
  rt.receive(fromB([X, A], 0), 'eth0', 10);
  const inFlight = take(port);
  assert.deepEqual(inFlight.map((c) => [c.group, c.groupId, c.action]), [[0, X.id, 'status'], [1, A.id, 'status']]);

  // X is removed: A becomes group 0; X, still starting here, waits at the end for its stop.
  assert.deepEqual(rt.reconfigure(options([A]), sender('a'), 20), []);
  assert.deepEqual(rt.nodeState.ownership.groups.map((g) => g.id), [A.id, X.id]);

  // The answers come back as the calls went out, with the numbers of before the reload: X's
  // address is found running, A's not. Swapped, A would skip its start and X stop nothing.
  for (const call of inFlight) rt.agentDone({ ...call, ok: true, running: call.groupId === X.id }, 30);
  assert.deepEqual(
    take(port).map((c) => `${c.groupId} #${c.resource} ${c.action}`).sort(),
    [`${A.id} #0 start`, `${X.id} #0 stop`].sort(),
  );
  rt.agentDone({ group: 0, groupId: A.id, resource: 0, action: 'start', ok: true }, 31);
  rt.agentDone({ group: 1, groupId: X.id, resource: 0, action: 'stop', ok: true }, 32);
  let now = 40;
  for (let round = 0; round < 10; round++) {
    const calls = take(port);
    if (calls.length === 0) break;
    for (const call of calls) rt.agentDone({ ...call, ok: true, running: false }, now++);
  }
  const phase = (def: GroupDef) => {
    const g = rt.nodeState.ownership.groups.findIndex((d) => d.id === def.id);
    return g < 0 ? 'forgotten' : rt.nodeState.ownership.local[g]!.run.phase;
  };
  assert.equal(phase(A), 'running', "A's status answer reached A, not the group that took its old number");
  rt.tick(now);
  assert.equal(phase(X), 'forgotten', 'X was stopped, then forgotten');
});

test('an advert listing a group the reload added is read from the next heartbeat on', () => {
  const port = new Port();
  const rt = new NodeRuntime({ node: options([A]), sender: sender('a'), port }, 0);
  rt.receive(fromB([A, C], 0), 'eth0', 10);
  assert.deepEqual(Object.keys(rt.nodeState.ownership.peers.b!.groups), [A.id], 'C is unknown here: left out');
  rt.reconfigure(options([A, C]), sender('a'), 20);
  rt.receive(fromB([A, C], 30), 'eth0', 30);
  assert.deepEqual(Object.keys(rt.nodeState.ownership.peers.b!.groups).sort(), [A.id, C.id].sort());
});

test('the heartbeats after a reload carry the new deadtime; a refused reload changes nothing', () => {
  const port = new Port();
  const rt = new NodeRuntime({ node: options([A]), sender: sender('a'), port }, 0);
  rt.reconfigure({ ...options([A]), timers: { ...TIMERS, deadtimeMs: 5000 }, digest: 'd2' }, sender('a', 5000), 10);
  const last = port.sent[port.sent.length - 1]!;
  assert.equal(last.getString('dt'), (5000).toString(16));
  assert.equal(last.getString('hts_cfg'), 'd2');
  const before = rt.nodeState;
  const refused = rt.reconfigure({ ...options([A]), nodes: ['a', 'b', 'c'] }, sender('a', 7000), 20);
  assert.equal(refused.length, 1);
  assert.equal(rt.nodeState, before);
});
