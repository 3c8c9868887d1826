// OCF agents run by the OCF calling convention: resource-agents' real Dummy and Delay (and a
// provider directory of our own to see exactly what an agent is given), exit codes mapped and
// named in the log, Heartbeat's status as the OCF monitor, timeouts killing the agent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchMetaData, ocfCodeName, runResource } from '../../src/agents/index.js';
import { loadConfig } from '../../src/config/load.js';
import { formatIssue } from '../../src/config/issues.js';
import { textFixture } from '../helpers/config-fixture.js';
import { recorder, scriptDir } from '../helpers/agents-fixtures.js';
import { RESOURCE_AGENTS, specs } from '../helpers/resource-specs.js';
import { skipWithoutTools } from '../helpers/tools.js';

test('OCF exit codes have their names', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map(ocfCodeName), [
    'OCF_SUCCESS',
    'OCF_ERR_GENERIC',
    'OCF_ERR_ARGS',
    'OCF_ERR_UNIMPLEMENTED',
    'OCF_ERR_PERM',
    'OCF_ERR_INSTALLED',
    'OCF_ERR_CONFIGURED',
    'OCF_NOT_RUNNING',
  ]);
  assert.equal(ocfCodeName(42), 'unknown OCF code 42');
});

test('the real Dummy agent: status is monitor (7 = stopped), start, status 0 = running, stop', async (t) => {
  if (skipWithoutTools(t, RESOURCE_AGENTS)) return;
  const dir = await scriptDir();
  try {
    const state = join(dir.dir, 'dummy.state');
    const [dummy] = specs(`ocf:heartbeat:Dummy::state=${state}`);
    const log = recorder();
    const before = await runResource(dummy!, 'status', log.ctx());
    assert.deepEqual([before.ok, before.running, before.exitCode, before.exitName, before.argv.at(-1)], [true, false, 7, 'OCF_NOT_RUNNING', 'monitor']);
    const start = await runResource(dummy!, 'start', log.ctx());
    assert.equal(start.ok, true, start.output);
    assert.ok(existsSync(state), 'Dummy made its state file: it ran with OCF_RESKEY_state');
    const during = await runResource(dummy!, 'status', log.ctx());
    assert.deepEqual([during.ok, during.running, during.exitName], [true, true, 'OCF_SUCCESS']);
    const stop = await runResource(dummy!, 'stop', log.ctx());
    assert.equal(stop.ok, true, stop.output);
    assert.equal(existsSync(state), false);
    assert.match(log.text(), new RegExp(`info: Running ocf:heartbeat:Dummy \\(state=${state}\\) start`));
  } finally {
    await dir.remove();
  }
});

test('a start returning an OCF error fails, logged with the code\'s name and the agent\'s reason', async (t) => {
  if (skipWithoutTools(t, RESOURCE_AGENTS)) return;
  const [dummy] = specs('ocf:heartbeat:Dummy::state=/nonexistent/dir/dummy.state');
  const log = recorder();
  const start = await runResource(dummy!, 'start', log.ctx());
  assert.deepEqual([start.ok, start.exitCode, start.exitName], [false, 1, 'OCF_ERR_GENERIC']);
  assert.match(log.text(), /error: Return code 1 \(OCF_ERR_GENERIC\) from ocf:heartbeat:Dummy \(state=\/nonexistent\/dir\/dummy\.state\) start: .*cannot touch/);
});

test("Heartbeat's Delay::START::STOP runs the real Delay agent; a call past its timeout is killed", async (t) => {
  if (skipWithoutTools(t, RESOURCE_AGENTS)) return;
  const [quick, slow] = specs('Delay::0::0 Delay::30::0');
  const log = recorder();
  // Delay keeps its state in resource-agents' HA_RSCTMP, by instance: clear what a broken run left.
  for (const s of [quick!, slow!]) await runResource(s, 'stop', log.ctx());
  assert.equal((await runResource(quick!, 'start', log.ctx())).ok, true);
  assert.equal((await runResource(quick!, 'status', log.ctx())).running, true);
  assert.equal((await runResource(quick!, 'stop', log.ctx())).ok, true);
  // Delay_30 sleeps 30 s in start: the call ends at its timeout, the agent's process group killed.
  const started = Date.now();
  const r = await runResource(slow!, 'start', log.ctx({ timeoutMs: 500, killGraceMs: 200 }));
  assert.deepEqual([r.ok, r.timedOut], [false, true]);
  assert.ok(Date.now() - started < 5000, 'the timeout ended the call');
  assert.match(log.text(), /error: ocf:heartbeat:Delay \(startdelay=30 stopdelay=0 mondelay=30\) start timed out after 500 ms: killed its process group/);
  assert.equal((await runResource(slow!, 'stop', log.ctx({ timeoutMs: 5000 }))).ok, true);
});

test('what an OCF agent is given: OCF_ROOT, the instance, OCF_RESKEY_*, the timeout in ms, nothing of hbd\'s environment', async () => {
  const dir = await scriptDir();
  const secret = 'HBT_OCF_TEST_SECRET';
  process.env[secret] = 'must-not-leak';
  try {
    // An OCF root of our own with one provider and one agent that writes out its environment.
    const root = join(dir.dir, 'ocf');
    mkdirSync(join(root, 'resource.d', 'acme'), { recursive: true });
    const out = join(dir.dir, 'env.txt');
    const meta = '<?xml version="1.0"?><resource-agent name="probe"><parameters><parameter name="color" required="1"/><parameter name="size"/></parameters><actions><action name="start" timeout="7s"/><action name="stop" timeout="8s"/><action name="monitor" timeout="9s"/></actions></resource-agent>';
    writeFileSync(join(root, 'resource.d', 'acme', 'probe'), `#!/bin/sh\ncase "$1" in meta-data) echo '${meta}'; exit 0;; esac\nenv > ${out}.$1\n[ "$1" = monitor ] && exit 6\nexit 0\n`, { mode: 0o755 });
    const [probe] = specs('ocf:acme:probe::color=blue::size=a:b', root);
    assert.deepEqual(probe!.agent.kind === 'ocf' && probe!.agent.ocf.timeouts, { start: 7000, stop: 8000, monitor: 9000 });
    const log = recorder();
    assert.equal((await runResource(probe!, 'start', log.ctx({ timeoutMs: 7000, nodeName: 'alpha' }))).ok, true);
    const env = Object.fromEntries(readFileSync(`${out}.start`, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    assert.equal(env.OCF_ROOT, root);
    assert.equal(env.OCF_RESOURCE_INSTANCE, 'probe_blue_a_b');
    assert.equal(env.OCF_RESOURCE_TYPE, 'probe');
    assert.equal(env.OCF_RESOURCE_PROVIDER, 'acme');
    assert.equal(env.OCF_RESKEY_color, 'blue');
    assert.equal(env.OCF_RESKEY_size, 'a:b');
    assert.equal(env.OCF_RESKEY_CRM_meta_timeout, '7000');
    assert.equal(env.OCF_RA_VERSION_MAJOR, '1');
    assert.equal(env.HA_CURHOST, 'alpha');
    assert.equal(env[secret], undefined);
    // A monitor answering 6: a failed resource, neither running nor cleanly stopped.
    const status = await runResource(probe!, 'status', log.ctx());
    assert.deepEqual([status.ok, status.running, status.exitName], [false, false, 'OCF_ERR_CONFIGURED']);
    assert.match(log.text(), /error: ocf:acme:probe \(color=blue size=a:b\) monitor failed: return code 6 \(OCF_ERR_CONFIGURED\)/);
    const env2 = readFileSync(`${out}.monitor`, 'utf8');
    assert.match(env2, /^OCF_CHECK_LEVEL=0$/m);
    // A required parameter left out is refused by check-config, with the agent's words.
    assert.throws(() => specs('ocf:acme:probe::size=1', root), /haresources:1: error: ocf:acme:probe::size=1: acme\/probe requires the parameter "color" — add ::color=VALUE/);
  } finally {
    delete process.env[secret];
    await dir.remove();
  }
});

test('a running daemon loads with cached meta-data only; a new agent is read in a child process, then checked and timed from it', async () => {
  const dir = await scriptDir();
  try {
    const root = join(dir.dir, 'ocf');
    mkdirSync(join(root, 'resource.d', 'acme'), { recursive: true });
    const calls = join(dir.dir, 'meta-calls');
    const meta = '<?xml version="1.0"?><resource-agent name="fresh"><parameters><parameter name="color"/></parameters><actions><action name="start" timeout="3s"/></actions></resource-agent>';
    const agent = join(root, 'resource.d', 'acme', 'fresh');
    writeFileSync(agent, `#!/bin/sh\n[ "$1" = meta-data ] && { echo x >> ${calls}; echo '${meta}'; }\nexit 0\n`, { mode: 0o755 });
    const fx = textFixture({ hacf: 'bcast eth0\nnode alpha beta\n', authkeys: 'auth 1\n1 sha1 k\n', haresources: 'alpha ocf:acme:fresh::colour=red\n' });
    try {
      const load = () => loadConfig({ configDir: fx.dir, nodeName: 'alpha', ocfMeta: 'cached', roots: { initD: '/nonexistent', ocfRoot: root } });
      const first = load();
      assert.ok(first.ok, 'not checked yet: nothing known of the agent');
      assert.deepEqual(first.unreadMeta, [agent]);
      assert.equal(existsSync(calls), false, 'the load itself ran nothing');
      const read = await fetchMetaData(agent, root);
      assert.equal(read.ok, true);
      const second = load();
      assert.deepEqual(second.unreadMeta, []);
      assert.equal(second.ok, false, 'now checked: the misspelt parameter is refused');
      assert.match(second.ok ? '' : second.errors.map(formatIssue).join('\n'), /acme\/fresh has no parameter "colour"; did you mean "color"\?/);
      // A load that reads (check-config) finds it cached: the agent is not asked again.
      loadConfig({ configDir: fx.dir, nodeName: 'alpha', roots: { initD: '/nonexistent', ocfRoot: root } });
      assert.equal(readFileSync(calls, 'utf8'), 'x\n');
    } finally {
      fx.cleanup();
    }
  } finally {
    await dir.remove();
  }
});
