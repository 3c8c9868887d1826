// The config digest: equal cluster-relevant settings give equal digests, whatever the
// comments, spacing or line order within a directive. Peers advertise it so drift shows.
import { createHash } from 'node:crypto';
import type { AuthKeys, HaCf, ResourceGroup } from './types.js';

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

export function combineDigests(parts: { hacf: string; authkeys: string; haresources: string }): string {
  return sha256(`${parts.hacf}\n${parts.authkeys}\n${parts.haresources}\n`);
}
