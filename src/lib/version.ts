// The package's version, from the package.json the build ships with (dist/src/lib/ -> repo root).
import { readFileSync } from 'node:fs';

let cached: string | null = null;

/** package.json's `version`; 'unknown' when the file cannot be read (a copied dist/ without it). */
export function packageVersion(): string {
  if (cached !== null) return cached;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    cached = 'unknown';
  }
  return cached;
}
