// Paths relative to the repository root, so compiled tests under dist/test find fixtures.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root (package.json) not found');
    dir = up;
  }
  return dir;
}

export const repoRoot = findRoot();
export const fromRoot = (...parts: string[]): string => join(repoRoot, ...parts);
