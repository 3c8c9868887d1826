// What hbd tells systemd, in order, and only when it changes; the real systemd reads it in
// test/package/systemd.test.ts (Type=notify: `systemctl start` returns only after READY=1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceManager, followView, statusLine } from '../../src/daemon/service-manager.js';
import type { StatusSnapshot } from '../../src/status/snapshot.js';
import { selfNode, snapshotWith } from '../helpers/snapshot.js';
import { snapshotOf, statusLineInputs } from '../../src/status/snapshot.js';
import { NodeRuntime } from '../../src/runtime/runtime.js';
import type { HbMessage } from '../../src/wire/message.js';
import type { ClusterConfig } from '../../src/config/types.js';

function recorder(fail = new Set<string>()): { sent: string[][]; notify: (args: string[]) => Promise<void> } {
  const sent: string[][] = [];
  return {
    sent,
    notify: async (args) => {
      await new Promise((r) => setTimeout(r, 5));
      if (fail.has(args[0]!)) throw new Error(`no ${args[0]}`);
      sent.push(args);
    },
  };
}

test('without NOTIFY_SOCKET there is no service manager to tell', () => {
  assert.equal(ServiceManager.fromEnv(() => undefined, {}), null);
  assert.ok(ServiceManager.fromEnv(() => undefined, { NOTIFY_SOCKET: '/run/systemd/notify' }));
});

test('messages go out in order; an unchanged status is not sent again', async () => {
  const r = recorder();
  const sm = ServiceManager.fromEnv(() => undefined, { NOTIFY_SOCKET: 'x' }, r.notify)!;
  void sm.ready('1/2 nodes up');
  void sm.status('1/2 nodes up');
  void sm.status('2/2 nodes up');
  void sm.reloading();
  await sm.reloaded('2/2 nodes up');
  await sm.stopping();
  assert.deepEqual(
    r.sent.map((a) => a[0]),
    ['READY=1', 'STATUS=2/2 nodes up', 'RELOADING=1', 'READY=1', 'STOPPING=1'],
  );
});

test('a failed message is reported and the next ones still go', async () => {
  const r = recorder(new Set(['READY=1']));
  const errors: string[] = [];
  const sm = ServiceManager.fromEnv((m) => errors.push(m), { NOTIFY_SOCKET: 'x' }, r.notify)!;
  await sm.ready('starting');
  await sm.status('2/2 nodes up');
  assert.deepEqual(errors, ['no READY=1']);
  assert.deepEqual(r.sent, [['STATUS=2/2 nodes up']]);
});

function snapshot(owner: string | null, dead = false): StatusSnapshot {
  return snapshotWith({
    nodes: [selfNode, { name: 'beta', status: dead ? 'dead' : 'active', self: false, lastHeardMsAgo: 10, generation: 1, links: [], digest: 'd' }],
    groups: [{ id: 'g1', preferredNode: 'alpha', resources: ['IPaddr::10.0.0.100', 'web'], owner, phases: {} }],
  });
}

test('the status line names the nodes up and the groups running here', () => {
  assert.equal(statusLine(snapshot('alpha')), '2/2 nodes up; running here: IPaddr::10.0.0.100');
  assert.equal(statusLine(snapshot('beta', true)), '1/2 nodes up; running no resource group here');
});

test('following the view: many updates in a burst make one status message', async () => {
  const r = recorder();
  const sm = ServiceManager.fromEnv(() => undefined, { NOTIFY_SOCKET: 'x' }, r.notify)!;
  let listener: (inputs: string) => void = () => undefined;
  let current = snapshot('alpha');
  const stop = followView(sm, (l) => (listener = l), () => current, 20);
  for (let i = 0; i < 50; i++) listener(`inputs ${i}`);
  current = snapshot(null, true);
  await new Promise((res) => setTimeout(res, 80));
  stop();
  assert.deepEqual(r.sent, [['STATUS=1/2 nodes up; running no resource group here']]);
});

test('following the view: updates that change nothing the line reads take no snapshot', async () => {
  const r = recorder();
  const sm = ServiceManager.fromEnv(() => undefined, { NOTIFY_SOCKET: 'x' }, r.notify)!;
  let listener: (inputs: string) => void = () => undefined;
  let snapshots = 0;
  const stop = followView(sm, (l) => (listener = l), () => (snapshots++, snapshot('alpha')), 5);
  const settle = () => new Promise((res) => setTimeout(res, 30));
  listener('2 up, g1 here');
  await settle();
  assert.equal(snapshots, 1);
  // Heartbeats that say the same: on the old code each armed the timer again.
  for (let i = 0; i < 5; i++) {
    listener('2 up, g1 here');
    await settle();
  }
  assert.equal(snapshots, 1);
  listener('1 up, g1 here');
  await settle();
  stop();
  assert.equal(snapshots, 2);
});

test('the line\'s inputs: a run of the real core never shows two lines for the same inputs, and heartbeats alone change none', () => {
  // Two runtimes exchanging heartbeats: the group starts on alpha, then alpha falls silent and
  // beta takes over. At every step of beta: its inputs, and the line its snapshot gives.
  const group = { id: 'alpha IPaddr::10.0.0.100', preferredNode: 'alpha', resources: ['IPaddr::10.0.0.100'] };
  const config = { ha: { nodes: ['alpha', 'beta'], quorum: {}, pingNodes: [] }, partDigests: {}, digest: 'd' } as unknown as ClusterConfig;
  const extras = { transitions: [], counters: new Map(), peerParts: new Map() };
  const seen = new Map<string, string>();
  let now = 0;
  let alphaAlive = true;
  const outbox: { from: string; m: HbMessage }[] = [];
  const runtimes: Record<string, NodeRuntime> = {};
  const started = new Set<string>();
  const make = (me: string) =>
    new NodeRuntime(
      {
        node: { me, nodes: ['alpha', 'beta'], linkNames: ['eth0'], timers: { keepaliveMs: 100, warntimeMs: 200, deadtimeMs: 500, initdeadMs: 1000 }, groups: [group], autoFailback: 'on', digest: 'd' },
        sender: { node: me, uuid: Buffer.alloc(16, me.length), generation: 1, deadtimeMs: 500, partDigests: { hacf: 'a', authkeys: 'b', haresources: 'c' } },
        port: {
          send: (m) => outbox.push({ from: me, m }),
          runAgent: (call) => {
            if (call.action === 'start') started.add(me);
            if (call.action === 'stop') started.delete(me);
            const running = started.has(me);
            queueMicrotask(() => runtimes[me]!.agentDone({ ...call, ok: true, running }, now));
          },
          log: () => undefined,
          observe: (_effects, state) => {
            if (me !== 'beta') return;
            const line = statusLine(snapshotOf(state, config, me, now, extras));
            const inputs = statusLineInputs(state);
            assert.equal(seen.get(inputs) ?? line, line, `inputs ${inputs} gave two lines`);
            seen.set(inputs, line);
          },
          wakeIn: () => undefined,
          exit: () => undefined,
          wallSeconds: () => Math.floor(now / 1000),
        },
      },
      0,
    );
  runtimes.alpha = make('alpha');
  runtimes.beta = make('beta');
  const run = async (untilMs: number) => {
    while (now < untilMs) {
      now += 50;
      for (const n of ['alpha', 'beta']) if (n === 'beta' || alphaAlive) runtimes[n]!.tick(now);
      for (let o = outbox.shift(); o; o = outbox.shift()) {
        const to = o.from === 'alpha' ? 'beta' : 'alpha';
        if (to === 'beta' || alphaAlive) runtimes[to]!.receive(o.m, 'eth0', now);
      }
      await Promise.resolve();
    }
  };
  return (async () => {
    await run(5000);
    const steady = seen.size;
    assert.ok([...seen.values()].includes('2/2 nodes up; running no resource group here'), [...seen.values()].join('\n'));
    await run(8000); // 60 more heartbeats each way, nothing else
    assert.equal(seen.size, steady, 'heartbeats that changed nothing changed the inputs');
    alphaAlive = false;
    await run(12000);
    assert.ok([...seen.values()].includes('1/2 nodes up; running here: IPaddr::10.0.0.100'), [...seen.values()].join('\n'));
  })();
});
