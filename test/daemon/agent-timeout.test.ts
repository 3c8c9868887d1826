// hbd --agent-timeout: a hung start script is killed at its timeout (not the 60 s default)
// and counted failed; bad values are refused before anything starts; OCF agents' own timeouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAgentTimeouts } from '../../src/cli/agent-timeouts.js';
import { AgentCalls, type AgentCallsHost } from '../../src/daemon/agent-calls.js';
import type { ResourceSpec } from '../../src/config/types.js';
import { HBD, LocalCluster } from '../helpers/local-cluster.js';

const DEFAULTS = { start: 60_000, stop: 60_000, status: 20_000 };

test('--agent-timeout parses ACTION=DURATION over the defaults and names what is wrong', () => {
  assert.deepEqual(parseAgentTimeouts('', DEFAULTS), DEFAULTS);
  assert.deepEqual(parseAgentTimeouts('start=2, status=500ms', DEFAULTS), { start: 2000, stop: 60_000, status: 500 });
  assert.throws(() => parseAgentTimeouts('monitor=5', DEFAULTS), /"monitor=5" is not ACTION=DURATION/);
  assert.throws(() => parseAgentTimeouts('start=soon', DEFAULTS), /"soon" for start is not a positive duration/);
  assert.throws(() => parseAgentTimeouts('stop=0', DEFAULTS), /"0" for stop/);
});

test('hbd refuses a bad --agent-timeout with exit 2 and the reason', async () => {
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
    execFile(process.execPath, [HBD, '-t', '--agent-timeout', 'start=never'], (err, _o, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr })),
  );
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--agent-timeout: "never" for start is not a positive duration/);
});

test('a start script that hangs is killed at --agent-timeout and the start counts failed', async () => {
  const c = new LocalCluster({ nodes: ['alpha'], haresources: 'alpha hang\n' });
  const scripts = join(c.dir, 'scripts');
  mkdirSync(scripts);
  writeFileSync(join(scripts, 'hang'), '#!/bin/sh\n[ "$1" = start ] && exec sleep 3600\n[ "$1" = status ] && { echo stopped; exit 3; }\nexit 0\n');
  chmodSync(join(scripts, 'hang'), 0o755);
  try {
    c.start('alpha', ['--resource-dir', scripts, '--agent-timeout', 'start=800ms']);
    const line = await c.waitFor('the start to time out', () => c.firstLog('alpha', /timed out after 800 ms/), 20_000);
    assert.match(line.text, /hang start timed out after 800 ms: killed its process group/);
    const s = await c.status('alpha');
    assert.notEqual(s.groups[0]?.phases.alpha, 'running', 'a killed start must not count as running');
  } finally {
    await c.cleanup();
  }
});

test("an OCF agent's calls default to its meta-data timeouts; --agent-timeout, when given, wins", () => {
  const ocf: ResourceSpec = {
    raw: 'ocf:heartbeat:Dummy',
    name: 'ocf:heartbeat:Dummy',
    args: [],
    agent: {
      kind: 'ocf',
      ocf: { provider: 'heartbeat', type: 'Dummy', path: '/x', root: '/usr/lib/ocf', params: [], instance: 'Dummy', form: 'direct', timeouts: { start: 7000, monitor: 9000 } },
    },
  };
  const script: ResourceSpec = { raw: 'svc', name: 'svc', args: [], agent: { kind: 'init.d', path: '/etc/init.d/svc' } };
  const calls = (timeoutsGiven: boolean) => new AgentCalls({ timeouts: DEFAULTS, timeoutsGiven } as unknown as AgentCallsHost);
  const own = calls(false);
  assert.deepEqual(['start', 'stop', 'status'].map((a) => own.timeoutFor(ocf, a as 'start')), [7000, 60_000, 9000], 'stop has none of its own: the default');
  assert.equal(own.timeoutFor(script, 'start'), 60_000);
  assert.equal(calls(true).timeoutFor(ocf, 'start'), 60_000);
});
