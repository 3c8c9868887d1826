// packaging/logrotate/heartbeat-ts: the real logrotate parses it, and a rotation by it while a
// real hbd runs loses nothing that matters: the old lines are in the rotated file, and hbd's
// next lines land at the start of the emptied log file (it appends; no signal is sent, since
// SIGHUP would also reload the configuration).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fromRoot } from '../helpers/repo.js';
import { LocalCluster } from '../helpers/local-cluster.js';
import { BIN } from '../helpers/cluster.js';
import { skipWithoutTools } from '../helpers/tools.js';

const run = promisify(execFile);
const LOGROTATE = [{ cmd: 'logrotate', pkg: 'logrotate' }];
const CONF = fromRoot('packaging', 'logrotate', 'heartbeat-ts');
const SLOW = 30_000;

/** logrotate's exit status and everything it printed. */
async function logrotate(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run('logrotate', args, { timeout: SLOW });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

function withTmp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hbt-logrotate-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('logrotate parses the shipped file: both Heartbeat log paths, rotated by copy and truncation', async (t) => {
  if (skipWithoutTools(t, LOGROTATE)) return;
  await withTmp(async (dir) => {
    const ok = await logrotate(['-d', '-s', join(dir, 'state'), CONF]);
    assert.equal(ok.code, 0, ok.out);
    assert.doesNotMatch(ok.out, /error/i);
    assert.match(ok.out, /rotating pattern: \/var\/log\/ha-log \/var\/log\/ha-debug /);
    const directives = readFileSync(CONF, 'utf8').replace(/#.*$/gm, '');
    assert.match(directives, /^\s*copytruncate\s*$/m);
    assert.doesNotMatch(directives, /postrotate|prerotate|kill|HUP/, 'no signal to hbd: SIGHUP reloads its configuration');
    // The check can fail: the same file with a directive logrotate does not know.
    const bad = join(dir, 'bad');
    writeFileSync(bad, readFileSync(CONF, 'utf8').replace('copytruncate', 'copytruncate\n\tnosuchdirective'), { mode: 0o644 });
    const refused = await logrotate(['-d', '-s', join(dir, 'state'), bad]);
    assert.match(refused.out, /error: .*nosuchdirective/);
  });
});

test('a rotation while hbd runs: old lines in ha-log.1, new ones at the start of the emptied ha-log', async (t) => {
  if (skipWithoutTools(t, LOGROTATE)) return;
  const c = new LocalCluster({ nodes: ['alpha'] });
  const logfile = join(c.dir, 'ha-log');
  const debugfile = join(c.dir, 'ha-debug');
  try {
    c.writeConfig('alpha', { extra: `logfile ${logfile}\ndebugfile ${debugfile}` });
    // The shipped file, with the two paths pointed at this test's files.
    const conf = join(c.dir, 'logrotate.conf');
    writeFileSync(conf, readFileSync(CONF, 'utf8').replace('/var/log/ha-log', logfile).replace('/var/log/ha-debug', debugfile), { mode: 0o644 });
    c.start('alpha');
    await c.waitFor('alpha to answer', () => c.status('alpha'), SLOW);
    await c.waitFor('the start line in ha-log', () => existsSync(logfile) && readFileSync(logfile, 'utf8').includes('Starting heartbeat-ts'), SLOW);

    const r = await logrotate(['-f', '-v', '-s', join(c.dir, 'state'), conf]);
    assert.equal(r.code, 0, r.out);
    for (const file of [logfile, debugfile]) {
      assert.match(readFileSync(`${file}.1`, 'utf8'), /Configuration validated\. Starting heartbeat-ts/, `${file}.1 has the lines from before`);
    }

    // A line hbd writes after the rotation, asked for over the control socket (no signal).
    await run(process.execPath, [BIN.hbctl, 'takeover', '--socket', c.socket('alpha')], { timeout: SLOW });
    for (const file of [logfile, debugfile]) {
      const text = await c.waitFor(`the takeover line in ${file}`, () => {
        const s = readFileSync(file, 'utf8');
        return s.includes('Takeover: asking the other node(s) for all resources.') ? s : null;
      }, SLOW);
      assert.ok(!text.startsWith('\0'), `${file} starts with NUL bytes: hbd wrote at its old offset instead of appending`);
      assert.match(text, /^heartbeat\[\d+\]: /, `${file} starts with a log line`);
      assert.doesNotMatch(text, /Starting heartbeat-ts/, `${file} still has the lines from before the rotation`);
      assert.doesNotMatch(readFileSync(`${file}.1`, 'utf8'), /Takeover: asking/, `the line after the rotation went to ${file}.1`);
    }
    assert.equal(c.procs.get('alpha')?.exitCode, null, 'hbd runs on');
  } finally {
    await c.cleanup();
  }
});
