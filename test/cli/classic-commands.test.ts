// The classic commands without a cluster: what they answer when no hbd runs, their argument
// checks, --version, and hbctl's "did you mean". Real child processes, exit codes and output.
// (test/cli/classic-vs-heartbeat.test.ts compares them with Heartbeat 3.0.6 itself.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromRoot } from '../helpers/repo.js';
import { closest, editDistance } from '../../src/cli/suggest.js';
import { getopt } from '../../src/cli/getopt.js';

const VERSION = (JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { version: string }).version;
const cli = (name: string) => fromRoot('dist', 'src', 'cli', `${name}.js`);
const LOG = /^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \S+ cl_status: \[\d+\]: ERROR: /;

function run(name: string, args: string[], socket: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli(name), ...args], { timeout: 20_000, env: { ...process.env, HBD_CONTROL_SOCKET: socket } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'hbt-classic-'));
const nowhere = join(dir, 'no-hbd.sock');
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('hbctl: a mistyped command gets "did you mean", exit 2; a word far from any gets the usage', async () => {
  assert.deepEqual(await run('hbctl', ['stauts'], nowhere), { code: 2, stdout: '', stderr: 'hbctl: unknown command "stauts"; did you mean "status"?\n' });
  assert.deepEqual(await run('hbctl', ['chek-config'], nowhere), { code: 2, stdout: '', stderr: 'hbctl: unknown command "chek-config"; did you mean "check-config"?\n' });
  assert.deepEqual(await run('hbctl', ['standbye'], nowhere), { code: 2, stdout: '', stderr: 'hbctl: unknown command "standbye"; did you mean "standby"?\n' });
  const far = await run('hbctl', ['frobnicate'], nowhere);
  assert.equal(far.code, 2);
  assert.match(far.stderr, /^hbctl: unknown command "frobnicate"\n\nusage: hbctl/);
});

test('suggestions: transpositions count as one edit; short or distant words get none', () => {
  assert.equal(editDistance('stauts', 'status'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  const cmds = ['check-config', 'status', 'standby', 'takeover', 'help'];
  assert.equal(closest('takeovr', cmds), 'takeover');
  assert.equal(closest('STATUS', cmds), 'status');
  assert.equal(closest('x', cmds), null);
  assert.equal(closest('hello-world', cmds), null);
});

test('--version and -V: every command prints its name and the package version, exit 0', async () => {
  for (const [name, flag] of [['hbctl', '--version'], ['hbctl', '-V'], ['cl_status', '--version'], ['cl_status', '-V'], ['hb_standby', '--version'], ['hb_takeover', '-V']] as const) {
    assert.deepEqual(await run(name, [flag], nowhere), { code: 0, stdout: `${name} (heartbeat-ts) ${VERSION}\n`, stderr: '' }, `${name} ${flag}`);
  }
});

test('cl_status without hbd: hbstatus says stopped (exit 1); sub-commands that need hbd exit 1 with the reason; bad ones exit 11', async () => {
  assert.deepEqual(await run('cl_status', ['hbstatus'], nowhere), { code: 1, stdout: 'Heartbeat is stopped on this machine.\n', stderr: '' });
  const v = await run('cl_status', ['hbstatus', '-v'], nowhere);
  assert.deepEqual(v, { code: 1, stdout: `Heartbeat is stopped on this machine.\n(hbd is not running (no control socket at ${nowhere}))\n`, stderr: '' });
  for (const args of [['listnodes'], ['nodestatus', 'alpha'], ['hbparameter', '-p', 'deadtime'], ['rscstatus']]) {
    const r = await run('cl_status', args, nowhere);
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.stdout, '');
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0]!, new RegExp(`${LOG.source}Cannot signon with heartbeat$`));
    assert.match(lines[1]!, new RegExp(`${LOG.source}REASON: hbd is not running \\(no control socket at ${nowhere.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`));
  }
  for (const bad of ['numnodes', '--help', 'bogus']) {
    const r = await run('cl_status', [bad], nowhere);
    assert.equal(r.code, 11, bad);
    assert.match(r.stderr, new RegExp(`${LOG.source}${bad}: invalid sub-command\\.\\n$`));
  }
  const help = await run('cl_status', [], nowhere);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: cl_status <sub-command> \[<options>\] \[<parameters>\]\n/);
  assert.deepEqual(await run('cl_status', ['-h'], nowhere), help);
});

test('cl_status gives up as Heartbeat\'s does when the daemon takes the connection but never answers: exit 12 after 5 s, silently', async () => {
  const path = join(dir, 'mute.sock');
  const held: Socket[] = [];
  const server = createServer((sock) => void held.push(sock));
  await new Promise<void>((resolve) => server.listen(path, resolve));
  try {
    assert.deepEqual(await run('cl_status', ['listnodes'], path), { code: 12, stdout: '', stderr: '' });
  } finally {
    for (const s of held) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('hb_standby and hb_takeover: usage on stdout and stderr as Heartbeat\'s scripts, exit 1; no hbd is exit 1 with the reason', async () => {
  for (const tool of ['hb_standby', 'hb_takeover']) {
    const self = cli(tool);
    assert.deepEqual(await run(tool, ['--help'], nowhere), { code: 1, stdout: 'usage:\n', stderr: `${self} [all|foreign|local|failback]\n` });
    assert.deepEqual(await run(tool, ['a', 'b'], nowhere), { code: 1, stdout: `${self}: too many arguments\nusage:\n`, stderr: `${self} [all|foreign|local|failback]\n` });
    assert.deepEqual(await run(tool, ['everything'], nowhere), { code: 1, stdout: `${self}: wrong resources(everything).\nusage:\n`, stderr: `${self} [all|foreign|local|failback]\n` });
    const down = await run(tool, ['failback'], nowhere);
    assert.equal(down.code, 1);
    assert.equal(down.stdout, '');
    assert.match(down.stderr, new RegExp(`${tool}: hbd is not running \\(no control socket at .*no-hbd\\.sock\\)\\n$`));
    if (tool === 'hb_standby') assert.match(down.stderr, /^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d Going standby \[foreign\]\.\n/);
  }
});

test('getopt as GNU reads it: clusters, attached and detached arguments, operands anywhere, "--"', () => {
  assert.deepEqual(getopt(['-mv', 'x', '-p', 'y'], 'mvp:'), { options: [{ letter: 'm' }, { letter: 'v' }, { letter: 'p', arg: 'y' }], operands: ['x'] });
  assert.deepEqual(getopt(['-pdeadtime', '--', '-m'], 'mp:'), { options: [{ letter: 'p', arg: 'deadtime' }], operands: ['-m'] });
  assert.equal(getopt(['-x'], 'm').error, "invalid option -- 'x'");
  assert.equal(getopt(['-p'], 'mp:').error, "option requires an argument -- 'p'");
});
