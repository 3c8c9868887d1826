// The readable summary `hbctl check-config` prints for a valid configuration.
import { formatDuration } from '../config/duration.js';
import type { ClusterConfig, Medium, ResourceSpec } from '../config/types.js';

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

function describeAgent(a: ResourceSpec['agent']): string {
  switch (a.kind) {
    case 'builtin':
      return `built-in ${a.id}`;
    case 'cloud':
      return `built-in ${a.cloud.kind}${a.cloud.secretFile ? `, secret file ${a.cloud.secretFile}` : ''}`;
    case 'missing':
      return 'MISSING';
    case 'resource.d':
      return `resource.d script ${a.path}`;
    case 'init.d':
      return `init script ${a.path}`;
    case 'systemd':
      return `systemd unit ${a.unit}`;
    case 'ocf': {
      const t = a.ocf.timeouts;
      const times = t.start || t.stop || t.monitor ? `; timeouts start ${t.start ?? '-'} stop ${t.stop ?? '-'} monitor ${t.monitor ?? '-'} ms` : '';
      const params = a.ocf.params.map(([k, v]) => `${k}=${v}`).join(' ');
      return `OCF agent ${a.ocf.path}${params ? ` with ${params}` : ''}${times}`;
    }
  }
}

export function summarize(cfg: ClusterConfig, initDirs?: readonly string[]): string {
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
  if (initDirs) out.push(`Init scripts:   searched in ${initDirs.join(', ')} (after resource.d)`);
  out.push(`Resource groups (${cfg.groups.length}):${cfg.groups.length === 0 ? ' none: membership only' : ''}`);
  for (const g of cfg.groups) {
    out.push(`  preferred node ${g.preferredNode}:`);
    g.resources.forEach((r, i) => {
      const how = describeAgent(r.agent);
      const args = r.args.length ? ` args [${r.args.join(', ')}]` : '';
      out.push(`    ${i + 1}. ${r.name}${args}  (${how})`);
    });
  }
  if (ha.ext.httpListen) out.push(`HTTP API:       ${ha.ext.httpListen}`);
  out.push(`Config digest:  ${cfg.digest}`);
  return out.join('\n');
}
