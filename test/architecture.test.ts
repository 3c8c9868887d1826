// The shape ARCHITECTURE.md describes, checked: which parts of src/ may import which, files
// small enough to read whole, a core that does no I/O, and core functions short enough to
// follow. A change that breaks the shape fails here, not in a review months later.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { fromRoot } from './helpers/repo.js';

const SRC = fromRoot('src');

/** Each part of src/ and the parts it may import (ARCHITECTURE.md, "Arrows"). */
const ALLOWED: Record<string, string[]> = {
  lib: [],
  config: ['lib'],
  core: ['config'],
  wire: ['core', 'config', 'lib'],
  media: ['config', 'wire', 'lib'],
  agents: ['config', 'lib'],
  runtime: ['core', 'wire'],
  status: ['core', 'config', 'wire', 'lib'],
  daemon: ['runtime', 'core', 'wire', 'media', 'agents', 'config', 'status', 'lib'],
  control: ['status', 'core', 'config', 'lib'],
  cli: ['control', 'status', 'core', 'config', 'lib'],
  sim: ['runtime', 'core', 'wire', 'config', 'lib'],
  demo: ['control', 'status', 'config', 'lib', 'emulators'],
  emulators: ['lib'],
};
/** The one file allowed past the rules above: the entry point that starts the daemon. */
const ENTRY_POINTS: Record<string, string[]> = { 'cli/hbd.ts': ['daemon'] };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

const files = sourceFiles(SRC).map((p) => ({ path: relative(SRC, p), text: readFileSync(p, 'utf8') }));
const partOf = (path: string) => path.split('/')[0]!;

test('every part of src/ imports only the parts ARCHITECTURE.md allows it', () => {
  const wrong: string[] = [];
  for (const f of files) {
    const part = partOf(f.path);
    const allowed = ALLOWED[part];
    assert.ok(allowed, `src/${part}/ is not described in ARCHITECTURE.md (add it to ALLOWED here and there)`);
    for (const m of f.text.matchAll(/from '\.\.\/([a-z-]+)\//g)) {
      const target = m[1]!;
      if (!allowed.includes(target) && !(ENTRY_POINTS[f.path] ?? []).includes(target)) wrong.push(`src/${f.path} imports ${target}/`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('no file in src/ is over 400 lines', () => {
  const long = files.map((f) => ({ path: f.path, lines: f.text.split('\n').length - 1 })).filter((f) => f.lines > 400);
  assert.deepEqual(long, []);
});

test('src/core does no I/O and reads no clock', () => {
  const impure = files.filter((f) => partOf(f.path) === 'core' && /from 'node:|Date\.now|performance\.now|process\./.test(f.text)).map((f) => f.path);
  assert.deepEqual(impure, []);
});

test('no function in src/core is over 80 lines', () => {
  const long: string[] = [];
  for (const f of files.filter((x) => partOf(x.path) === 'core')) {
    const sf = ts.createSourceFile(f.path, f.text, ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
        const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
        const name = 'name' in node && node.name ? node.name.getText(sf) : '(anonymous)';
        if (end - start + 1 > 80) long.push(`src/${f.path}:${start + 1} ${name} (${end - start + 1} lines)`);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  assert.deepEqual(long, []);
});
