// The ha.cf directives of the etcd arbiter (issue 20): `arbiter etcd` turns it on, the others
// tune it and are errors without it. Cross-checks run once the whole file is read.
import { parseDuration } from './duration.js';
import { ARBITER_DEFAULTS, type ArbiterCf } from './arbiter-types.js';
import type { DirectiveTarget, Handler } from './hacf-directives.js';
import type { IssueList } from './issues.js';
import type { HaCf } from './types.js';

const ENDPOINT = /^https?:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):\d{1,5}$/;
const PREFIX = /^\/[A-Za-z0-9_.\/-]*\/$/;

/** What the arbiter directives read, before the cross-checks make an ArbiterCf of it. */
export interface ArbiterLines {
  on: { line: number } | null;
  endpoints: { values: string[]; line: number } | null;
  ca: { path: string; line: number } | null;
  cert: { path: string; line: number } | null;
  key: { path: string; line: number } | null;
  prefix: { value: string; line: number } | null;
  ttl: { ms: number; line: number } | null;
}

export function noArbiterLines(): ArbiterLines {
  return { on: null, endpoints: null, ca: null, cert: null, key: null, prefix: null, ttl: null };
}

export function arbiterDirectives({ file, issues }: Pick<DirectiveTarget, 'file' | 'issues'>, seen: ArbiterLines): Record<string, Handler> {
  const path = (key: 'ca' | 'cert' | 'key', directive: string) => (values: string[], _rest: string, line: number) => {
    if (values.length !== 1 || !values[0]!.startsWith('/')) issues.error(file, line, `${directive} takes one absolute path to a PEM file — write e.g. "${directive} /etc/ha.d/etcd-${key}.pem"`);
    else seen[key] = { path: values[0]!, line };
  };
  return {
    arbiter: (values, _rest, line) => {
      if (values.length !== 1 || values[0]!.toLowerCase() !== 'etcd') issues.error(file, line, 'arbiter takes one word, etcd — write "arbiter etcd" to have etcd decide which node runs each resource group');
      else seen.on = { line };
    },
    arbiter_endpoints: (values, _rest, line) => {
      const urls = values.flatMap((v) => v.split(',')).filter(Boolean);
      const bad = urls.find((u) => !ENDPOINT.test(u) || Number(u.slice(u.lastIndexOf(':') + 1)) > 65535);
      if (urls.length === 0) issues.error(file, line, 'arbiter_endpoints needs etcd client URLs — write e.g. "arbiter_endpoints https://10.0.0.1:2379 https://10.0.0.2:2379 https://10.0.0.3:2379"');
      else if (bad) issues.error(file, line, `arbiter_endpoints: "${bad}" is not an etcd client URL — write http://HOST:PORT or https://HOST:PORT`);
      else seen.endpoints = { values: urls, line };
    },
    arbiter_tls_ca: path('ca', 'arbiter_tls_ca'),
    arbiter_tls_cert: path('cert', 'arbiter_tls_cert'),
    arbiter_tls_key: path('key', 'arbiter_tls_key'),
    arbiter_prefix: (values, _rest, line) => {
      if (values.length !== 1 || !PREFIX.test(values[0]!)) issues.error(file, line, 'arbiter_prefix takes one etcd key prefix that starts and ends with / (letters, digits, _.-/) — write e.g. "arbiter_prefix /heartbeat-ts/web/"');
      else seen.prefix = { value: values[0]!, line };
    },
    arbiter_ttl: (values, _rest, line) => {
      const ms = values.length === 1 ? parseDuration(values[0]!) : null;
      if (ms === null || ms < 2000 || ms % 1000 !== 0) issues.error(file, line, 'arbiter_ttl takes whole seconds, at least 2 (etcd leases count in seconds) — write e.g. "arbiter_ttl 10"');
      else seen.ttl = { ms, line };
    },
  };
}

/** The arbiter once the whole file is read: null without `arbiter etcd` (then its other lines are errors). */
export function checkArbiterCf(seen: ArbiterLines, cf: HaCf, file: string, issues: IssueList): ArbiterCf | null {
  const others = [seen.endpoints, seen.ca, seen.cert, seen.key, seen.prefix, seen.ttl].filter((x) => x !== null);
  if (!seen.on) {
    for (const o of others) issues.error(file, o.line, 'an arbiter_* line without "arbiter etcd" — add "arbiter etcd", or remove this line');
    return null;
  }
  if ((seen.cert === null) !== (seen.key === null)) {
    issues.error(file, (seen.cert ?? seen.key)!.line, 'arbiter_tls_cert and arbiter_tls_key go together (a client certificate and its key) — give both, or neither');
  }
  const endpoints = seen.endpoints?.values ?? ARBITER_DEFAULTS.endpoints;
  const tls = seen.ca !== null || seen.cert !== null;
  if (tls && endpoints.some((e) => e.startsWith('http://'))) issues.warn(file, seen.endpoints?.line ?? seen.on.line, 'arbiter TLS files are given but an endpoint is http:// — write https:// endpoints, or the files are not used for it');
  if (cf.quorum.witness) issues.warn(file, cf.quorum.witness.line, 'with "arbiter etcd" etcd decides who runs each group: the witness is not needed (it still runs no group)');
  return {
    kind: 'etcd',
    line: seen.on.line,
    endpoints,
    tls: { ca: seen.ca?.path ?? null, cert: seen.cert?.path ?? null, key: seen.key?.path ?? null },
    prefix: seen.prefix?.value ?? ARBITER_DEFAULTS.prefix,
    ttlMs: seen.ttl?.ms ?? ARBITER_DEFAULTS.ttlMs,
  };
}
