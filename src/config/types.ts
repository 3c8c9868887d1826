// The one typed, validated view of ha.cf + authkeys + haresources.
// Every time is in milliseconds; every list keeps the order of the files.
import type { QuorumCf } from './quorum-types.js';
import type { ArbiterCf } from './arbiter-types.js';
import type { CloudIpSpec } from './cloud.js';

export type { CloudIpSpec } from './cloud.js';

export type AuthMethod = 'crc' | 'md5' | 'sha1' | 'sha256' | 'sha512';

export interface AuthKey {
  /** The number in front of the method in authkeys ("1 sha1 secret" -> 1). */
  index: number;
  method: AuthMethod;
  /** The secret as the file gives it, quotes removed; empty for crc. */
  secret: string;
}

export interface AuthKeys {
  /** The key selected by `auth N`: used to sign what we send. */
  active: AuthKey;
  /** Every key in the file: any of them may verify what we receive, as in Heartbeat. */
  keys: AuthKey[];
}

export type Medium =
  | { kind: 'ucast'; iface: string; address: string; line: number }
  | { kind: 'bcast'; iface: string; line: number }
  | { kind: 'mcast'; iface: string; group: string; port: number; ttl: number; loop: boolean; line: number }
  | { kind: 'serial'; device: string; line: number };

export type AutoFailback = 'on' | 'off' | 'legacy';

export interface PingNode {
  kind: 'ping' | 'ping_group';
  /** For `ping` the address itself; for `ping_group` the group's name. */
  name: string;
  addresses: string[];
  line: number;
}

export interface HaCf {
  nodes: string[];
  media: Medium[];
  keepaliveMs: number;
  deadtimeMs: number;
  warntimeMs: number;
  initdeadMs: number;
  deadpingMs: number;
  /** A quorum source, ping-node failover and fencing (hacf-quorum.ts). */
  quorum: QuorumCf;
  /** `arbiter etcd` and its settings (hacf-arbiter.ts); null without it. */
  arbiter: ArbiterCf | null;
  udpport: number;
  baud: number;
  autoFailback: AutoFailback;
  autojoin: 'none' | 'other' | 'any';
  logfile: string | null;
  debugfile: string | null;
  logfacility: string | null;
  /** `use_logd`; null when ha.cf does not say (see effectiveLogFacility). */
  useLogd: boolean | null;
  debug: number;
  hopfudge: number;
  /** `realtime on` (Heartbeat's default): hbd raises itself to SCHED_RR at start. */
  realtime: boolean;
  /** `rtprio N`: the SCHED_RR priority (1..99); null = 1, the priority Heartbeat 3.0.6 runs at. */
  rtprio: number | null;
  msgfmt: 'classic' | 'netstring';
  uuidfrom: 'file' | 'nodename';
  compression: string;
  coredumps: boolean;
  crm: string;
  pingNodes: PingNode[];
  apiauth: { client: string; uid: string[]; gid: string[]; line: number }[];
  /** `respawn USER PROGRAM ARGS`: what each asks for is sorted by config/respawn.ts (`kind`). */
  respawn: { user: string; command: string; line: number; kind: 'program' | 'ipfail' | 'api-client'; argv: string[] }[];
  stonithHosts: { raw: string; line: number }[];
  /** Extension directives of heartbeat-ts (not in Heartbeat). */
  ext: {
    /** `http_listen ADDR:PORT` — the status API/metrics/dashboard; off when null. */
    httpListen: string | null;
    /** `http_token_file PATH` — bearer token for mutating API calls. */
    httpTokenFile: string | null;
    /**
     * `http_allowed_hosts NAME...` — names (besides the listen address) the HTTP API answers
     * to in a request's Host header, in canonicalHost's spelling; any other is refused.
     */
    httpAllowedHosts: string[];
    /**
     * `log_tag NAME` — the tag of hbd's own log lines (`NAME[PID]:`); null: `heartbeat`,
     * and resource lines tagged as Heartbeat's scripts tag them.
     */
    logTag: string | null;
    /** `monitor TARGET... [interval=] [failures=] [restarts=] [window=] [keepout=]` (config/monitor.ts). */
    monitors: MonitorLine[];
  };
}

/** One `monitor` line of ha.cf; its targets are checked against haresources at load. */
export interface MonitorLine {
  /** Resources as haresources writes them, `group:RESOURCE`, or `all`. */
  targets: string[];
  intervalMs: number;
  failures: number;
  restarts: number;
  windowMs: number;
  /** null: kept out until cleared (`keepout=forever`). */
  keepOutMs: number | null;
  line: number;
}

/** One resource of a haresources line, e.g. `IPaddr::10.0.0.5/24/eth0` or `apache2`. */
export interface ResourceSpec {
  /** Exactly as written in haresources (used in logs and to compare configs). */
  raw: string;
  /** The agent name: `IPaddr`, `IPaddr2`, `apache2`, `floatip`... */
  name: string;
  /** The `::`-separated arguments, in order. */
  args: string[];
  /**
   * How it is run: a built-in agent, a script in resource.d (args then action), an init
   * script found in one of the init directories (/etc/init.d, /etc/rc.d: action only), an OCF
   * agent (Heartbeat's classic name mapped onto it, or named directly), or a systemd unit.
   */
  agent:
    | { kind: 'builtin'; id: 'IPaddr' | 'IPaddr2' | 'IPv6addr' }
    | { kind: 'cloud'; cloud: CloudIpSpec }
    | { kind: 'resource.d'; path: string }
    | { kind: 'init.d'; path: string }
    | { kind: 'ocf'; ocf: OcfAgentSpec }
    | { kind: 'systemd'; unit: string }
    | { kind: 'missing'; searched: string[] };
}

/** An OCF resource agent with its parameters, as the agents layer runs it. */
export interface OcfAgentSpec {
  /** `heartbeat` for every classic name; whatever `ocf:PROVIDER:TYPE` says otherwise. */
  provider: string;
  type: string;
  /** The executable: OCF_ROOT/resource.d/PROVIDER/TYPE. */
  path: string;
  /** OCF_ROOT exported to the agent (default /usr/lib/ocf). */
  root: string;
  /** OCF_RESKEY_<name>=<value>, in the order written. */
  params: [string, string][];
  /** OCF_RESOURCE_INSTANCE: named as Heartbeat's wrapper names it (e.g. Filesystem_/dev/sda1). */
  instance: string;
  /** How the line named it: a classic resource.d name, `ocf:...`, or `OCF::type::instance`. */
  form: 'classic' | 'direct' | 'instance-file';
  /** The agent's own timeouts from its meta-data (ms), when it could be read. */
  timeouts: { start?: number; stop?: number; monitor?: number };
}

/** The parsed shape of an IPaddr/IPaddr2 argument `ip[/cidr[/iface[/broadcast]]]`. */
export interface VipSpec {
  ip: string;
  /** 4 for IPv4 (IPaddr, IPaddr2), 6 for IPv6 (IPv6addr, IPaddr2). */
  family: 4 | 6;
  /** null when not given: taken from the interface whose subnet holds the VIP. */
  cidr: number | null;
  iface: string | null;
  broadcast: string | null;
  /**
   * The Arch wiki seed writes `IPaddr::VIP/GATEWAY`: a dotted second part that is not a
   * netmask names an address on the subnet the VIP belongs to; it picks the interface.
   */
  gateway: string | null;
}

export interface ResourceGroup {
  /** A stable id: the preferred node and the resources, as written. */
  id: string;
  preferredNode: string;
  resources: ResourceSpec[];
  file: string;
  line: number;
}

export interface ClusterConfig {
  dir: string;
  ha: HaCf;
  auth: AuthKeys;
  groups: ResourceGroup[];
  /** sha256 over a normalised form of the three files; equal configs, equal digests. */
  digest: string;
  /** Digests of each part, so a drift report can name the part that differs. */
  partDigests: ConfigParts;
}

/** The digests of ha.cf, authkeys and haresources, each on its own (see digest.ts). */
export interface ConfigParts {
  hacf: string;
  authkeys: string;
  haresources: string;
}

export interface ConfigIssue {
  /** info: worth a line in the log, nothing to fix (an empty haresources, say). */
  severity: 'error' | 'warning' | 'info';
  file: string;
  /** 1-based; 0 when the issue is about the file as a whole. */
  line: number;
  message: string;
}
