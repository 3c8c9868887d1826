// The fencer (daemon/fencer.ts) with real programs: cluster-glue's `stonith` with its `null`
// device, and a fence-agents-style script reading key=value on stdin; a failing and a hanging
// device; the argv it builds for Heartbeat's positional stonith_host parameters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultQuorumCf, type QuorumCf } from '../../src/config/quorum-types.js';
import { fenceAgentCall, fenceCalls, fenceNode, stonithCall } from '../../src/daemon/fencer.js';
import { memoryLogger } from '../../src/daemon/log.js';
import { skipWithoutTools } from '../helpers/tools.js';

test('stonith_host: name=value parameters as they are, positional ones through -p, then -T reset NODE', () => {
  assert.deepEqual(stonithCall({ from: '*', type: 'external/ssh', params: ['hostlist=a,b'], line: 1 }, 'b').argv, ['stonith', '-t', 'external/ssh', 'hostlist=a,b', '-T', 'reset', 'b']);
  assert.deepEqual(stonithCall({ from: '*', type: 'baytech', params: ['10.0.0.3', 'login', 'secret'], line: 1 }, 'b').argv, ['stonith', '-t', 'baytech', '-p', '10.0.0.3 login secret', '-T', 'reset', 'b']);
});

test('fence_agent: key=value on stdin, action=reboot unless given, plug=NODE for a * line', () => {
  const c = fenceAgentCall({ target: '*', agent: '/opt/fence_x', args: [['ip', '10.0.0.9']], line: 1 }, 'beta');
  assert.deepEqual(c.argv, ['/opt/fence_x']);
  assert.equal(c.stdin, 'action=reboot\nplug=beta\nip=10.0.0.9\n');
  assert.equal(fenceAgentCall({ target: 'beta', agent: '/opt/fence_x', args: [['action', 'off']], line: 1 }, 'beta').stdin, 'action=off\n');
  const q: QuorumCf = { ...defaultQuorumCf(), fenceAgents: [{ target: 'gamma', agent: '/opt/g', args: [], line: 5 }, { target: 'beta', agent: '/opt/b', args: [], line: 9 }], stonith: [{ from: 'alpha', type: 'null', params: [], line: 7 }] };
  assert.deepEqual(fenceCalls(q, 'alpha', 'beta').map((f) => f.device), ['stonith null', '/opt/b'], 'the devices for this target from this node, in file order');
});

test('fenceNode runs real devices: stonith -t null succeeds; a script gets its stdin; failure and hang are failures', async (t) => {
  if (skipWithoutTools(t, [{ cmd: 'stonith', pkg: 'cluster-glue' }])) return;
  const dir = mkdtempSync(join(tmpdir(), 'qs-fencer-'));
  try {
    const log = memoryLogger();
    const ok = await fenceNode({ ...defaultQuorumCf(), stonith: [{ from: '*', type: 'null', params: ['hostlist=beta'], line: 1 }] }, 'alpha', 'beta', log);
    assert.equal(ok, true, log.records.map((r) => r.msg).join('\n'));
    assert.ok(log.records.some((r) => r.msg === 'Resetting node beta with [stonith null]'));

    const agent = join(dir, 'fence_test');
    writeFileSync(agent, `#!/bin/sh\ncat > ${dir}/stdin\ncase "$(cat ${dir}/mode)" in ok) exit 0 ;; fail) echo refused; exit 1 ;; hang) exec sleep 60 ;; esac\n`);
    chmodSync(agent, 0o755);
    const q: QuorumCf = { ...defaultQuorumCf(), fenceTimeoutMs: 500, fenceAgents: [{ target: 'beta', agent, args: [['ip', '192.0.2.9']], line: 1 }] };
    writeFileSync(join(dir, 'mode'), 'ok');
    assert.equal(await fenceNode(q, 'alpha', 'beta', log), true);
    assert.equal(readFileSync(join(dir, 'stdin'), 'utf8'), 'action=reboot\nip=192.0.2.9\n');
    writeFileSync(join(dir, 'mode'), 'fail');
    assert.equal(await fenceNode(q, 'alpha', 'beta', log), false);
    assert.ok(log.records.some((r) => r.level === 'error' && /Host beta not reset! .*exit code 1/.test(r.msg)));
    writeFileSync(join(dir, 'mode'), 'hang');
    assert.equal(await fenceNode(q, 'alpha', 'beta', log), false);
    assert.ok(log.records.some((r) => /timed out after 500 ms \(fence_timeout\)/.test(r.msg)));
    assert.equal(await fenceNode(defaultQuorumCf(), 'alpha', 'beta', log), false);
    assert.ok(log.records.some((r) => r.level === 'crit' && /no fence device in ha.cf can fence node beta/.test(r.msg)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
