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
  /**
   * Where resource names are looked up: resourceD defaults to CONFIGDIR/resource.d; initD is
   * a `:`-separated list of init directories (default /etc/init.d:/etc/rc.d); ocfRoot is
   * OCF_ROOT (default /usr/lib/ocf).
   */
  roots?: { resourceD?: string; initD?: string; ocfRoot?: string };
  /** OCF agents' meta-data: read (default), cached only (a running daemon), or skip. */
  ocfMeta?: 'read' | 'cached' | 'skip';
  /** This node's name; defaults to `uname -n` (os.hostname()), as Heartbeat does. */
  nodeName?: string;
}

/**
 * `notes`: lines worth logging at info (membership only, ...). `unreadMeta`: with
 * ocfMeta 'cached', the OCF agents whose meta-data is not known yet (not checked).
 */
export type LoadResult =
  | { ok: true; config: ClusterConfig; warnings: ConfigIssue[]; notes: ConfigIssue[]; unreadMeta: string[] }
  | { ok: false; errors: ConfigIssue[]; warnings: ConfigIssue[]; notes: ConfigIssue[]; unreadMeta: string[] };

export const DEFAULT_INIT_DIRS = ['/etc/init.d', '/etc/rc.d'];
export const DEFAULT_OCF_ROOT = '/usr/lib/ocf';

const MAX_FILE = 1024 * 1024;

function readText(path: string, issues: IssueList, emptyOk = false): string | null {
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
    if (text.trim() === '' && !emptyOk) {
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
  const unread = new Set<string>();
  const roots: ResourceRoots = {
    resourceD: opts.roots?.resourceD ?? join(dir, 'resource.d'),
    initDirs: opts.roots?.initD ? opts.roots.initD.split(':').filter(Boolean) : DEFAULT_INIT_DIRS,
    ocf: { root: opts.roots?.ocfRoot ?? DEFAULT_OCF_ROOT, configDir: dir, meta: opts.ocfMeta ?? 'read', unread },
  };

  const hacfText = readText(hacfPath, issues);
  const ha = hacfText !== null ? parseHaCf(hacfText, hacfPath, issues) : null;

  const authText = readAuthkeysFile(authPath, issues);
  const auth = authText !== null ? parseAuthkeys(authText, authPath, issues) : null;

  // An empty haresources is valid, as in Heartbeat: a cluster for membership only.
  const resText = readText(resPath, issues, true);
  const groups = resText !== null && ha ? (resText.trim() === '' ? emptyHaresources(resPath, issues) : parseHaresources(resText, resPath, ha.nodes, roots, issues)) : [];

  if (ha && resText !== null) checkMonitorTargets(ha.ext.monitors, groups, hacfPath, issues);
  if (ha) {
    const me = opts.nodeName ?? hostname();
    const mine = (n: string): boolean => n.toLowerCase() === me.toLowerCase();
    const members = ha.quorum.witness ? [...ha.nodes, ha.quorum.witness.name] : ha.nodes;
    if (ha.nodes.length > 0 && !members.some(mine)) {
      issues.warn(hacfPath, 0, `this host is "${me}" (uname -n), which is not a node of ha.cf (${ha.nodes.join(', ')}) — add "node ${me}", or rename the host to its node name (hostnamectl set-hostname NAME), or start hbd with --node NAME`);
    } else if (groups.length > 0 && !groups.some((g) => mine(g.preferredNode))) {
      issues.info(resPath, 0, `${me} is the preferred node of no resource group: it runs others' groups only when they fail over to it`);
    }
  }

  const errors = issues.errors;
  const common = { warnings: issues.warnings, notes: issues.notes, unreadMeta: [...unread] };
  if (errors.length > 0 || !ha || !auth) return { ok: false, errors, ...common };
  const partDigests = { hacf: digestHaCf(ha), authkeys: digestAuthkeys(auth), haresources: digestHaresources(groups) };
  return {
    ok: true,
    config: { dir, ha, auth, groups, digest: combineDigests(partDigests), partDigests },
    ...common,
  };
}

function emptyHaresources(file: string, issues: IssueList): [] {
  issues.info(file, 0, 'lists no resource groups: membership only, no resources will be run');
  return [];
}
