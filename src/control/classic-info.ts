// What cl_status asks Heartbeat's API for besides the status snapshot: ha.cf parameters by
// Heartbeat's names (hbparameter), the ping nodes (listnodes -p, nodetype) and this node's
// own links (the snapshot only has links to peers). Pure: from the config alone.
import type { HaCf, Medium } from '../config/types.js';

/** The Heartbeat release whose API and commands hbd mimics. */
export const HEARTBEAT_VERSION = '3.0.6';

export interface ClassicInfo {
  /** Heartbeat parameter name -> value as Heartbeat's get_parameter gives it. */
  parameters: Record<string, string>;
  pingNodes: string[];
  /** Link names of this node, one per medium interface/device, in ha.cf order. */
  localLinks: string[];
  keepaliveMs: number;
  deadtimeMs: number;
}

// Heartbeat hands back timers as ha.cf spells them; whole seconds are the usual spelling.
function seconds(ms: number): string {
  return ms % 1000 === 0 ? String(ms / 1000) : `${ms}ms`;
}

function linkName(m: Medium): string {
  return m.kind === 'serial' ? m.device : m.iface;
}

export function classicInfo(ha: HaCf, version: string): ClassicInfo {
  const p: Record<string, string> = {
    hbversion: `${HEARTBEAT_VERSION} (heartbeat-ts ${version})`,
    keepalive: seconds(ha.keepaliveMs),
    deadtime: seconds(ha.deadtimeMs),
    warntime: seconds(ha.warntimeMs),
    initdead: seconds(ha.initdeadMs),
    // Heartbeat stores a derived deadping in milliseconds, e.g. "30000ms".
    deadping: `${ha.deadpingMs}ms`,
    udpport: String(ha.udpport),
    baud: String(ha.baud),
    auto_failback: ha.autoFailback,
    autojoin: ha.autojoin,
    debug: String(ha.debug),
    hopfudge: String(ha.hopfudge),
    realtime: String(ha.realtime),
    msgfmt: ha.msgfmt,
    uuidfrom: ha.uuidfrom,
    compression: ha.compression,
    traditional_compression: 'no',
    coredumps: String(ha.coredumps),
    conn_logd_time: '60',
    max_rexmit_delay: '250',
    // Unset, Heartbeat reports "false"; our parser fills in "off", so that is read as unset.
    crm: ha.crm === 'off' ? 'false' : ha.crm,
    pacemaker: ha.crm === 'off' ? 'false' : ha.crm,
  };
  if (ha.logfile !== null) p.logfile = ha.logfile;
  if (ha.debugfile !== null) p.debugfile = ha.debugfile;
  if (ha.logfacility !== null) p.logfacility = ha.logfacility;
  if (ha.rtprio !== null) p.rtprio = String(ha.rtprio);
  if (ha.useLogd) p.use_logd = 'yes';
  return {
    parameters: p,
    pingNodes: ha.pingNodes.filter((n) => n.kind === 'ping').map((n) => n.name),
    localLinks: [...new Set(ha.media.map(linkName))],
    keepaliveMs: ha.keepaliveMs,
    deadtimeMs: ha.deadtimeMs,
  };
}
