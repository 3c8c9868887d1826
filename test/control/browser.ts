// Headless Chromium for dashboard tests: Debian's /usr/bin/chromium driven by playwright-core
// (which downloads no browser). Missing browser: the test skips with a reason, except under
// CI=true, where it fails (project rule: CI installs it through scripts/install-deps.sh).
import { existsSync, mkdirSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { fromRoot } from '../helpers/repo.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'];

/** The browser, or null after marking the test skipped (never under CI=true). */
export async function launch(t: TestContext): Promise<Browser | null> {
  if (!existsSync(CHROMIUM)) {
    const reason = `${CHROMIUM} not found: install Debian's chromium (scripts/install-deps.sh does)`;
    if (process.env.CI === 'true') throw new Error(`${reason}; CI=true: browser tests must run`);
    process.stdout.write(`# skipping browser test: ${reason}\n`);
    t.skip(reason);
    return null;
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
}

export function artifactPath(name: string): string {
  const dir = fromRoot('test-artifacts');
  mkdirSync(dir, { recursive: true });
  return `${dir}/${name}`;
}
