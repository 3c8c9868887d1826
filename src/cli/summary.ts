// The readable summary `hbctl check-config` prints for a valid configuration.
import { formatDuration } from '../config/duration.js';
import type { ClusterConfig, Medium } from '../config/types.js';

function describeMedium(m: Medium, port: number): string {
  switch (m.kind) {
    case 'ucast':
      return `ucast  ${m.iface} -> ${m.address}:${port}`;
    case 'bcast':
      return `bcast  ${m.iface} (broadcast address of ${m.iface}):${port}`;
    case 'mcast':
      return `mcast  ${m.iface} group ${m.group}:${m.port} ttl ${m.ttl} loop ${m.loop ? 'on' : 'off'}`;
    case 'serial':
      return `serial ${m.device}`;
  }
}

export function summarize(cfg: ClusterConfig): string {
  const { ha } = cfg;
  const out: string[] = [];
  out.push(`Configuration in ${cfg.dir} is valid.`);
  out.push('');
  out.push(`Nodes:          ${ha.nodes.join(', ')}`);
  out.push('Media:');
  for (const m of ha.media) out.push(`  ${describeMedium(m, ha.udpport)}${m.kind === 'serial' ? ` at ${ha.baud} baud` : ''}`);
  out.push(
    `Timers:         keepalive ${formatDuration(ha.keepaliveMs)}, warntime ${formatDuration(ha.warntimeMs)}, deadtime ${formatDuration(ha.deadtimeMs)}, initdead ${formatDuration(ha.initdeadMs)}`,
  );
  out.push(`UDP port:       ${ha.udpport}`);
  out.push(`auto_failback:  ${ha.autoFailback}`);
  out.push(`Signing:        key ${cfg.auth.active.index} (${cfg.auth.active.method}); ${cfg.auth.keys.length} key(s) accepted`);
  out.push(`Resource groups (${cfg.groups.length}):`);
  for (const g of cfg.groups) {
    out.push(`  preferred node ${g.preferredNode}:`);
    g.resources.forEach((r, i) => {
      const how =
        r.agent.kind === 'builtin' ? `built-in ${r.agent.id}` : r.agent.kind === 'cloud' ? `built-in ${r.agent.cloud.kind}${r.agent.cloud.secretFile ? `, secret file ${r.agent.cloud.secretFile}` : ''}` : r.agent.kind === 'missing' ? 'MISSING' : r.agent.path;
      const args = r.args.length ? ` args [${r.args.join(', ')}]` : '';
      out.push(`    ${i + 1}. ${r.name}${args}  (${how})`);
    });
  }
  if (ha.ext.httpListen) out.push(`HTTP API:       ${ha.ext.httpListen}`);
  out.push(`Config digest:  ${cfg.digest}`);
  return out.join('\n');
}
