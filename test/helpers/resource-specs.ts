// Resource specs exactly as the config layer builds them from a haresources line (with OCF
// meta-data read), for agent tests: `specs('IPv6addr::2001:db8::10/64 Delay::1')`.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { formatIssue } from '../../src/config/issues.js';
import type { ResourceSpec } from '../../src/config/types.js';
import { textFixture } from './config-fixture.js';

/** The resources of `alpha WORDS`; an empty resource.d, so no installed Heartbeat's scripts win. Throws the errors. */
export function specs(words: string, ocfRoot?: string): ResourceSpec[] {
  const fx = textFixture({ hacf: 'bcast eth0\nnode alpha beta\n', authkeys: 'auth 1\n1 sha1 k\n', haresources: `alpha ${words}\n` });
  try {
    mkdirSync(join(fx.dir, 'resource.d'));
    const r = loadConfig({ configDir: fx.dir, nodeName: 'alpha', roots: { initD: '/nonexistent', ...(ocfRoot ? { ocfRoot } : {}) } });
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n'));
    return r.config.groups[0]!.resources;
  } finally {
    fx.cleanup();
  }
}

/** Debian's resource-agents, for tests that run its real OCF agents. */
export const RESOURCE_AGENTS = [{ cmd: '/usr/lib/ocf/resource.d/heartbeat/Dummy', pkg: 'resource-agents' }];
