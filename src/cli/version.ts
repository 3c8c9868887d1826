// The line every command prints for --version (-V).
import { packageVersion } from '../lib/version.js';

export function versionLine(name: string): string {
  return `${name} (heartbeat-ts) ${packageVersion()}\n`;
}
