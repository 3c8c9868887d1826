// The three ways a haresources line names an OCF agent, each turned into one OcfAgentSpec:
//   Filesystem::/dev/sda1::/data1::ext2      Heartbeat's classic name (ocf-names.ts says how)
//   ocf:heartbeat:nginx::configfile=/etc/x   any agent, named parameters (Pacemaker's spelling)
//   OCF::IPaddr::web                         Heartbeat's OCF wrapper: the parameters are in
//                                            CONFIG-DIR/conf/OCF/IPaddr/web
// and then checked against the agent's meta-data where the agent is installed.
import { accessSync, constants, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { closest } from '../lib/suggest.js';
import { CLASSIC_NAMES, countFits, describeCounts } from './ocf-names.js';
import { cachedMetaData, readMetaDataSync, type MetaResult } from './ocf-meta.js';
import type { OcfAgentSpec } from './types.js';

export interface OcfRoots {
  /** OCF_ROOT (default /usr/lib/ocf). */
  root: string;
  /** Where `OCF::type::instance` files are: CONFIG-DIR/conf/OCF. */
  configDir: string;
  /**
   * read: run meta-data and wait (check-config, hbd at start). cached: only what is known
   * already, the paths not known are added to `unread` (a running daemon reads them without
   * blocking, then loads again). skip: no meta-data.
   */
  meta: 'read' | 'cached' | 'skip';
  unread: Set<string>;
}

export type OcfParse = { ok: true; spec: OcfAgentSpec; warnings: string[] } | { ok: false; error: string };

const PARAM = /^[A-Za-z_][A-Za-z0-9_]*$/;
const AGENT = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;
const INSTALL = 'install Debian\'s resource-agents package (apt-get install resource-agents)';

/** Heartbeat's classic name with its `::` arguments, mapped as its wrapper mapped them. */
export function classicOcf(name: string, args: string[], roots: OcfRoots): OcfParse {
  const c = CLASSIC_NAMES[name];
  if (!c) return { ok: false, error: `${name} is not one of Heartbeat's resource.d names` };
  // One-argument names take everything after `Name::`: an IPv6 address may contain `::`.
  const given = countFits(c.counts, 1) && !countFits(c.counts, 2) && args.length > 1 ? [args.join('::')] : args;
  if (!countFits(c.counts, given.length)) {
    return { ok: false, error: `${name} takes ${describeCounts(c.counts)} argument(s), got ${given.length} — usage: ${name}${c.usage ? `::${c.usage}` : ''}` };
  }
  const params: [string, string][] = [];
  if (c.byShape && given[0] !== undefined) {
    params.push([new RegExp(c.byShape.pattern).test(given[0]) ? c.byShape.param : c.byShape.otherwise, given[0]]);
  } else if (c.slashSplit && given[0] !== undefined) {
    const [first = '', ...rest] = given[0].split('/');
    params.push([c.params[0] ?? '', first]);
    if (rest.length > 0) params.push([c.params[1] ?? '', rest.join('/')]);
  } else {
    c.params.forEach((p, i) => {
      if (p.endsWith('*')) {
        if (given.length > i) params.push([p.slice(0, -1), given.slice(i).join(' ')]);
      } else if (given[i] !== undefined) params.push([p, given[i]]);
    });
  }
  const values = new Map(params);
  for (const [k, v] of Object.entries(c.defaults ?? {})) {
    if (values.has(k)) continue;
    const value = v.replace(/\{(\w+)\}/g, (_, p: string) => values.get(p) ?? '');
    params.push([k, value]);
    values.set(k, value);
  }
  const instance = c.instance.replace(/\{(\w+)\}/g, (_, p: string) => values.get(p) ?? '');
  return finish('heartbeat', c.type, params, instance, 'classic', roots, `${name} is Heartbeat's name for the OCF agent ${c.type}`);
}

/** `ocf:PROVIDER:TYPE::name=value::...`: a piece with no `name=` continues the value before it. */
export function directOcf(word: string, roots: OcfRoots): OcfParse {
  const [head = '', ...pieces] = word.split('::');
  const m = /^ocf:([^:]+):([^:]+)$/.exec(head);
  if (!m || !AGENT.test(m[1] ?? '') || !AGENT.test(m[2] ?? '')) {
    return { ok: false, error: `"${head}" is not an OCF agent name — write ocf:PROVIDER:TYPE, e.g. ocf:heartbeat:Dummy::state=/run/dummy.state` };
  }
  const params: [string, string][] = [];
  for (const piece of pieces) {
    const eq = piece.indexOf('=');
    const key = eq > 0 ? piece.slice(0, eq) : '';
    if (PARAM.test(key)) params.push([key, piece.slice(eq + 1)]);
    else if (params.length > 0) params[params.length - 1]![1] += `::${piece}`;
    else return { ok: false, error: `"${piece}" is not name=value — the parameters of ${head} are written ${head}::name=value::name=value` };
  }
  const seen = new Set<string>();
  for (const [k] of params) {
    if (seen.has(k)) return { ok: false, error: `${head}: parameter "${k}" is given twice` };
    seen.add(k);
  }
  const tag = params.map(([, v]) => v).join('_').replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 64);
  return finish(m[1]!, m[2]!, params, tag ? `${m[2]}_${tag}` : m[2]!, 'direct', roots, `${head} is an OCF agent`);
}

/** Heartbeat's `OCF::TYPE::INSTANCE`: the agent of that type under any provider, its parameters from a file. */
export function instanceFileOcf(args: string[], roots: OcfRoots): OcfParse {
  const [type = '', instance = '', ...extra] = args;
  if (!AGENT.test(type) || !AGENT.test(instance) || extra.length > 0) {
    return { ok: false, error: 'OCF takes two arguments — usage: OCF::<OCF agent type>::<instance name> (the parameters in CONFIG-DIR/conf/OCF/<type>/<instance>)' };
  }
  const file = join(roots.configDir, 'conf', 'OCF', type, instance);
  const read = readInstanceFile(file);
  if (!read.ok) return read;
  const provider = providerOf(type, roots.root);
  if (!provider) return { ok: false, error: `OCF::${type}: no OCF agent ${type} under ${join(roots.root, 'resource.d')}/*/ — ${INSTALL}, or fix the name` };
  return finish(provider, type, read.params, instance, 'instance-file', roots, `OCF::${type} runs the OCF agent ${provider}/${type}`);
}

function readInstanceFile(file: string): { ok: true; params: [string, string][] } | { ok: false; error: string } {
  let text: string;
  try {
    if (statSync(file).size > 64 * 1024) return { ok: false, error: `instance file ${file} is over 64 KiB — check the path` };
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, error: `instance file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}) — create it with one name=value line per parameter` };
  }
  const params: [string, string][] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const body = (lines[i] ?? '').replace(/^\s*export\s+/, '').replace(/(^|\s)#.*$/, '').trim();
    if (!body) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(body);
    if (!m) return { ok: false, error: `${file}:${i + 1}: "${body.slice(0, 60)}" is not name=value — write one parameter per line, e.g. ip=10.0.0.10` };
    const quoted = /^(["'])(.*)\1$/.exec(m[2] ?? '');
    params.push([(m[1] ?? '').replace(/^OCF_RESKEY_/, ''), quoted ? (quoted[2] ?? '') : (m[2] ?? '')]);
  }
  return { ok: true, params };
}

/** The provider directory holding `type`, heartbeat first, as Heartbeat's OCF wrapper found it (ls, first match). */
function providerOf(type: string, root: string): string | null {
  let providers: string[];
  try {
    providers = readdirSync(join(root, 'resource.d')).sort((a, b) => (a === 'heartbeat' ? -1 : b === 'heartbeat' ? 1 : a.localeCompare(b)));
  } catch {
    return null;
  }
  return providers.find((p) => executable(join(root, 'resource.d', p, type))) ?? null;
}

function executable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function finish(provider: string, type: string, params: [string, string][], instance: string, form: OcfAgentSpec['form'], roots: OcfRoots, what: string): OcfParse {
  const path = join(roots.root, 'resource.d', provider, type);
  if (!executable(path)) return { ok: false, error: `${what}, which is not installed: no executable ${path} — ${INSTALL}` };
  const spec: OcfAgentSpec = { provider, type, path, root: roots.root, params, instance, form, timeouts: {} };
  const meta = metaFor(path, roots);
  if (!meta) return { ok: true, spec, warnings: [] };
  if (!meta.ok) return { ok: true, spec, warnings: [`${provider}/${type}: parameters not checked: ${meta.error}`] };
  const { start, stop, monitor } = meta.meta.timeouts;
  spec.timeouts = { ...(start ? { start } : {}), ...(stop ? { stop } : {}), ...(monitor ? { monitor } : {}) };
  const problems = checkParams(params, meta.meta.params, `${provider}/${type}`, form);
  // A classic name's wrapper let the agent refuse what it lacked; direct forms are checked strictly.
  const strict = form !== 'classic';
  const errors = strict ? problems : problems.filter((p) => p.kind === 'unknown');
  if (errors.length > 0) return { ok: false, error: errors.map((p) => p.text).join('; ') };
  return { ok: true, spec, warnings: problems.filter((p) => !errors.includes(p)).map((p) => p.text) };
}

function metaFor(path: string, roots: OcfRoots): MetaResult | undefined {
  if (roots.meta === 'skip') return undefined;
  if (roots.meta === 'read') return readMetaDataSync(path, roots.root);
  const hit = cachedMetaData(path);
  if (!hit) roots.unread.add(path);
  return hit;
}

function checkParams(params: [string, string][], known: { name: string; required: boolean }[], agent: string, form: OcfAgentSpec['form']): { kind: 'unknown' | 'missing'; text: string }[] {
  const fix = (name: string): string =>
    form === 'direct' ? ` — add ::${name}=VALUE` : form === 'instance-file' ? ` — add a line ${name}=VALUE to the instance file` : ' (the agent may refuse to start without it)';
  const names = known.map((k) => k.name);
  const out: { kind: 'unknown' | 'missing'; text: string }[] = [];
  for (const [k] of params) {
    if (names.includes(k)) continue;
    const guess = closest(k, names);
    out.push({ kind: 'unknown', text: `${agent} has no parameter "${k}"${guess ? `; did you mean "${guess}"?` : ` (its parameters: ${names.join(', ') || 'none'})`}` });
  }
  for (const k of known) {
    if (k.required && !params.some(([p, v]) => p === k.name && v !== '')) out.push({ kind: 'missing', text: `${agent} requires the parameter "${k.name}"${fix(k.name)}` });
  }
  return out;
}
