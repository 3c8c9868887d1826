// resource.d / init.d scripts run for real as child processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runResource, judgeStatusOutput, scriptEnv, OUTPUT_LIMIT_BYTES } from '../../src/agents/index.js';
import { isLive } from '../../src/lib/proc-stat.js';
import { initD, killPids, readPids, recorder, resourceD, scriptDir, type ScriptDir } from '../helpers/agents-fixtures.js';

async function withScripts(fn: (d: ScriptDir) => Promise<void>): Promise<void> {
  const d = await scriptDir();
  try {
    await fn(d);
  } finally {
    await d.remove();
  }
}

const PRINT_ARGS = 'for a in "$@"; do echo "[$a]"; done';

test('resource.d script gets its :: args in order, then the action', () =>
  withScripts(async (d) => {
    const path = await d.script('failback.sh', PRINT_ARGS);
    const log = recorder();
    const call = await runResource(resourceD(path, ['10.0.0.1', 'with space', 'x']), 'start', log.ctx());
    assert.deepEqual(call.argv, [path, '10.0.0.1', 'with space', 'x', 'start']);
    assert.equal(call.output, '[10.0.0.1]\n[with space]\n[x]\n[start]\n');
    assert.equal(call.ok, true);
    assert.equal(call.exitCode, 0);
    assert.equal(call.resource, 'failback.sh::10.0.0.1::with space::x');
    assert.ok(log.lines.some((l) => l.level === 'info' && l.message === `Running ${path} 10.0.0.1 with space x start`), log.text());
  }));

test('init.d script gets only the action', () =>
  withScripts(async (d) => {
    const path = await d.script('apache2', PRINT_ARGS);
    const log = recorder();
    const call = await runResource(initD(path), 'stop', log.ctx());
    assert.deepEqual(call.argv, [path, 'stop']);
    assert.equal(call.output, '[stop]\n');
    assert.ok(log.lines.some((l) => l.level === 'info' && l.message === `Running ${path} stop`), log.text());
  }));

test('start/stop are judged by exit code; a failure logs the code and the output', () =>
  withScripts(async (d) => {
    const good = await d.script('good', 'echo fine; exit 0');
    const bad = await d.script('bad', 'echo "cannot bind port 80" >&2; exit 3');
    const log = recorder();
    assert.equal((await runResource(initD(good), 'start', log.ctx())).ok, true);
    const call = await runResource(initD(bad), 'start', log.ctx());
    assert.equal(call.ok, false);
    assert.equal(call.exitCode, 3);
    assert.equal(call.signal, null);
    assert.equal(call.timedOut, false);
    assert.match(call.output, /cannot bind port 80/);
    assert.ok(log.lines.some((l) => l.level === 'error' && l.message === `Return code 3 from ${bad}`), log.text());
    assert.ok(log.lines.some((l) => l.level === 'error' && /cannot bind port 80/.test(l.message)), log.text());
  }));

test("judgeStatusOutput follows ResourceManager's we_own_resource", () => {
  const cases: [string, boolean][] = [
    ['apache2 is running', true],
    ['Running OK', true],
    ['INFO:  Running OK', true],
    ['status: OK', true],
    ['IPaddr: INFO: Resource is stopped', false],
    ['apache2 is not running', false],
    ['NOT running', false],
    ['Apache is Not currently Running', false],
    ['pid file exists but\nnot\n... not really running', false],
    ['', false],
    ['stopped', false],
    ['ok', false], // OK is matched case-sensitively
    ['RUNNING', false], // only the R may be capital
    ['Nothing running', true], // "not" must be followed by a space: Heartbeat's quirk, kept
  ];
  for (const [out, want] of cases) assert.equal(judgeStatusOutput(out), want, JSON.stringify(out));
});

test('status is judged on stdout only, whatever the exit code', () =>
  withScripts(async (d) => {
    const cases: [string, string, boolean][] = [
      ['running', 'echo "apache2 is running"; exit 0', true],
      ['ok', 'echo "OK"', true],
      ['not-running', 'echo "apache2 is not running"; exit 3', false],
      ['empty', 'exit 0', false],
      ['empty-nonzero', 'exit 3', false],
      // Heartbeat never looks at the exit code of status: running output counts.
      ['running-nonzero', 'echo "running"; exit 1', true],
      // Only stdout is captured by ResourceManager's backquotes.
      ['stderr-only', 'echo "running" >&2; exit 0', false],
    ];
    const log = recorder();
    for (const [name, body, want] of cases) {
      const call = await runResource(initD(await d.script(name, body)), 'status', log.ctx());
      assert.equal(call.running, want, `${name}: ${call.output}`);
      assert.equal(call.ok, true, name);
    }
    // status probes are not announced at info level (ResourceManager doesn't).
    assert.ok(!log.lines.some((l) => l.level === 'info'), log.text());
  }));

test("the tutorial's floatip init script counts as not running, so its start always runs", () =>
  withScripts(async (d) => {
    // As intended: silent `exit 0` on status (the metadata curl replaced by a constant).
    const intended = await d.script(
      'floatip',
      [
        'param=$1',
        "IP='45.55.96.8'",
        'ID=12345',
        'if [ "start" == "$param" ] ; then',
        '  exit 0',
        'elif [ "stop" == "$param" ] ; then',
        '  exit 0;',
        'elif [ "status" == "$param" ] ; then',
        '  exit 0;',
        'else',
        '  echo "no such command $param"',
        '  exit 1;',
        'fi',
      ].join('\n'),
    );
    // As printed in the seed: `["status" == ...]` lacks spaces, so every branch fails.
    const literal = await d.script(
      'floatip-literal',
      ['param=$1', 'if ["start" == "$param"] ; then', '  exit 0', 'elif ["status" == "$param"] ; then', '  exit 0;', 'else', '  echo "no such command $param"', '  exit 1;', 'fi'].join('\n'),
    );
    const log = recorder();
    for (const path of [intended, literal]) {
      const status = await runResource(initD(path), 'status', log.ctx());
      assert.equal(status.ok, true);
      assert.equal(status.running, false, status.output);
    }
    assert.equal((await runResource(initD(intended), 'start', log.ctx())).ok, true);
  }));

test('a timeout kills the whole process group', () =>
  withScripts(async (d) => {
    const pidFile = join(d.dir, 'pids');
    const path = await d.script('hang', 'sleep 300 & echo $! >> "$1"; echo $$ >> "$1"; wait');
    let pids: number[] = [];
    try {
      const log = recorder();
      const call = await runResource(resourceD(path, [pidFile]), 'start', log.ctx({ timeoutMs: 300, killGraceMs: 1000 }));
      pids = await readPids(pidFile);
      assert.equal(pids.length, 2);
      assert.equal(call.timedOut, true);
      assert.equal(call.ok, false);
      assert.equal(call.signal, 'SIGTERM');
      assert.ok(call.durationMs >= 300 && call.durationMs < 1000, `took ${call.durationMs} ms`);
      for (const pid of pids) assert.equal(isLive(pid), false, `pid ${pid} survived`);
      assert.ok(log.lines.some((l) => l.level === 'error' && /timed out after 300 ms/.test(l.message)), log.text());
    } finally {
      killPids(pids);
    }
  }));

test('a group that ignores SIGTERM gets SIGKILL after the grace period', () =>
  withScripts(async (d) => {
    const pidFile = join(d.dir, 'pids');
    // An ignored signal stays ignored across fork and exec: the sleeping child ignores it too.
    const path = await d.script('stubborn', "trap '' TERM; sleep 300 & echo $! >> \"$1\"; echo $$ >> \"$1\"; wait");
    let pids: number[] = [];
    try {
      const call = await runResource(resourceD(path, [pidFile]), 'stop', recorder().ctx({ timeoutMs: 200, killGraceMs: 300 }));
      pids = await readPids(pidFile);
      assert.equal(pids.length, 2);
      assert.equal(call.timedOut, true);
      assert.equal(call.signal, 'SIGKILL');
      assert.ok(call.durationMs >= 450, `took ${call.durationMs} ms`);
      for (const pid of pids) assert.equal(isLive(pid), false, `pid ${pid} survived`);
    } finally {
      killPids(pids);
    }
  }));

test('a status that times out is not running and not ok', () =>
  withScripts(async (d) => {
    const path = await d.script('slowstatus', 'echo running; exec sleep 300');
    const call = await runResource(initD(path), 'status', recorder().ctx({ timeoutMs: 200, killGraceMs: 200 }));
    assert.equal(call.timedOut, true);
    assert.equal(call.ok, false);
    assert.equal(call.running, false);
  }));

test('a daemon left holding stdout does not hold the call, and is not killed', () =>
  withScripts(async (d) => {
    const pidFile = join(d.dir, 'pids');
    const path = await d.script('daemonish', 'sleep 30 & echo $! >> "$1"; echo started');
    let pids: number[] = [];
    try {
      const call = await runResource(resourceD(path, [pidFile]), 'start', recorder().ctx());
      pids = await readPids(pidFile);
      assert.equal(call.ok, true);
      assert.equal(call.output, 'started\n');
      assert.ok(call.durationMs < 1500, `took ${call.durationMs} ms`);
      assert.equal(isLive(pids[0] ?? -1), true, 'the backgrounded process was killed');
    } finally {
      killPids(pids);
    }
  }));

test('huge output is bounded and the rest counted', () =>
  withScripts(async (d) => {
    const total = 5_000_000;
    const path = await d.script('chatty', `head -c ${total} /dev/zero | tr '\\0' x; echo done >&2`);
    const call = await runResource(initD(path), 'start', recorder().ctx());
    assert.equal(call.ok, true);
    const m = /\[\.\.\. (\d+) more bytes of output not kept\]$/.exec(call.output);
    assert.ok(m, call.output.slice(-200));
    assert.equal(OUTPUT_LIMIT_BYTES + Number(m[1]), total + 'done\n'.length);
    assert.ok(call.output.length < OUTPUT_LIMIT_BYTES + 100);
  }));

test('a missing agent fails clearly, naming where it was looked for', async () => {
  const log = recorder();
  const spec = {
    raw: 'nosuch::x',
    name: 'nosuch',
    args: ['x'],
    agent: { kind: 'missing' as const, searched: ['/etc/ha.d/resource.d/nosuch', '/etc/init.d/nosuch'] },
  };
  const start = await runResource(spec, 'start', log.ctx());
  assert.equal(start.ok, false);
  assert.match(start.output, /Cannot locate resource script nosuch/);
  assert.match(start.output, /\/etc\/ha\.d\/resource\.d\/nosuch or \/etc\/init\.d\/nosuch/);
  assert.ok(log.lines.some((l) => l.level === 'error'), log.text());
  const status = await runResource(spec, 'status', log.ctx());
  assert.equal(status.running, false);
});

test('a non-executable or vanished script fails without throwing', () =>
  withScripts(async (d) => {
    const plain = await d.script('plain', 'exit 0', 0o644);
    const log = recorder();
    const call = await runResource(initD(plain), 'start', log.ctx());
    assert.equal(call.ok, false);
    assert.equal(call.exitCode, null);
    assert.match(call.output, /not executable/);
    const gone = await runResource(initD(join(d.dir, 'gone')), 'stop', log.ctx());
    assert.equal(gone.ok, false);
    assert.match(gone.output, /no such file/);
    assert.equal((await runResource(initD(plain), 'status', log.ctx())).running, false);
  }));

// The environment exactly as the script's process received it (bash itself adds PWD, SHLVL
// and _ to what `env` would show).
const DUMP_ENVIRON = "tr '\\0' '\\n' < /proc/$$/environ";

function parseEnv(text: string): Map<string, string> {
  return new Map(
    text
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );
}

test("scripts see Heartbeat's variables, following the config and resource dirs, and nothing of hbd's environment", () =>
  withScripts(async (d) => {
    const path = await d.script('showenv', DUMP_ENVIRON);
    // A secret in hbd's own environment (an API token, a proxy password) is not the scripts' business.
    process.env.HBT_TEST_SECRET_TOKEN = 'do-not-leak-7f3a';
    let call;
    try {
      call = await runResource(
        initD(path),
        'start',
        recorder().ctx({
          nodeName: 'prime',
          configDir: '/srv/cluster/ha.d',
          resourceDir: '/srv/cluster/scripts',
          logging: { logfile: '/var/log/ha-log', debugfile: '/var/log/ha-debug', logfacility: 'local0' },
        }),
      );
    } finally {
      delete process.env.HBT_TEST_SECRET_TOKEN;
    }
    assert.equal(call.ok, true, call.output);
    const env = parseEnv(call.output);
    assert.deepEqual(Object.fromEntries([...env].sort(([a], [b]) => (a < b ? -1 : 1))), {
      HA_CURHOST: 'prime',
      HA_DATEFMT: '%Y/%m/%d_%T\t',
      HA_DEBUGLOG: '/var/log/ha-debug',
      HA_DIR: '/srv/cluster/ha.d',
      HA_FUNCS: '/srv/cluster/ha.d/shellfuncs',
      HA_LOGD: 'no',
      HA_LOGFACILITY: 'local0',
      HA_LOGFILE: '/var/log/ha-log',
      HA_RESOURCEDIR: '/srv/cluster/scripts',
      HA_cluster_type: 'heartbeat',
      LANG: 'C',
      LC_ALL: 'C',
      OCF_ROOT: '/usr/lib/ocf',
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    });
  }));

test('without a config dir, scripts get /etc/ha.d; a relative one is made absolute; unset log files are left out', () =>
  withScripts(async (d) => {
    const path = await d.script('showenv', DUMP_ENVIRON);
    const plain = parseEnv((await runResource(initD(path), 'start', recorder().ctx())).output);
    assert.equal(plain.get('HA_DIR'), '/etc/ha.d');
    assert.equal(plain.get('HA_RESOURCEDIR'), '/etc/ha.d/resource.d');
    assert.equal(plain.has('HA_LOGFILE'), false);
    assert.equal(plain.has('HA_LOGFACILITY'), false);
    const rel = parseEnv((await runResource(initD(path), 'start', recorder().ctx({ configDir: 'cfg/ha.d' }))).output);
    assert.equal(rel.get('HA_DIR'), join(process.cwd(), 'cfg/ha.d'));
    assert.equal(rel.get('HA_RESOURCEDIR'), join(process.cwd(), 'cfg/ha.d/resource.d'));
  }));

test('scriptEnv builds from nothing: LC_ALL and LANGUAGE of hbd never reach a script', () => {
  process.env.LANGUAGE = 'fr';
  try {
    const env = scriptEnv({ nodeName: 'n', configDir: '/tmp/ha.d' });
    assert.equal(env.LANGUAGE, undefined);
    assert.equal(env.LC_ALL, 'C');
    assert.equal(env.HA_DIR, '/tmp/ha.d');
    assert.equal(env.HA_RESOURCEDIR, '/tmp/ha.d/resource.d');
  } finally {
    delete process.env.LANGUAGE;
  }
});

test('killed group leaves nothing behind even when the leader exits first', () =>
  withScripts(async (d) => {
    const pidFile = join(d.dir, 'pids');
    // The leader dies on SIGTERM at once; its child ignores SIGTERM and must get SIGKILL.
    const path = await d.script('orphan', "(trap '' TERM; exec sleep 300) & echo $! >> \"$1\"; sleep 300");
    let pids: number[] = [];
    try {
      const call = await runResource(resourceD(path, [pidFile]), 'start', recorder().ctx({ timeoutMs: 200, killGraceMs: 300 }));
      pids = await readPids(pidFile);
      assert.equal(call.timedOut, true);
      await sleep(50);
      assert.equal(pids.length, 1);
      assert.equal(isLive(pids[0] ?? -1), false, 'the SIGTERM-proof child survived');
    } finally {
      killPids(pids);
    }
  }));
