// The config digest: equal cluster-relevant settings give equal digests, whatever the
// comments, spacing or line order within a directive. Peers advertise it so drift shows.
import { createHash } from 'node:crypto';
import type { AuthKeys, ConfigParts, HaCf, ResourceGroup } from './types.js';

export type { ConfigParts } from './types.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export function digestHaCf(ha: HaCf): string {
  // ucast peer addresses are left out on purpose: the Arch wiki seed's style gives each node
  // an ha.cf that lists only the other node, and that is a correct cluster.
  const media = ha.media
    .map((m) => (m.kind === 'mcast' ? `mcast ${m.iface} ${m.group} ${m.port} ${m.ttl} ${m.loop ? 1 : 0}` : m.kind === 'serial' ? `serial ${m.device}` : `${m.kind} ${m.iface}`))
    .sort();
  return sha256(
    JSON.stringify({
      nodes: [...ha.nodes].map((n) => n.toLowerCase()).sort(),
      media: [...new Set(media)],
      keepalive: ha.keepaliveMs,
      deadtime: ha.deadtimeMs,
      warntime: ha.warntimeMs,
      initdead: ha.initdeadMs,
      udpport: ha.udpport,
      baud: ha.baud,
      autoFailback: ha.autoFailback,
      autojoin: ha.autojoin,
      // Only when present: a file without them keeps the digest it always had (and peers agree).
      ...(ha.ext.monitors.length > 0 ? { monitors: ha.ext.monitors.map(({ line: _line, ...m }) => m) } : {}),
    }),
  );
}

export function digestAuthkeys(auth: AuthKeys): string {
  const keys = [...auth.keys]
    .sort((a, b) => a.index - b.index)
    .map((k) => `${k.index} ${k.method} ${sha256(k.secret)}`);
  return sha256(JSON.stringify({ active: auth.active.index, keys }));
}

export function digestHaresources(groups: ResourceGroup[]): string {
  return sha256(JSON.stringify(groups.map((g) => [g.preferredNode.toLowerCase(), ...g.resources.map((r) => r.raw)])));
}

export function combineDigests(parts: ConfigParts): string {
  return sha256(`${parts.hacf}\n${parts.authkeys}\n${parts.haresources}\n`);
}

// Peers advertise their part digests on every heartbeat (hts_cfgp) so a drift report can name
// the file that differs; these carry them and compare them.

const PART_KEYS: [keyof ConfigParts, string][] = [
  ['hacf', 'h'],
  ['authkeys', 'a'],
  ['haresources', 'r'],
];
/** 64 bits of each digest: enough to tell two configs apart, short enough for every heartbeat. */
const PART_HEX = 16;

export function encodeParts(p: ConfigParts): string {
  return PART_KEYS.map(([k, c]) => `${c}:${p[k].slice(0, PART_HEX)}`).join(',');
}

/** Every heartbeat carries the same parts until a reload: read each text once (a few peers, a few reloads). */
const partsRead = new Map<string, ConfigParts | null>();

export function decodeParts(text: string | undefined): ConfigParts | null {
  if (!text) return null;
  const known = partsRead.get(text);
  if (known !== undefined) return known === null ? null : { ...known };
  if (partsRead.size >= 32) partsRead.clear(); // a peer sending ever new texts: start afresh
  const parts = readParts(text);
  partsRead.set(text, parts);
  return parts === null ? null : { ...parts };
}

function readParts(text: string): ConfigParts | null {
  const out: Partial<ConfigParts> = {};
  for (const item of text.split(',')) {
    const [c, hex] = item.split(':');
    const key = PART_KEYS.find(([, ch]) => ch === c)?.[0];
    if (key && hex && /^[0-9a-f]{1,64}$/.test(hex)) out[key] = hex;
  }
  return out.hacf && out.authkeys && out.haresources ? (out as ConfigParts) : null;
}

/** Which files differ between two configs' part digests ('ha.cf', 'authkeys', 'haresources'). */
export function differingParts(ours: ConfigParts, theirs: ConfigParts): string[] {
  const names: Record<keyof ConfigParts, string> = { hacf: 'ha.cf', authkeys: 'authkeys', haresources: 'haresources' };
  return PART_KEYS.filter(([k]) => ours[k].slice(0, PART_HEX) !== theirs[k].slice(0, PART_HEX)).map(([k]) => names[k]);
}
