// What a reload (SIGHUP) changes outside the core, and what cannot change in a running hbd:
// computed from the running and the new configuration alone. The core's part (timers,
// auto_failback, resource groups, the node list) is core/reload.ts; the daemon applies both
// or neither (daemon.ts, reload).
import { ipfailOn } from '../config/hacf-quorum.js';
import type { ClusterConfig, HaCf } from '../config/types.js';
import type { LinkChange } from './links.js';

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const shown = (v: unknown): string => (v === null || v === undefined || v === '' ? '(none)' : Array.isArray(v) ? v.join(' ') || '(none)' : String(v));

/** What hbd sets up once, at its start: each changes only with a restart. */
const AT_START: { what: string; why: string; fields: (ha: HaCf) => Record<string, unknown> }[] = [
  {
    what: 'logging',
    why: 'hbd opens its log file, debug file and syslog at start',
    fields: (ha) => ({ logfile: ha.logfile, debugfile: ha.debugfile, logfacility: ha.logfacility, use_logd: ha.useLogd, debug: ha.debug }),
  },
  { what: 'the HTTP API', why: 'hbd sets it up at start', fields: (ha) => ({ http_listen: ha.ext.httpListen, http_token_file: ha.ext.httpTokenFile, http_allowed_hosts: ha.ext.httpAllowedHosts }) },
  { what: 'the scheduling class', why: 'hbd sets it at start', fields: (ha) => ({ realtime: ha.realtime, rtprio: ha.rtprio }) },
  {
    // Saying "changed" while still pinging the old addresses, or fencing with the old device,
    // would be worse than refusing: the operator would trust a failover rule that is not in force.
    what: 'ping nodes and fencing',
    why: "hbd starts its ping processes and fence devices, and the core's view of the ping nodes, at start",
    fields: (ha) => ({
      ping: ha.pingNodes.map((p) => (p.kind === 'ping' ? p.name : `${p.name}(${p.addresses.join(' ')})`)),
      // deadping follows deadtime unless set, and means nothing without ping nodes.
      deadping: ha.pingNodes.length > 0 ? `${ha.deadpingMs} ms` : null,
      ipfail: ipfailOn(ha) ? 'on' : 'off',
      stonith_host: ha.quorum.stonith.map((d) => [d.from, d.type, ...d.params].join(' ')),
      fence_agent: ha.quorum.fenceAgents.map((f) => [f.target, f.agent, ...f.args.map(([k, v]) => `${k}=${v}`)].join(' ')),
      fence_timeout: `${ha.quorum.fenceTimeoutMs} ms`,
    }),
  },
];

/** ha.cf settings that only status commands read (cl_status hbparameter): applied by replacing the config. */
const SHOWN_ONLY: [keyof HaCf, string][] = [
  ['autojoin', 'autojoin'],
  ['hopfudge', 'hopfudge'],
  ['uuidfrom', 'uuidfrom'],
  ['compression', 'compression'],
  ['coredumps', 'coredumps'],
  ['crm', 'crm'],
  ['apiauth', 'apiauth'],
  ['respawn', 'respawn'],
];

/**
 * Why the shell cannot apply `next` live, one sentence each; empty when it can. `logTagFixed`:
 * hbd was started with --log-tag, which beats ha.cf's log_tag.
 */
export function shellRefusals(current: ClusterConfig, next: ClusterConfig, links: LinkChange, logTagFixed: boolean): string[] {
  const out: string[] = [];
  for (const part of AT_START) {
    const [a, b] = [part.fields(current.ha), part.fields(next.ha)];
    const changed = Object.keys(a).filter((k) => !same(a[k], b[k]));
    if (changed.length > 0) out.push(`${part.what} changed (${changed.map((k) => `${k} ${shown(a[k])} -> ${shown(b[k])}`).join(', ')}): ${part.why}; restart hbd to apply it`);
  }
  if (!logTagFixed && current.ha.ext.logTag !== next.ha.ext.logTag) out.push(`log_tag changed (${shown(current.ha.ext.logTag)} -> ${shown(next.ha.ext.logTag)}): hbd tags its log lines as it started; restart hbd to apply it`);
  if (links.kept.length === 0 && links.removed.length > 0) {
    out.push(
      `no heartbeat medium would stay as it is (${links.removed.map((l) => l.key).join('; ')} -> ${links.added.map((l) => l.key).join('; ') || 'none'}): ` +
        'until every node has reloaded, the nodes could not hear each other, and after deadtime each would take over the resource groups of the others. ' +
        'Change media in two reloads (add the new medium and reload every node, then remove the old one), or restart hbd on every node',
    );
  }
  return out;
}

/** The lines that say what the shell applies, in Heartbeat's words ("reload: medium bcast eth1 added"). */
export function shellChanges(current: ClusterConfig, next: ClusterConfig, links: LinkChange): string[] {
  const out: string[] = [];
  for (const l of links.removed) out.push(`reload: medium ${l.key} removed`);
  for (const l of links.added) out.push(`reload: medium ${l.key} added`);
  if (current.partDigests.authkeys !== next.partDigests.authkeys) {
    const a = next.auth.active;
    out.push(`reload: authkeys re-read: signing with key ${a.index} (${a.method}); accepting keys ${next.auth.keys.map((k) => k.index).join(', ')}`);
  }
  if (current.ha.msgfmt !== next.ha.msgfmt) out.push(`reload: msgfmt ${current.ha.msgfmt} -> ${next.ha.msgfmt}`);
  for (const [field, name] of SHOWN_ONLY) {
    const strip = (v: unknown) => JSON.parse(JSON.stringify(v ?? null), (k, x: unknown) => (k === 'line' ? undefined : x)) as unknown;
    if (!same(strip(current.ha[field]), strip(next.ha[field]))) out.push(`reload: ${name} changed`);
  }
  return out;
}
