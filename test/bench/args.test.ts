// The benchmarks' command lines. `node dist/bench/footprint.js --help` once ran the whole
// default footprint benchmark (every system, both timer sets) and measured keepalived, which
// was not installed, as a daemon that costs 0 % of a core and 0 MiB: an unknown option was
// ignored and a missing peer was found only by its absent processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseBenchArgs } from '../../bench/lib/report.js';
import { benchPlan } from '../../bench/lib/plan.js';
import { runnableKeys } from '../../bench/lib/system-by-key.js';
import { pacemakerMissing } from '../../bench/lib/pacemaker.js';
import { runningPids, type Running } from '../../bench/lib/system.js';
import { DIST } from '../../bench/lib/testbed.js';

const BENCHES = ['all', 'failover', 'footprint', 'stability', 'scale', 'heartbeat-cost', 'sim-digest', 'wake-floor'];
const bench = (name: string, argv: string[]) => spawnSync(process.execPath, [join(DIST, `${name}.js`), ...argv], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, HBD_BASELINE: '' } });

test('options are read as declared; unknown options, missing values, stray words and bad numbers are refused', () => {
  const a = parseBenchArgs({ window: 'number', systems: 'list', together: 'flag', subnet: 'string' }, ['--window', '30', '--systems', 'hbd, heartbeat', '--together', '--no-write']);
  assert.equal(a.num('window', 60), 30);
  assert.deepEqual(a.list('systems', []), ['hbd', 'heartbeat']);
  assert.equal(a.flag('together'), true);
  assert.equal(a.str('subnet', '10.231.43'), '10.231.43');
  assert.equal(a.flag('no-write'), true, 'every benchmark takes --no-write');
  assert.throws(() => parseBenchArgs({ windows: 'number' }, ['--window', '5']), /Unknown option '--window'/);
  assert.throws(() => parseBenchArgs({ window: 'number' }, ['--window']), /argument missing/);
  // A value may begin with one dash (a section suffix, a negative number), not with two.
  assert.equal(parseBenchArgs({}, ['--section', '-tier']).str('section', ''), '-tier');
  assert.throws(() => parseBenchArgs({}, ['--section', '--no-write']), /'--section' argument is ambiguous/);
  assert.throws(() => parseBenchArgs({ window: 'number' }, ['60']), /Unexpected argument '60'/);
  assert.throws(() => parseBenchArgs({ window: 'number' }, ['--window', 'sixty']).num('window', 60), /--window wants a number, got "sixty"/);
  // Reading an option the benchmark did not declare is a bug in the benchmark, said as such.
  assert.throws(() => parseBenchArgs({ window: 'number' }, []).num('windows', 1), /--windows is read as number but declared as nothing/);
});

test('every benchmark answers --help with its usage, and refuses a misspelt option before it starts anything', () => {
  for (const name of BENCHES) {
    const help = bench(name, ['--help']);
    assert.equal(help.status, 0, `${name} --help: ${help.stderr}`);
    assert.match(help.stdout, new RegExp(`^Usage: node dist/bench/${name}\\.js`), name);
  }
  const started = Date.now();
  const typo = bench('footprint', ['--windw', '5', '--systems', 'hbd']);
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /^bench: Unknown option '--windw'/);
  assert.match(typo.stderr, /Usage: node dist\/bench\/footprint\.js/);
  assert.doesNotMatch(typo.stderr, /heartbeat-ts @|never steady/, 'nothing was measured');
  assert.ok(Date.now() - started < 20_000);
  const bad = bench('failover', ['--trials', 'many']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--trials wants a number, got "many"/);
});

test("npm run bench's plan, full and --quick, passes only options its benchmarks take", () => {
  for (const quick of [false, true]) {
    for (const [name, argv] of benchPlan(quick)) {
      const r = bench(name, [...argv, ...(quick ? ['--no-write'] : []), '--help']);
      assert.equal(r.status, 0, `${name} ${argv.join(' ')}: ${r.stderr}`);
    }
  }
});

test('systems are checked before anything starts: unknown or not runnable here is refused, a missing Pacemaker skipped', () => {
  const said: string[] = [];
  assert.throws(() => runnableKeys(['hbd', 'hbd-typo'], (m) => said.push(m)), /unknown system hbd-typo/);
  const saved = process.env.HBD_BASELINE;
  delete process.env.HBD_BASELINE;
  try {
    // A baseline that fell back to this very build would compare the build with itself.
    assert.throws(() => runnableKeys(['hbd', 'hbd-baseline'], (m) => said.push(m)), /cannot run hbd-baseline: .*set HBD_BASELINE/);
  } finally {
    if (saved !== undefined) process.env.HBD_BASELINE = saved;
  }
  said.length = 0;
  const keys = runnableKeys(['hbd', 'pacemaker', 'hbd-selfload'], (m) => said.push(m));
  if (pacemakerMissing() === null) {
    assert.deepEqual(keys, ['hbd', 'pacemaker', 'hbd-selfload']);
    assert.deepEqual(said, []);
  } else {
    assert.deepEqual(keys, ['hbd', 'hbd-selfload']);
    assert.match(said.join('\n'), /^skipping pacemaker: Pacemaker\/Corosync not installed/);
  }
});

test('a daemon whose processes are gone is an error, not a row of zeros', async () => {
  const child = spawn(process.execPath, ['-e', 'console.log("bye")'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((r) => child.on('exit', r));
  const r: Running = { node: 'node1', child, pid: child.pid!, startedAt: 0, lines: [{ t: 0, text: 'bye' }], dir: '/nonexistent' };
  assert.throws(() => runningPids(r, 'keepalived'), /keepalived on node1: none of its processes runs \(its last output: bye\)/);
  const self: Running = { ...r, pid: process.pid };
  assert.ok(runningPids(self, 'this test').includes(process.pid));
});
