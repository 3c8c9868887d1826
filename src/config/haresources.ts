// haresources: one resource group per line, "preferred-node resource resource::arg ...",
// backslash continuation and # comments, as Heartbeat's ResourceManager reads it.
// A bare name is looked up in resource.d first, then init.d, like Heartbeat does.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isCloudIpKind, parseCloudIp } from './cloud.js';
import { readCloudSecretSync } from './cloud-secret.js';
import { IssueList, splitConfigLines } from './issues.js';
import { parseVip } from './vip.js';
import type { ResourceGroup, ResourceSpec } from './types.js';

export interface ResourceRoots {
  /** Heartbeat's /etc/ha.d/resource.d */
  resourceD: string;
  /** /etc/init.d */
  initD: string;
}

const BUILTIN = new Set(['IPaddr', 'IPaddr2']);
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;

export function parseHaresources(
  text: string,
  file: string,
  nodes: string[],
  roots: ResourceRoots,
  issues: IssueList,
): ResourceGroup[] {
  const lines = splitConfigLines(text, file, issues);
  if (!lines) return [];
  const groups: ResourceGroup[] = [];
  const seenResources = new Map<string, number>();

  // Join continuation lines first, remembering where each logical line starts.
  const logical: { text: string; line: number }[] = [];
  let pending: { text: string; line: number } | null = null;
  lines.forEach((raw, i) => {
    const stripped = raw.replace(/#.*$/, '');
    const continues = /\\\s*$/.test(stripped);
    const body = stripped.replace(/\\\s*$/, ' ');
    if (pending) pending.text += ` ${body}`;
    else pending = { text: body, line: i + 1 };
    if (!continues) {
      logical.push(pending);
      pending = null;
    }
  });
  if (pending) logical.push(pending);

  for (const { text, line } of logical) {
    const words = text.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) continue;
    const [node = '', ...rest] = words;
    const known = nodes.find((n) => n.toLowerCase() === node.toLowerCase());
    if (!known) {
      issues.error(file, line, `preferred node "${node}" is not a node of ha.cf (${nodes.join(', ') || 'none defined'}) — the first word of a line must be a "node" name from ha.cf`);
      continue;
    }
    if (rest.length === 0) {
      issues.error(file, line, `resource group of "${node}" lists no resources — add resources after the node name, e.g. "${node} IPaddr::10.0.0.10"`);
      continue;
    }
    const resources: ResourceSpec[] = [];
    for (const word of rest) {
      const spec = parseResource(word, roots, file, line, issues);
      if (!spec) continue;
      const earlier = seenResources.get(spec.raw);
      if (earlier !== undefined) {
        issues.error(file, line, `resource "${spec.raw}" is already in the group on line ${earlier} — a resource can belong to one group only`);
        continue;
      }
      seenResources.set(spec.raw, line);
      resources.push(spec);
    }
    groups.push({ id: [known, ...resources.map((r) => r.raw)].join(' '), preferredNode: known, resources, file, line });
  }
  return groups;
}

function parseResource(written: string, roots: ResourceRoots, file: string, line: number, issues: IssueList): ResourceSpec | null {
  // Heartbeat's canonname: a bare address is short for IPaddr::address.
  const word = /^\d+\.\d+\.\d+\.\d+(\/.*)?$/.test(written) ? `IPaddr::${written}` : written;
  const [name = '', ...args] = word.split('::');
  if (!NAME.test(name)) {
    issues.error(file, line, `"${word.slice(0, 60)}" is not a resource name (letters, digits, _ . + -)`);
    return null;
  }
  if (BUILTIN.has(name)) {
    const arg = args[0] ?? '';
    if (!arg) {
      issues.error(file, line, `${name} needs the virtual IP — write "${name}::10.0.0.10" or "${name}::10.0.0.10/24/eth0"`);
      return null;
    }
    const vip = parseVip(arg);
    if (!vip.ok) {
      issues.error(file, line, `${word}: ${vip.error}`);
      return null;
    }
    if (args.length > 1) {
      issues.error(file, line, `${word}: ${name} takes one argument ip[/cidr[/iface[/broadcast]]]`);
      return null;
    }
    return { raw: word, name, args, agent: { kind: 'builtin', id: name as 'IPaddr' | 'IPaddr2' } };
  }
  if (isCloudIpKind(name)) {
    const c = parseCloudIp(name, args, dirname(file));
    if (!c.ok) {
      issues.error(file, line, c.error);
      return null;
    }
    // The secret is checked now, as authkeys is: a node whose token file others can read or
    // change must not start, and check-config says so before a takeover would fail.
    if (c.spec.secretFile) {
      const s = readCloudSecretSync(c.spec.secretFile, c.spec.provider);
      if (!s.ok) issues.error(file, line, `${word}: ${c.spec.provider === 'aws' ? 'credentials' : 'token'} file ${c.spec.secretFile} ${s.problem}`);
    }
    return { raw: word, name, args, agent: { kind: 'cloud', cloud: c.spec } };
  }
  const candidates: { kind: 'resource.d' | 'init.d'; path: string }[] = [
    { kind: 'resource.d', path: join(roots.resourceD, name) },
    { kind: 'init.d', path: join(roots.initD, name) },
  ];
  for (const c of candidates) {
    let isFile = false;
    try {
      isFile = statSync(c.path).isFile();
    } catch {
      continue;
    }
    if (!isFile) continue;
    try {
      accessSync(c.path, constants.X_OK);
    } catch {
      issues.error(file, line, `resource script ${c.path} is not executable — run "chmod +x ${c.path}"`);
      return null;
    }
    return { raw: word, name, args, agent: c };
  }
  const searched = candidates.map((c) => c.path);
  issues.error(file, line, `resource "${name}" not found: no executable ${searched.join(' or ')} — install the script there or fix the name`);
  return { raw: word, name, args, agent: { kind: 'missing', searched } };
}
