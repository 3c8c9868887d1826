// The package's version, from the package.json the build ships with.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

/** package.json's `version`; 'unknown' when none can be read (a copied dist/ without it). */
export function packageVersion(): string {
  if (cached !== null) return cached;
  // Compiled files sit at different depths (dist/src/lib, a package's lib dir): walk up to the root.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const v = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
        return (cached = typeof v === 'string' ? v : 'unknown');
      } catch {
        return (cached = 'unknown');
      }
    }
    const up = dirname(dir);
    if (up === dir) return (cached = 'unknown');
    dir = up;
  }
}
