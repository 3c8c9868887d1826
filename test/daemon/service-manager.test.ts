// What hbd tells systemd, in order, and only when it changes; the real systemd reads it in
// test/package/systemd.test.ts (Type=notify: `systemctl start` returns only after READY=1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceManager, followView, statusLine } from '../../src/daemon/service-manager.js';
import type { StatusSnapshot } from '../../src/status/snapshot.js';
import { selfNode, snapshotWith } from '../helpers/snapshot.js';

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
  let listener: () => void = () => undefined;
  let current = snapshot('alpha');
  const stop = followView(sm, (l) => (listener = l), () => current, 20);
  for (let i = 0; i < 50; i++) listener();
  current = snapshot(null, true);
  await new Promise((res) => setTimeout(res, 80));
  stop();
  assert.deepEqual(r.sent, [['STATUS=1/2 nodes up; running no resource group here']]);
});
