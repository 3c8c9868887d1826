// The version the commands print (--version): the package's, read from its package.json.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

export function packageVersion(): string {
  if (cached !== null) return cached;
  // Compiled files sit at different depths (dist/src/cli): walk up to the package root.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const v = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
      cached = typeof v === 'string' ? v : 'unknown';
      return cached;
    }
    const up = dirname(dir);
    if (up === dir) return (cached = 'unknown');
    dir = up;
  }
}

/** The line `NAME --version` prints. */
export function versionLine(name: string): string {
  return `${name} (heartbeat-ts) ${packageVersion()}\n`;
}
