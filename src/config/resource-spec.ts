// What one resource word of haresources names, looked up as Heartbeat's ResourceManager
// looked it up and extended where Heartbeat relied on files a heartbeat-ts host lacks:
//   1. a bare IPv4 address is short for IPaddr::address (Heartbeat's canonname);
//   2. `ocf:PROVIDER:TYPE::name=value...` is an OCF agent, `systemd:UNIT` a systemd unit;
//   3. IPaddr, IPaddr2, IPv6addr and the cloud IP agents (cloud.ts) are built in;
//   4. a script of that name in resource.d (the user's own wins over everything below);
//   5. `OCF::type::instance` and Heartbeat's other resource.d names run the OCF agents of
//      resource-agents directly (ocf-names.ts, ocf-spec.ts);
//   6. an init script in the init directories, in order (/etc/init.d, then /etc/rc.d).
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isIPv6 } from 'node:net';
import { isCloudIpKind, parseCloudIp, type CloudIpKind } from './cloud.js';
import { readCloudSecretSync } from './cloud-secret.js';
import type { IssueList } from './issues.js';
import { CLASSIC_NAMES } from './ocf-names.js';
import { classicOcf, directOcf, instanceFileOcf, type OcfParse, type OcfRoots } from './ocf-spec.js';
import { parseVip } from './vip.js';
import type { ResourceSpec } from './types.js';

export interface ResourceRoots {
  /** Heartbeat's /etc/ha.d/resource.d */
  resourceD: string;
  /** Init script directories, searched in this order: /etc/init.d, /etc/rc.d (Arch). */
  initDirs: string[];
  /** OCF agents, their meta-data and `OCF::` instance files. */
  ocf: OcfRoots;
}

const BUILTIN = new Set(['IPaddr', 'IPaddr2', 'IPv6addr']);
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;
/** systemd's unit name characters (never a leading "-": it would read as an option); a name without a type suffix is a .service. */
const UNIT = /^[A-Za-z0-9:_.\\@][A-Za-z0-9:_.\\@-]{0,254}$/;
const UNIT_TYPES = /\.(service|socket|target|mount|timer|path|swap|slice|scope|device|automount)$/;

export function parseResource(written: string, roots: ResourceRoots, file: string, line: number, issues: IssueList): ResourceSpec | null {
  // Heartbeat's canonname: a bare address is short for IPaddr::address.
  const word = /^\d+\.\d+\.\d+\.\d+(\/.*)?$/.test(written) ? `IPaddr::${written}` : written;
  if (word.startsWith('ocf:')) return ocf(word, word, [], directOcf(word, roots.ocf), file, line, issues);
  if (word.startsWith('systemd:')) return systemd(word, file, line, issues);
  const [name = '', ...args] = word.split('::');
  if (!NAME.test(name)) {
    const v6 = isIPv6(word.split('/')[0] ?? '') ? ` — an IPv6 address is written IPv6addr::${word} or IPaddr2::${word}` : '';
    issues.error(file, line, `"${word.slice(0, 60)}" is not a resource name (letters, digits, _ . + -)${v6}`);
    return null;
  }
  if (BUILTIN.has(name)) return builtin(word, name as 'IPaddr' | 'IPaddr2' | 'IPv6addr', args, file, line, issues);
  if (isCloudIpKind(name)) return cloud(word, name, args, file, line, issues);
  const script = findScript(roots.resourceD, name, 'resource.d', file, line, issues);
  if (script !== undefined) return script && { raw: word, name, args, agent: script };
  if (name === 'OCF') return ocf(word, name, args, instanceFileOcf(args, roots.ocf), file, line, issues);
  if (CLASSIC_NAMES[name]) return ocf(word, name, args, classicOcf(name, args, roots.ocf), file, line, issues);
  for (const dir of roots.initDirs) {
    const found = findScript(dir, name, 'init.d', file, line, issues);
    if (found !== undefined) return found && { raw: word, name, args, agent: found };
  }
  const searched = [roots.resourceD, ...roots.initDirs].map((d) => join(d, name));
  issues.error(file, line, `resource "${name}" not found: no executable ${searched.join(' or ')} — install the script there, name a systemd unit as systemd:${name}, or fix the name`);
  return { raw: word, name, args, agent: { kind: 'missing', searched } };
}

function builtin(word: string, name: 'IPaddr' | 'IPaddr2' | 'IPv6addr', args: string[], file: string, line: number, issues: IssueList): ResourceSpec | null {
  // One argument: an IPv6 address's own `::` are part of it, not separators.
  const arg = args.join('::');
  if (!arg) {
    const example = name === 'IPv6addr' ? '2001:db8::10/64/eth0' : '10.0.0.10/24/eth0';
    issues.error(file, line, `${name} needs the virtual IP — write "${name}::${example}"`);
    return null;
  }
  const vip = parseVip(arg, name === 'IPaddr' ? [4] : name === 'IPv6addr' ? [6] : [4, 6]);
  if (!vip.ok) {
    const hint = name === 'IPaddr' && isIPv6(arg.split('/')[0] ?? '') ? ` — for an IPv6 address use IPv6addr::${arg} or IPaddr2::${arg}` : '';
    issues.error(file, line, `${word}: ${vip.error}${hint}`);
    return null;
  }
  return { raw: word, name, args: [arg], agent: { kind: 'builtin', id: name } };
}

function cloud(word: string, name: CloudIpKind, args: string[], file: string, line: number, issues: IssueList): ResourceSpec | null {
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

function ocf(word: string, name: string, args: string[], r: OcfParse, file: string, line: number, issues: IssueList): ResourceSpec | null {
  if (!r.ok) {
    issues.error(file, line, `${word.slice(0, 120)}: ${r.error}`);
    return null;
  }
  for (const w of r.warnings) issues.warn(file, line, `${word.slice(0, 120)}: ${w}`);
  return { raw: word, name, args, agent: { kind: 'ocf', ocf: r.spec } };
}

function systemd(word: string, file: string, line: number, issues: IssueList): ResourceSpec | null {
  const given = word.slice('systemd:'.length);
  if (!UNIT.test(given) || given.includes('::')) {
    issues.error(file, line, `"${word.slice(0, 60)}" is not a systemd unit — write systemd:NAME or systemd:NAME.service (no arguments)`);
    return null;
  }
  const unit = UNIT_TYPES.test(given) ? given : `${given}.service`;
  return { raw: word, name: 'systemd', args: [unit], agent: { kind: 'systemd', unit } };
}

/**
 * The script `dir/name`: undefined when there is none, null when there is one we cannot run
 * (the error is reported), else the agent.
 */
function findScript<K extends 'resource.d' | 'init.d'>(dir: string, name: string, kind: K, file: string, line: number, issues: IssueList): { kind: K; path: string } | null | undefined {
  const path = join(dir, name);
  try {
    if (!statSync(path).isFile()) return undefined;
  } catch {
    return undefined;
  }
  try {
    accessSync(path, constants.X_OK);
  } catch {
    issues.error(file, line, `resource script ${path} is not executable — run "chmod +x ${path}"`);
    return null;
  }
  return { kind, path };
}
