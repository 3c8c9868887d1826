// The man pages in packaging/man: each renders without a single groff warning, names itself
// as its file does, refers only to pages that exist, and documents what the code has — every
// ha.cf directive (and, apart, the ones not acted on), every hbctl command, every cl_status
// sub-command, every hbd option — with lists taken from the code, not written down here. The
// examples of the file pages are checked by the configuration loader itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directiveNames } from '../../src/config/hacf.js';
import { loadConfig } from '../../src/config/load.js';
import { formatIssue } from '../../src/config/issues.js';
import { HBD_OPTIONS } from '../../src/cli/hbd-options.js';
import { HBCTL_COMMANDS } from '../../src/cli/hbctl-commands.js';
import { SUBCOMMANDS } from '../../src/cli/cl_status-subs.js';
import { fromRoot } from '../helpers/repo.js';
import { examples, references, section, tags, tagWords } from '../helpers/roff.js';
import { skipWithoutTools } from '../helpers/tools.js';

const MAN = fromRoot('packaging', 'man');
const GROFF = [{ cmd: 'groff', pkg: 'groff-base' }];
const pages = readdirSync(MAN).filter((f) => /\.[1-8]$/.test(f)).sort();
const page = (name: string): string => readFileSync(join(MAN, name), 'utf8');

/** groff's warnings (all of them: -ww) for a page rendered for a terminal, as man does. */
function groffWarnings(path: string): string {
  const r = spawnSync('groff', ['-man', '-ww', '-z', '-Tutf8', path], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `groff exited ${r.status} on ${path}: ${r.stderr}`);
  return r.stderr;
}

test('the warning check itself: groff -ww reports a page with an unknown macro and a missing argument', (t) => {
  if (skipWithoutTools(t, GROFF)) return;
  const dir = mkdtempSync(join(tmpdir(), 'hbt-man-'));
  try {
    const bad = join(dir, 'bad.1');
    writeFileSync(bad, '.TH BAD 1\n.SH NAME\nbad \\- a broken page\n.SH DESCRIPTION\n.NOSUCHMACRO x\nSee \\*[nosuchstring].\n');
    const w = groffWarnings(bad);
    assert.match(w, /warning: macro 'NOSUCHMACRO' not defined/);
    assert.match(w, /nosuchstring/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('there is a page for every command of package.json and for each configuration file', () => {
  const bins = Object.keys((JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { bin: Record<string, string> }).bin);
  const named = new Set(pages.map((p) => p.replace(/\.[1-8]$/, '')));
  const missing = [...bins, 'ha.cf', 'authkeys', 'haresources'].filter((n) => !named.has(n));
  assert.deepEqual(missing, []);
});

for (const file of pages) {
  test(`${file} renders without a groff warning`, (t) => {
    if (skipWithoutTools(t, GROFF)) return;
    assert.equal(groffWarnings(join(MAN, file)), '');
  });
}

test('each page names itself in .TH as its file is named, and has NAME, SEE ALSO and COMPATIBILITY', () => {
  for (const file of pages) {
    const src = page(file);
    const th = /^\.TH\s+(\S+)\s+(\d)\s/m.exec(src);
    assert.ok(th, `${file}: no .TH line`);
    assert.equal(`${th[1]}.${th[2]}`, file.toUpperCase().replace(/\.(\d)$/, '.$1'), `${file}: .TH says ${th[1]} ${th[2]}`);
    const name = section(src, 'NAME').lines.join(' ');
    assert.match(name, new RegExp(`^${file.replace(/\.\d$/, '').replace(/[._]/g, (c) => (c === '.' ? '\\.' : c))} \\\\- `), `${file}: NAME line "${name}"`);
    section(src, 'SEE ALSO');
    section(src, 'COMPATIBILITY');
  }
});

test('cross references to heartbeat-ts pages name a page that exists, in its section', () => {
  const ours = new Map(pages.map((p) => [p.replace(/\.\d$/, ''), p.slice(-1)]));
  const wrong: string[] = [];
  for (const file of pages) {
    for (const r of references(page(file))) {
      const sectionOf = ours.get(r.name);
      if (sectionOf !== undefined && sectionOf !== r.section) wrong.push(`${file}: ${r.name}(${r.section}), the page is ${r.name}(${sectionOf})`);
    }
  }
  assert.deepEqual(wrong, []);
  // Every page is reachable from hbd(8), one hop or two.
  const fromHbd = new Set(references(page('hbd.8')).map((r) => r.name));
  assert.deepEqual(pages.filter((p) => p !== 'hbd.8' && !fromHbd.has(p.replace(/\.\d$/, ''))), []);
});

test('ha.cf(5) documents every directive of the parser, the ones not acted on in their own section', () => {
  const { actedOn, notActedOn } = directiveNames();
  const src = page('ha.cf.5');
  const documented = new Set(tags(section(src, 'DIRECTIVES')).map((tag) => tagWords(tag)[0] ?? ''));
  const ignored = new Set(tags(section(src, 'UNDERSTOOD BUT NOT ACTED ON')).flatMap(tagWords));
  assert.deepEqual(actedOn.filter((d) => !documented.has(d)), [], 'directives missing from DIRECTIVES');
  assert.deepEqual(notActedOn.filter((d) => !ignored.has(d)), [], 'directives missing from UNDERSTOOD BUT NOT ACTED ON');
  // ...and nothing more: no directive the parser would refuse, none in the wrong section.
  assert.deepEqual([...documented].filter((d) => !actedOn.includes(d)), [], 'DIRECTIVES lists what is not an acted-on directive');
  assert.deepEqual([...ignored].filter((d) => !notActedOn.includes(d)), [], 'UNDERSTOOD BUT NOT ACTED ON lists what is not such a directive');
});

test('hbctl(8) documents every hbctl command', () => {
  const documented = new Set(tags(section(page('hbctl.8'), 'COMMANDS')).map((tag) => tagWords(tag)[0] ?? ''));
  assert.deepEqual(HBCTL_COMMANDS.filter((c) => !documented.has(c)), []);
});

test('cl_status(1) documents every cl_status sub-command', () => {
  const documented = new Set(tags(section(page('cl_status.1'), 'SUB-COMMANDS')).map((tag) => tagWords(tag)[0] ?? ''));
  assert.deepEqual([...SUBCOMMANDS].filter((c) => !documented.has(c)), []);
});

test('hbd(8) documents every hbd option, long and short, and no option hbd does not have', () => {
  const src = page('hbd.8');
  const documented = new Set(tags(section(src, 'OPTIONS')).flatMap(tagWords));
  const missing: string[] = [];
  for (const [long, spec] of Object.entries(HBD_OPTIONS)) {
    if (!documented.has(`--${long}`)) missing.push(`--${long}`);
    const short = 'short' in spec ? spec.short : undefined;
    if (short !== undefined && !documented.has(`-${short}`)) missing.push(`-${short}`);
  }
  assert.deepEqual(missing, []);
  const text = src.replace(/\\-/g, '-');
  const mentioned = new Set([...text.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1] ?? ''));
  assert.deepEqual([...mentioned].filter((o) => !(o in HBD_OPTIONS)), [], 'hbd(8) mentions options hbd does not have');
});

test('the EXAMPLE files of ha.cf(5), authkeys(5) and haresources(5) load together without an error or a warning', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hbt-man-example-'));
  try {
    const hacf = examples(section(page('ha.cf.5'), 'EXAMPLE'));
    const auth = examples(section(page('authkeys.5'), 'EXAMPLE'));
    const res = examples(section(page('haresources.5'), 'EXAMPLE'));
    assert.equal(hacf.length, 1);
    assert.equal(res.length, 1);
    const configDir = join(dir, 'ha.d');
    const resourceD = join(configDir, 'resource.d');
    const initD = join(dir, 'init.d');
    mkdirSync(resourceD, { recursive: true });
    mkdirSync(initD);
    writeFileSync(join(configDir, 'ha.cf'), hacf[0] ?? '');
    // The second block of authkeys(5) is the file the first one writes.
    writeFileSync(join(configDir, 'authkeys'), auth.at(-1) ?? '', { mode: 0o600 });
    chmodSync(join(configDir, 'authkeys'), 0o600);
    writeFileSync(join(configDir, 'haresources'), res[0] ?? '');
    // The services the example names, as init scripts.
    for (const name of ['apache2', 'postgresql']) writeFileSync(join(initD, name), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const r = loadConfig({ configDir, roots: { resourceD, initD }, nodeName: 'alpha' });
    assert.deepEqual(r.ok ? [] : r.errors.map(formatIssue), []);
    assert.deepEqual(r.warnings.map(formatIssue), []);
    assert.ok(r.ok);
    assert.deepEqual(r.config.ha.nodes, ['alpha', 'bravo']);
    assert.deepEqual(r.config.groups.map((g) => [g.preferredNode, g.resources.map((x) => x.raw)]), [
      ['alpha', ['IPaddr::192.168.1.100/24/eth0', 'apache2']],
      ['bravo', ['IPaddr::192.168.1.101', 'postgresql']],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
