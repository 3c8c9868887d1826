// Reads /etc/ha.d (or another directory) into one validated ClusterConfig, collecting every
// problem with its file and line instead of stopping at the first. ha.cf and haresources may
// be symlinks (configuration management often links them); authkeys, which holds the keys,
// may not (authkeys.ts).
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseAuthkeys, readAuthkeysFile } from './authkeys.js';
import { combineDigests, digestAuthkeys, digestHaCf, digestHaresources } from './digest.js';
import { parseHaCf } from './hacf.js';
import { parseHaresources, type ResourceRoots } from './haresources.js';
import { IssueList } from './issues.js';
import { checkMonitorTargets } from './monitor.js';
import type { ClusterConfig, ConfigIssue } from './types.js';

export interface LoadOptions {
  /** Directory holding ha.cf, authkeys, haresources (Heartbeat: /etc/ha.d). */
  configDir: string;
  /** Where bare resource names are looked up; defaults to CONFIGDIR/resource.d and /etc/init.d. */
  roots?: Partial<ResourceRoots>;
  /** This node's name; defaults to `uname -n` (os.hostname()), as Heartbeat does. */
  nodeName?: string;
}

export type LoadResult =
  | { ok: true; config: ClusterConfig; warnings: ConfigIssue[] }
  | { ok: false; errors: ConfigIssue[]; warnings: ConfigIssue[] };

const MAX_FILE = 1024 * 1024;

function readText(path: string, issues: IssueList): string | null {
  try {
    const st = statSync(path);
    if (!st.isFile()) {
      issues.error(path, 0, 'is not a regular file');
      return null;
    }
    if (st.size > MAX_FILE) {
      issues.error(path, 0, `is ${st.size} bytes; a config file over ${MAX_FILE} bytes is surely not one — check the path`);
      return null;
    }
    const text = readFileSync(path, 'utf8');
    if (text.trim() === '') {
      issues.error(path, 0, 'is empty — see the README for an example of this file');
      return null;
    }
    return text;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    issues.error(path, 0, code === 'ENOENT' ? 'does not exist — create it (see the README for an example)' : `cannot be read (${code ?? String(err)})`);
    return null;
  }
}

export function loadConfig(opts: LoadOptions): LoadResult {
  const issues = new IssueList();
  const dir = opts.configDir;
  const hacfPath = join(dir, 'ha.cf');
  const authPath = join(dir, 'authkeys');
  const resPath = join(dir, 'haresources');
  const roots: ResourceRoots = {
    resourceD: opts.roots?.resourceD ?? join(dir, 'resource.d'),
    initD: opts.roots?.initD ?? '/etc/init.d',
  };

  const hacfText = readText(hacfPath, issues);
  const ha = hacfText !== null ? parseHaCf(hacfText, hacfPath, issues) : null;

  const authText = readAuthkeysFile(authPath, issues);
  const auth = authText !== null ? parseAuthkeys(authText, authPath, issues) : null;

  const resText = readText(resPath, issues);
  const groups = resText !== null && ha ? parseHaresources(resText, resPath, ha.nodes, roots, issues) : [];

  if (ha && resText !== null) checkMonitorTargets(ha.ext.monitors, groups, hacfPath, issues);
  if (ha) {
    const me = opts.nodeName ?? hostname();
    const members = ha.quorum.witness ? [...ha.nodes, ha.quorum.witness.name] : ha.nodes;
    if (ha.nodes.length > 0 && !members.some((n) => n.toLowerCase() === me.toLowerCase())) {
      issues.warn(hacfPath, 0, `this host is "${me}" (uname -n), which is not a node of ha.cf (${ha.nodes.join(', ')}) — add "node ${me}", or rename the host to its node name (hostnamectl set-hostname NAME), or start hbd with --node NAME`);
    }
  }

  const errors = issues.errors;
  if (errors.length > 0 || !ha || !auth) return { ok: false, errors, warnings: issues.warnings };
  const partDigests = { hacf: digestHaCf(ha), authkeys: digestAuthkeys(auth), haresources: digestHaresources(groups) };
  return {
    ok: true,
    config: { dir, ha, auth, groups, digest: combineDigests(partDigests), partDigests },
    warnings: issues.warnings,
  };
}
