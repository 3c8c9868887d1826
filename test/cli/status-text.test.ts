// `hbctl status` as text (cli/status-text.ts): what resource monitoring says about a group,
// and the way out when this node keeps out of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderStatus } from '../../src/cli/status-text.js';
import type { GroupView, StatusSnapshot } from '../../src/status/snapshot.js';
import { snapshotWith } from '../helpers/snapshot.js';

function snapshot(group: Partial<GroupView>): StatusSnapshot {
  return snapshotWith({ groups: [{ id: 'alpha svc', preferredNode: 'alpha', resources: ['svc'], owner: 'beta', phases: { alpha: 'stopped', beta: 'running' }, ...group }] });
}

const lines = (s: StatusSnapshot) => renderStatus(s).split('\n');

test('a monitored group: the failing checks and the restarts, on a line under the group', () => {
  const out = lines(snapshot({ owner: 'alpha', monitor: { failures: { svc: 2 }, restarts: 1, keptOut: false, keptOutForMs: null } }));
  assert.ok(out.includes('    monitor here: svc failed 2 checks in a row; 1 restart in the window'), out.join('\n'));
  assert.ok(!out.some((l) => l.includes('held off')));
});

test('a node that keeps out: until cleared or for how long, and the command that lets it back; peers see it held off', () => {
  const forever = lines(snapshot({ monitor: { failures: {}, restarts: 3, keptOut: true, keptOutForMs: null }, heldOff: ['alpha'] }));
  assert.ok(forever.includes('    monitor here: checks pass; 3 restarts in the window; KEEPS OUT of this group until cleared ("hbctl clear GROUP" lets it back)'), forever.join('\n'));
  assert.ok(forever.includes('    held off: alpha (monitor failures or a failed start: not asked to run it)'));
  const timed = lines(snapshot({ monitor: { failures: {}, restarts: 3, keptOut: true, keptOutForMs: 41_200 } }));
  assert.ok(timed.some((l) => l.endsWith('KEEPS OUT of this group for 42 s more ("hbctl clear GROUP" lets it back)')), timed.join('\n'));
});

test('a group without monitoring: no monitor line (unchanged files read as Heartbeat\'s)', () => {
  assert.ok(!lines(snapshot({})).some((l) => l.includes('monitor')));
});
