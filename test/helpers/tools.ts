// Tests that need a command from a Debian package (groff, logrotate, start-stop-daemon): without
// it they skip with a printed reason, except under CI=true, where a missing tool is a failure
// (scripts/install-deps.sh installs them).
import type { TestContext } from 'node:test';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where `cmd` is as an executable (PATH, then the sbin dirs a non-root PATH may lack), or null. */
export function which(cmd: string): string | null {
  // rsyslogd lives in /usr/sbin, which a non-root PATH may lack.
  // An absolute path (an OCF agent, a libexec helper) is checked as it is.
  const dirs = cmd.startsWith('/') ? [''] : [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  for (const d of dirs) {
    if (d === '' && !cmd.startsWith('/')) continue;
    const p = d === '' ? cmd : join(d, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

export interface Tool {
  cmd: string;
  /** The Debian package that provides it. */
  pkg: string;
}

/** Why the tools cannot be used here, or null; under CI=true a missing tool throws instead. */
export function toolsMissingReason(tools: readonly Tool[]): string | null {
  const missing = tools.filter((t) => which(t.cmd) === null);
  if (missing.length === 0) return null;
  const reason = `not installed: ${missing.map((t) => `${t.cmd} (Debian package ${t.pkg})`).join(', ')}; scripts/install-deps.sh installs it`;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${reason}`);
  return reason;
}

/** Skips the test (printing why) when a tool is missing; true when skipped. */
export function skipWithoutTools(t: TestContext, tools: readonly Tool[]): boolean {
  const reason = toolsMissingReason(tools);
  if (reason === null) return false;
  console.log(`# skipped: ${reason}`);
  t.skip(reason);
  return true;
}
