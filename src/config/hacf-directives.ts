// The table of ha.cf directives: for each, how its values are checked and where they go in
// the HaCf. Checks follow Heartbeat's (heartbeat/config.c); each error says what to write.
import { isIPv4 } from 'node:net';
import { parseDuration } from './duration.js';
import { canonicalHost } from './host-name.js';
import type { IssueList } from './issues.js';
import type { GivenTimers } from './hacf-defaults.js';
import { parseRespawnLine } from './respawn.js';
import type { HaCf } from './types.js';

export type Handler = (values: string[], rest: string, line: number) => void;

/** Directives Heartbeat knows that heartbeat-ts reads but does not act on (yet). */
export const NOT_ACTED_ON: Record<string, string> = {
  hopfudge: 'messages are not forwarded between media, so there are no hops to count',
  compression: 'hbd messages are small and never compressed',
  compression_threshold: 'hbd messages are small and never compressed',
  traditional_compression: 'hbd messages are small and never compressed',
  uuidfrom: 'hbd names nodes by their node name; the uuid is kept only for the wire format',
  stonith: 'write the device as "stonith_host * TYPE PARAMS..." (or "fence_agent"): a stonith configuration file is not read',
  coredumps: 'core dump settings do not apply to a Node.js process',
  coreroot: 'core dump settings do not apply to a Node.js process',
  failfast: 'hbd does not start or respawn client programs',
  apiauth: 'the Heartbeat client API is not served; the control socket is root-only',
  crm: 'heartbeat-ts manages the haresources file itself; Pacemaker (crm) is not supported',
  pacemaker: 'heartbeat-ts manages the haresources file itself; Pacemaker is not supported',
  crm_daemon_dir: 'Pacemaker is not supported',
  crmd_spawns_pengine: 'Pacemaker is not supported',
  record_config_changes: 'Pacemaker is not supported',
  record_pengine_inputs: 'Pacemaker is not supported',
  enable_config_writes: 'Pacemaker is not supported',
  conn_logd_time: 'there is no separate logging daemon',
  watchdog: 'the kernel watchdog is not driven by hbd',
  hbgenmethod: 'the generation is always kept in a file in the state directory',
  normalpoll: 'not applicable to Node.js',
  use_apphbd: 'apphbd is not supported',
  log_badpack: 'bad packets are always counted, and logged once per sender per minute',
  syslogmsgfmt: 'log files always use the syslog-like line format',
  memreserve: 'not applicable to Node.js',
  max_rexmit_delay: 'hbd does not retransmit; heartbeats are idempotent status messages',
  quorum_server: 'quorum servers are not supported yet',
  cluster: 'the cluster name is not used yet',
  env: 'hbd does not start client programs',
};

const FACILITIES = new Set([
  'auth', 'authpriv', 'cron', 'daemon', 'ftp', 'kern', 'lpr', 'mail', 'news', 'syslog', 'user', 'uucp',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7', 'none',
]);

const IFACE = /^[A-Za-z0-9_.:@-]{1,15}$/;
/** What syslog and log watchers accept in front of `[PID]:`. */
export const LOG_TAG = /^[A-Za-z0-9_.-]{1,32}$/;
const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function boolValue(v: string): boolean | null {
  const s = v.toLowerCase();
  if (['on', 'yes', 'true', 'y', '1'].includes(s)) return true;
  if (['off', 'no', 'false', 'n', '0'].includes(s)) return false;
  return null;
}

/** Where the directives of one ha.cf file put what they read, and how they report. */
export interface DirectiveTarget {
  cf: HaCf;
  raw: GivenTimers;
  file: string;
  issues: IssueList;
  /** Warns once per directive that it is understood but not acted on (why: NOT_ACTED_ON's, or this). */
  notActed: (key: string, line: number, why?: string) => void;
}

/** The handlers for one file: they keep state across lines (auto_failback beats nice_failback). */
export function directiveHandlers({ cf, raw, file, issues, notActed }: DirectiveTarget): Record<string, Handler> {
  let autoFailbackSet = false;

  const time = (key: keyof GivenTimers) => (values: string[], _rest: string, line: number) => {
    const v = one(values, line, key, 'a time such as 2, 1.5 or 500ms');
    if (v === null) return;
    const ms = parseDuration(v);
    if (ms === null) {
      issues.error(file, line, `${key} "${v}" is not a time — write seconds (2, 1.5) or milliseconds (500ms)`);
    } else if (ms <= 0) {
      issues.error(file, line, `${key} must be greater than 0 (got "${v}")`);
    } else {
      raw[key] = ms;
    }
  };

  const one = (values: string[], line: number, key: string, what: string): string | null => {
    if (values.length !== 1 || values[0] === undefined) {
      issues.error(file, line, `${key} takes exactly one value (${what}), got ${values.length}`);
      return null;
    }
    return values[0];
  };

  const iface = (name: string, line: number, key: string): boolean => {
    if (IFACE.test(name)) return true;
    issues.error(file, line, `${key}: "${name}" is not a network interface name — write e.g. "${key} eth0"`);
    return false;
  };

  return {
    node: (values, _rest, line) => {
      if (values.length === 0) issues.error(file, line, 'node needs at least one node name (as `uname -n` prints it)');
      for (const n of values) {
        if (!NODE_NAME.test(n)) {
          issues.error(file, line, `node name "${n}" is not a valid host name`);
        } else if (cf.nodes.some((x) => x.toLowerCase() === n.toLowerCase())) {
          issues.warn(file, line, `node "${n}" is listed twice — remove the repeated name`);
        } else {
          cf.nodes.push(n);
        }
      }
    },
    keepalive: time('keepalive'),
    deadtime: time('deadtime'),
    warntime: time('warntime'),
    initdead: time('initdead'),
    deadping: time('deadping'),
    udpport: (values, _rest, line) => {
      const v = one(values, line, 'udpport', 'a port number');
      if (v === null) return;
      const port = /^\d+$/.test(v) ? Number(v) : NaN;
      if (!(port >= 1 && port <= 65535)) issues.error(file, line, `udpport "${v}" is not a port number (1..65535)`);
      else cf.udpport = port;
    },
    baud: (values, _rest, line) => {
      const v = one(values, line, 'baud', 'a serial speed such as 19200');
      if (v === null) return;
      const ok = ['9600', '19200', '38400', '57600', '115200', '230400'];
      if (!ok.includes(v)) issues.error(file, line, `baud "${v}" is not a supported speed — use one of ${ok.join(', ')}`);
      else cf.baud = Number(v);
    },
    bcast: (values, _rest, line) => {
      if (values.length === 0) issues.error(file, line, 'bcast needs an interface — write e.g. "bcast eth0"');
      for (const v of values) if (iface(v, line, 'bcast')) cf.media.push({ kind: 'bcast', iface: v, line });
    },
    ucast: (values, _rest, line) => {
      // Heartbeat: "ucast IF ADDR" — one peer per line; identical files on all nodes list
      // every node, and each node skips the line that points at itself.
      if (values.length !== 2) {
        issues.error(file, line, `ucast takes an interface and one peer address — write e.g. "ucast eth0 10.0.0.2" (got ${values.length} value${values.length === 1 ? '' : 's'})`);
        return;
      }
      const [ifn, addr] = values as [string, string];
      if (!iface(ifn, line, 'ucast')) return;
      if (!isIPv4(addr) && !NODE_NAME.test(addr)) {
        issues.error(file, line, `ucast: "${addr}" is neither an IPv4 address nor a host name`);
        return;
      }
      cf.media.push({ kind: 'ucast', iface: ifn, address: addr, line });
    },
    mcast: (values, _rest, line) => {
      if (values.length !== 5) {
        issues.error(file, line, `mcast takes 5 values: interface group port ttl loop — write e.g. "mcast eth0 225.0.0.1 694 1 0" (got ${values.length})`);
        return;
      }
      const [ifn, group, portS, ttlS, loopS] = values as [string, string, string, string, string];
      if (!iface(ifn, line, 'mcast')) return;
      const first = Number(group.split('.')[0]);
      if (!isIPv4(group) || first < 224 || first > 239) {
        issues.error(file, line, `mcast: "${group}" is not a multicast group — use an address in 224.0.0.0 to 239.255.255.255`);
        return;
      }
      const port = /^\d+$/.test(portS) ? Number(portS) : NaN;
      if (!(port >= 1 && port <= 65535)) {
        issues.error(file, line, `mcast: port "${portS}" is not a port number (1..65535)`);
        return;
      }
      const ttl = /^\d+$/.test(ttlS) ? Number(ttlS) : NaN;
      if (!(ttl >= 1 && ttl <= 255)) {
        issues.error(file, line, `mcast: ttl "${ttlS}" must be 1..255`);
        return;
      }
      if (loopS !== '0' && loopS !== '1') {
        issues.error(file, line, `mcast: loop "${loopS}" must be 0 or 1`);
        return;
      }
      cf.media.push({ kind: 'mcast', iface: ifn, group, port, ttl, loop: loopS === '1', line });
    },
    serial: (values, _rest, line) => {
      if (values.length === 0) issues.error(file, line, 'serial needs a device — write e.g. "serial /dev/ttyS0"');
      for (const v of values) {
        if (!v.startsWith('/dev/')) issues.error(file, line, `serial: "${v}" is not a device path under /dev`);
        else cf.media.push({ kind: 'serial', device: v, line });
      }
    },
    auto_failback: (values, _rest, line) => {
      const v = one(values, line, 'auto_failback', 'on, off or legacy');
      if (v === null) return;
      const s = v.toLowerCase();
      if (s === 'legacy') cf.autoFailback = 'legacy';
      else {
        const b = boolValue(s);
        if (b === null) issues.error(file, line, `auto_failback "${v}" must be on, off or legacy`);
        else cf.autoFailback = b ? 'on' : 'off';
      }
      autoFailbackSet = true;
    },
    nice_failback: (values, _rest, line) => {
      // The pre-1.2 spelling: nice_failback on == auto_failback off.
      const v = one(values, line, 'nice_failback', 'on or off');
      if (v === null) return;
      const b = boolValue(v);
      if (b === null) {
        issues.error(file, line, `nice_failback "${v}" must be on or off`);
        return;
      }
      issues.warn(file, line, `nice_failback is deprecated — write "auto_failback ${b ? 'off' : 'on'}" instead`);
      if (!autoFailbackSet) cf.autoFailback = b ? 'off' : 'on';
    },
    autojoin: (values, _rest, line) => {
      const v = one(values, line, 'autojoin', 'none, other or any');
      if (v === null) return;
      const s = v.toLowerCase();
      if (s !== 'none' && s !== 'other' && s !== 'any') issues.error(file, line, `autojoin "${v}" must be none, other or any`);
      else cf.autojoin = s;
    },
    logfile: (values, _rest, line) => {
      const v = one(values, line, 'logfile', 'a file path');
      if (v !== null) cf.logfile = v;
    },
    debugfile: (values, _rest, line) => {
      const v = one(values, line, 'debugfile', 'a file path');
      if (v !== null) cf.debugfile = v;
    },
    logfacility: (values, _rest, line) => {
      const v = one(values, line, 'logfacility', 'a syslog facility such as local0 or daemon');
      if (v === null) return;
      if (!FACILITIES.has(v.toLowerCase())) issues.error(file, line, `logfacility "${v}" is not a syslog facility — use e.g. local0, daemon or none`);
      else cf.logfacility = v.toLowerCase() === 'none' ? null : v.toLowerCase();
    },
    use_logd: (values, _rest, line) => {
      const v = one(values, line, 'use_logd', 'yes or no');
      if (v === null) return;
      const b = boolValue(v);
      if (b === null) issues.error(file, line, `use_logd "${v}" must be yes or no`);
      else cf.useLogd = b;
    },
    debug: (values, _rest, line) => {
      const v = one(values, line, 'debug', 'a level 0..255');
      if (v === null) return;
      if (!/^\d+$/.test(v) || Number(v) > 255) issues.error(file, line, `debug "${v}" must be a level 0..255`);
      else cf.debug = Number(v);
    },
    hopfudge: (values, _rest, line) => {
      const v = one(values, line, 'hopfudge', 'a number');
      if (v === null) return;
      if (!/^\d+$/.test(v)) issues.error(file, line, `hopfudge "${v}" must be a number`);
      else cf.hopfudge = Number(v);
      notActed('hopfudge', line);
    },
    realtime: (values, _rest, line) => {
      const v = one(values, line, 'realtime', 'on or off');
      if (v === null) return;
      const b = boolValue(v);
      if (b === null) issues.error(file, line, `realtime "${v}" must be on or off`);
      else cf.realtime = b;
    },
    rtprio: (values, _rest, line) => {
      const v = one(values, line, 'rtprio', 'a realtime priority from 1 to 99');
      if (v === null) return;
      if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 99) issues.error(file, line, `rtprio "${v}" must be a realtime priority from 1 to 99`);
      else cf.rtprio = Number(v);
    },
    msgfmt: (values, _rest, line) => {
      const v = one(values, line, 'msgfmt', 'classic or netstring');
      if (v === null) return;
      if (v !== 'classic' && v !== 'netstring') issues.error(file, line, `msgfmt "${v}" must be classic or netstring`);
      else cf.msgfmt = v;
    },
    uuidfrom: (values, _rest, line) => {
      const v = one(values, line, 'uuidfrom', 'file or nodename');
      if (v === null) return;
      if (v !== 'file' && v !== 'nodename') issues.error(file, line, `uuidfrom "${v}" must be file or nodename`);
      else cf.uuidfrom = v;
      notActed('uuidfrom', line);
    },
    compression: (values, _rest, line) => {
      const v = one(values, line, 'compression', 'a compression module such as zlib or bz2');
      if (v !== null) cf.compression = v;
      notActed('compression', line);
    },
    coredumps: (values, _rest, line) => {
      const v = one(values, line, 'coredumps', 'true or false');
      if (v === null) return;
      const b = boolValue(v);
      if (b === null) issues.error(file, line, `coredumps "${v}" must be true or false`);
      else cf.coredumps = b;
      notActed('coredumps', line);
    },
    crm: (values, _rest, line) => {
      const v = one(values, line, 'crm', 'on, off or respawn');
      if (v === null) return;
      const s = v.toLowerCase();
      const b = boolValue(s);
      if (b === null && s !== 'respawn') {
        issues.error(file, line, `crm "${v}" must be on, off or respawn`);
        return;
      }
      cf.crm = s;
      if (b !== false) notActed('crm', line);
    },
    ping: (values, _rest, line) => {
      if (values.length === 0) issues.error(file, line, 'ping needs at least one address');
      for (const v of values) {
        if (!isIPv4(v) && !NODE_NAME.test(v)) issues.error(file, line, `ping: "${v}" is neither an IPv4 address nor a host name`);
        else cf.pingNodes.push({ kind: 'ping', name: v, addresses: [v], line });
      }
    },
    ping_group: (values, _rest, line) => {
      const [name, ...addresses] = values;
      if (!name || addresses.length === 0) {
        issues.error(file, line, 'ping_group takes a group name and at least one address — write e.g. "ping_group routers 10.0.0.1 10.0.0.2"');
        return;
      }
      cf.pingNodes.push({ kind: 'ping_group', name, addresses, line });
    },
    apiauth: (values, _rest, line) => {
      const [client, ...specs] = values;
      if (!client || specs.length === 0) {
        issues.error(file, line, 'apiauth takes a client name and uid=/gid= lists — write e.g. "apiauth mgmtd uid=root"');
        return;
      }
      const uid: string[] = [];
      const gid: string[] = [];
      for (const s of specs) {
        const m = /^(uid|gid)=(.+)$/.exec(s);
        if (!m) {
          issues.error(file, line, `apiauth: "${s}" must be uid=NAME[,NAME] or gid=NAME[,NAME]`);
          return;
        }
        (m[1] === 'uid' ? uid : gid).push(...(m[2] ?? '').split(',').filter(Boolean));
      }
      // Accepted for the programs hbd respawns; for any other client it warns (hacf.ts, once all lines are read).
      cf.apiauth.push({ client, uid, gid, line });
    },
    respawn: (_values, rest, line) => {
      const entry = parseRespawnLine(rest, file, line, issues, notActed);
      if (entry) cf.respawn.push(entry);
    },
    // heartbeat-ts extensions.
    log_tag: (values, _rest, line) => {
      const v = one(values, line, 'log_tag', 'a name such as hbd');
      if (v === null) return;
      if (!LOG_TAG.test(v)) issues.error(file, line, `log_tag "${v}" must be a name of letters, digits, "_", "." or "-" (at most 32), e.g. "log_tag hbd"`);
      else cf.ext.logTag = v;
    },
    http_listen: (values, _rest, line) => {
      const v = one(values, line, 'http_listen', 'ADDRESS:PORT such as 127.0.0.1:8694');
      if (v === null) return;
      const m = /^(.+):(\d{1,5})$/.exec(v);
      const port = m ? Number(m[2]) : NaN;
      if (!m || !(port >= 1 && port <= 65535) || !(isIPv4(m[1] ?? '') || m[1] === 'localhost')) {
        issues.error(file, line, `http_listen "${v}" must be IPV4ADDRESS:PORT, e.g. 127.0.0.1:8694`);
      } else cf.ext.httpListen = v;
    },
    http_token_file: (values, _rest, line) => {
      const v = one(values, line, 'http_token_file', 'a file path');
      if (v !== null) cf.ext.httpTokenFile = v;
    },
    http_allowed_hosts: (values, _rest, line) => {
      if (values.length === 0) issues.error(file, line, 'http_allowed_hosts needs at least one host name — write e.g. "http_allowed_hosts hbd.example.com"');
      for (const v of values) {
        const host = canonicalHost(v);
        if (host !== null) {
          if (!cf.ext.httpAllowedHosts.includes(host)) cf.ext.httpAllowedHosts.push(host);
        } else if (/^[^:[\]]+:\d+$|^\[.*\]:\d+$/.test(v)) {
          issues.error(file, line, `http_allowed_hosts: "${v}" has a port — write the name alone; the API answers to it on any port`);
        } else if (v.includes('*')) {
          issues.error(file, line, `http_allowed_hosts: "${v}": wildcards are not accepted — list each name the API is reached by`);
        } else {
          issues.error(file, line, `http_allowed_hosts: "${v}" is neither a host name nor an IP address`);
        }
      }
    },
  };
}
