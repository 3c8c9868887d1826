// Copies a seed fixture to a temp dir (git cannot keep authkeys at mode 600), optionally
// swapping in a variant ha.cf/haresources, or writing files given as text.
import { chmodSync, cpSync, mkdtempSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromRoot } from './repo.js';

export interface FixtureDir {
  dir: string;
  cleanup(): void;
}

export function seedFixture(name: string, variants: { hacf?: string; haresources?: string } = {}): FixtureDir {
  const dir = mkdtempSync(join(tmpdir(), `hbts-cfg-${name}-`));
  cpSync(fromRoot('test', 'fixtures', 'seeds', name), dir, { recursive: true });
  if (variants.hacf) renameSync(join(dir, variants.hacf), join(dir, 'ha.cf'));
  if (variants.haresources) renameSync(join(dir, variants.haresources), join(dir, 'haresources'));
  if (existsSync(join(dir, 'authkeys'))) chmodSync(join(dir, 'authkeys'), 0o600);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A config dir made from text, for hostile-input tests. */
export function textFixture(files: { hacf?: string | Buffer; authkeys?: string | Buffer; haresources?: string | Buffer; authMode?: number }): FixtureDir {
  const dir = mkdtempSync(join(tmpdir(), 'hbts-cfg-'));
  const write = (name: string, content: string | Buffer | undefined) => {
    if (content !== undefined) writeFileSync(join(dir, name), content);
  };
  write('ha.cf', files.hacf);
  write('authkeys', files.authkeys);
  write('haresources', files.haresources);
  if (files.authkeys !== undefined) chmodSync(join(dir, 'authkeys'), files.authMode ?? 0o600);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
