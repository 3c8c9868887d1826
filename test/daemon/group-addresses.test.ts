// A cloud address re-asserted by a slow provider call (a 429's wait, retries) must not be
// assigned here after the core has begun to stop its resource: the node taking the group over
// would assign it first and lose it to this late call. Found in the cloud fault test under load
// (a failback: secondary's re-assertion, delayed by a 429, assigned the address to itself after
// it had released the group to primary).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupAddresses } from '../../src/daemon/group-addresses.js';
import { parseHaresources } from '../../src/config/haresources.js';
import { IssueList } from '../../src/config/issues.js';
import type { AgentCall, AgentContext } from '../../src/agents/index.js';
import type { Logger } from '../../src/lib/logger.js';

const group = parseHaresources('primary DigitalOceanIP::203.0.113.10\n', 'haresources', ['primary', 'secondary'], { resourceD: '/nonexistent', initD: '/nonexistent' }, new IssueList())[0]!;

function world() {
  const lines: string[] = [];
  const log: Logger = { info: (m) => lines.push(`info: ${m}`), warn: (m) => lines.push(`warn: ${m}`), error: (m) => lines.push(`error: ${m}`), crit: (m) => lines.push(`crit: ${m}`), debug: () => {}, debugEnabled: () => false };
  const calls: { action: string; answer: (running: boolean) => void }[] = [];
  const run = (_spec: unknown, action: 'start' | 'status') =>
    new Promise<AgentCall>((resolve) =>
      calls.push({ action, answer: (running) => resolve({ resource: group.resources[0]!.raw, action, argv: [], exitCode: 0, signal: null, timedOut: false, output: '', durationMs: 1, ok: true, running }) }),
    );
  const addresses = new GroupAddresses(() => null, (ms) => ({ timeoutMs: ms, nodeName: 'secondary', log: () => {} }) as AgentContext, log, run);
  return { addresses, calls, lines };
}

const tick = () => new Promise((r) => setImmediate(r));

test('a re-assertion whose status answers after the stop began assigns nothing', async () => {
  const { addresses, calls, lines } = world();
  addresses.resourceState(group.id, 0, true);
  addresses.reassert(group, 'primary', 'returned');
  await tick();
  assert.deepEqual(calls.map((c) => c.action), ['status']);
  await addresses.stopping(group.id, 0); // nothing in flight: the stop goes ahead at once
  calls[0]!.answer(false); // the provider points it at primary (primary's start)
  await tick();
  await tick();
  assert.deepEqual(calls.map((c) => c.action), ['status'], 'no start after the stop began');
  assert.ok(lines.some((l) => /no longer runs it: leaving it there/.test(l)), lines.join('\n'));
});

test('the stop waits for an assignment in flight, so this node\'s calls reach the provider first', async () => {
  const { addresses, calls } = world();
  addresses.resourceState(group.id, 0, true);
  addresses.reassert(group, 'primary', 'released');
  await tick();
  calls[0]!.answer(false);
  await tick();
  await tick();
  assert.deepEqual(calls.map((c) => c.action), ['status', 'start']);
  let stopped = false;
  const stop = addresses.stopping(group.id, 0).then(() => (stopped = true));
  await tick();
  assert.equal(stopped, false, 'the stop waits while the assignment runs');
  calls[1]!.answer(true);
  await stop;
  assert.equal(stopped, true);
});

test('while the resource runs, an address pointing elsewhere is assigned here again', async () => {
  const { addresses, calls, lines } = world();
  addresses.resourceState(group.id, 0, true);
  addresses.reassert(group, 'primary', 'returned');
  await tick();
  calls[0]!.answer(false);
  await tick();
  await tick();
  assert.deepEqual(calls.map((c) => c.action), ['status', 'start']);
  assert.ok(lines.some((l) => /assigning it here again/.test(l)));
});
