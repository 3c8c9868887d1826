// An OCF agent's `meta-data`: which parameters it takes (and which it requires) and its own
// timeouts. check-config checks a resource's parameters against it, and the agent's timeouts
// become the defaults of its calls. The XML is small and regular (the OCF RA API's
// resource-agent DTD): the <parameter> and <action> elements are read with two patterns, not
// a general XML parser.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';

export interface OcfMetaData {
  params: { name: string; required: boolean }[];
  /** Milliseconds, by action name (start, stop, monitor, ...). */
  timeouts: Record<string, number>;
}

/** What reading one agent's meta-data gave: the data, or why there is none. */
export type MetaResult = { ok: true; meta: OcfMetaData } | { ok: false; error: string };

/** "20s", "2m", "500ms", "90" (seconds): an OCF timeout in ms; null when unreadable. */
export function parseOcfTimeout(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|msec|s|sec|m|min|h|hr)?\s*$/i.exec(text);
  if (!m) return null;
  const unit = (m[2] ?? 's').toLowerCase();
  const scale = unit.startsWith('ms') ? 1 : unit.startsWith('s') ? 1000 : unit.startsWith('m') ? 60_000 : 3_600_000;
  return Math.round(Number(m[1]) * scale);
}

function attr(tag: string, name: string): string | null {
  const m = new RegExp(`\\s${name}\\s*=\\s*"([^"]*)"`).exec(tag);
  return m ? (m[1] ?? '') : null;
}

export function parseMetaData(xml: string): MetaResult {
  if (!/<resource-agent[\s>]/.test(xml)) return { ok: false, error: 'its meta-data is not a <resource-agent> description' };
  const params: OcfMetaData['params'] = [];
  for (const m of xml.matchAll(/<parameter\s[^>]*>/g)) {
    const name = attr(m[0], 'name');
    if (name) params.push({ name, required: attr(m[0], 'required') === '1' });
  }
  const timeouts: Record<string, number> = {};
  for (const m of xml.matchAll(/<action\s[^>]*>/g)) {
    const name = attr(m[0], 'name');
    const t = attr(m[0], 'timeout');
    const ms = t === null ? null : parseOcfTimeout(t);
    // The first monitor entry is the plain one (depth 0); later ones are deeper checks.
    if (name && ms !== null && timeouts[name] === undefined) timeouts[name] = ms;
  }
  return { ok: true, meta: { params, timeouts } };
}

/**
 * Meta-data read so far, by agent path, with the file's size and mtime: a reload asks again
 * only for agents that changed (an upgrade of resource-agents) or are new.
 */
const cache = new Map<string, { stamp: string; result: MetaResult }>();

function stampOf(path: string): string | null {
  try {
    const st = statSync(path);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return null;
  }
}

/** The cached meta-data of `path`, if it is still the same file; undefined when not cached. */
export function cachedMetaData(path: string): MetaResult | undefined {
  const hit = cache.get(path);
  return hit && hit.stamp === stampOf(path) ? hit.result : undefined;
}

/** Stores what reading `path`'s meta-data gave (the agents layer reads it without blocking). */
export function rememberMetaData(path: string, result: MetaResult): void {
  const stamp = stampOf(path);
  if (stamp !== null) cache.set(path, { stamp, result });
}

/** The environment meta-data runs in: nothing of ours, only what the OCF shell library needs. */
export function metaDataEnv(root: string): NodeJS.ProcessEnv {
  return { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C', OCF_ROOT: root, OCF_RA_VERSION_MAJOR: '1', OCF_RA_VERSION_MINOR: '0', OCF_RESOURCE_INSTANCE: 'meta-data' };
}

export const META_DATA_TIMEOUT_MS = 5000;

/** The OCF RA API's exit codes, by number, as log lines and check-config name them. */
const OCF_CODES: readonly string[] = [
  'OCF_SUCCESS',
  'OCF_ERR_GENERIC',
  'OCF_ERR_ARGS',
  'OCF_ERR_UNIMPLEMENTED',
  'OCF_ERR_PERM',
  'OCF_ERR_INSTALLED',
  'OCF_ERR_CONFIGURED',
  'OCF_NOT_RUNNING',
  'OCF_RUNNING_PROMOTED',
  'OCF_FAILED_PROMOTED',
];

export function ocfCodeName(rc: number | null): string {
  if (rc === null) return 'no exit code';
  return OCF_CODES[rc] ?? `unknown OCF code ${rc}`;
}

/**
 * Runs `path meta-data` and waits for it (check-config, hbd at start): a few tens of ms per
 * agent. The running daemon reads new agents without blocking instead (daemon/reload.ts).
 */
export function readMetaDataSync(path: string, root: string): MetaResult {
  const cached = cachedMetaData(path);
  if (cached) return cached;
  let result: MetaResult;
  try {
    const xml = execFileSync(path, ['meta-data'], { env: metaDataEnv(root), timeout: META_DATA_TIMEOUT_MS, maxBuffer: 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    result = parseMetaData(xml);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { status?: number | null; signal?: string | null };
    result = { ok: false, error: `"${path} meta-data" failed (${e.code === 'ETIMEDOUT' ? `no answer in ${META_DATA_TIMEOUT_MS} ms` : e.status != null ? `exit code ${e.status}` : (e.signal ?? e.code ?? e.message)})` };
  }
  rememberMetaData(path, result);
  return result;
}
