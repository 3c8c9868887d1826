// The three systems under test, each set up the way its users set it up, on the same hosts,
// with the same virtual IP and timers:
//
//   hbd         heartbeat-ts (this repository): ha.cf + authkeys + haresources, IPaddr built in
//   heartbeat   Debian's Heartbeat 3.0.6: the same three files, its own IPaddr resource script
//               (resource-agents' OCF IPaddr, ifconfig + send_arp), in a private mount and UTS
//               namespace so it has its own /etc/ha.d, /var/lib/heartbeat, /run, /var/log and
//               `uname -n` == node name
//   keepalived  Debian's keepalived 2.2.7, VRRPv3, one vrrp_instance holding the VIP; the
//               preferred node has the higher priority (preemption on: its auto_failback)
import type { ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLive } from '../../src/lib/proc-stat.js';
import { pollUntil } from '../../src/lib/wait.js';
import { REPO } from './report.js';
import { commandLine, describePid, killTree, mono, parentOf, processTree } from './proc.js';
import { collectLines, type Line, type Testbed } from './testbed.js';
import { pacemakerByKey } from './pacemaker.js';

export interface Timers {
  keepaliveMs: number;
  deadtimeMs: number;
  /** Late-heartbeat warning threshold (default deadtime / 2). */
  warntimeMs?: number;
  initdeadMs?: number;
}

export interface ClusterSpec {
  /** Server hosts in preference order: nodes[0] owns the VIP. */
  nodes: string[];
  timers: Timers;
  /** Extra haresources lines (hbd and heartbeat only). */
  extraHaresources?: string[];
  /** Extra ha.cf lines (hbd only). */
  extraHaCf?: string[];
  /** Extra files for each node's resource.d: name -> script text. */
  resourceScripts?: Record<string, string>;
  /** Command prefix for the daemon (e.g. chrt/nice), hbd only. */
  prefix?: string[];
  /** Heartbeat media: one ucast line per node (default) or bcast on eth0. */
  media?: 'ucast' | 'bcast';
}

export interface Running {
  node: string;
  child: ChildProcess;
  pid: number;
  startedAt: number;
  /** Output lines (and, for Heartbeat, its log file's lines) with their arrival time. */
  lines: Line[];
  dir: string;
  stopLog?: () => void;
  /**
   * The daemon's mount namespace (`ip netns exec` makes one per call; Heartbeat's `unshare`
   * another): every process of this daemon instance shares it, even one that left the
   * process tree (Heartbeat re-executing itself). Learnt once the daemon runs.
   */
  mntNs?: string;
}

export interface System {
  key: string;
  label: string;
  /** The silence after which the standby acts: deadtime, or VRRP's master-down interval. */
  detectionMs(t: Timers): number;
  /** One line on how its timers were set, for the report. */
  timerNote(t: Timers): string;
  prepare(tb: Testbed, spec: ClusterSpec): Promise<void>;
  start(tb: Testbed, node: string): Running;
  /** A line the survivor prints when it has declared the owner dead / becomes master. */
  deadPattern(owner: string): RegExp;
  /** The survivor's line when the returning owner is heard again (default: `Link OWNER:IF up`). */
  rejoinPattern?(owner: string): RegExp;
  /** The survivor's line when it has decided to take the group over (Pacemaker: its scheduler's plan). */
  decidedPattern?: RegExp;
  /** Lines that mean a node was wrongly declared dead / a VRRP instance wrongly took over. */
  falseAlarm(line: string, node: string): boolean;
  /** What the running daemon says its effective settings are, for the report (optional). */
  settings?(r: Running): Promise<string>;
  /** The command line of the daemon's main process: what `kill -9 $(pidof ...)` would hit. */
  mainProcess: RegExp;
}

export const HBD_JS = join(REPO, 'dist', 'src', 'cli', 'hbd.js');
const AUTH_SECRET = 'bench-shared-secret';

function fmtTime(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}` : `${ms}ms`;
}

function haCf(tb: Testbed, spec: ClusterSpec, logfile: string, extra: string[] = []): string {
  const t = spec.timers;
  const warn = t.warntimeMs ?? Math.floor(t.deadtimeMs / 2);
  const initdead = t.initdeadMs ?? 2 * t.deadtimeMs;
  return [
    '# written by bench/lib/systems.ts',
    `logfile ${logfile}`,
    'logfacility none',
    `keepalive ${fmtTime(t.keepaliveMs)}`,
    `warntime ${fmtTime(warn)}`,
    `deadtime ${fmtTime(t.deadtimeMs)}`,
    `initdead ${fmtTime(initdead)}`,
    'udpport 694',
    ...(spec.media === 'bcast' ? ['bcast eth0'] : spec.nodes.map((n) => `ucast eth0 ${tb.lan.host(n).address}`)),
    'auto_failback on',
    ...spec.nodes.map((n) => `node ${n}`),
    'crm no',
    ...extra,
    '',
  ].join('\n');
}

function haresources(tb: Testbed, spec: ClusterSpec): string {
  return [`${spec.nodes[0]} IPaddr::${tb.vip}/${tb.prefix}/eth0`, ...(spec.extraHaresources ?? []), ''].join('\n');
}

function finishStart(tb: Testbed, node: string, child: ChildProcess, dir: string): Running {
  if (!child.pid) throw new Error(`could not start the daemon on ${node}`);
  const r: Running = { node, child, pid: child.pid, startedAt: mono(), lines: [], dir };
  collectLines(child, r.lines);
  void tb;
  return r;
}

// ---------------------------------------------------------------- heartbeat-ts

export interface HbdVariant {
  label?: string;
  key?: string;
  /** Runs hbd under these commands (e.g. chrt, nice). */
  prefix?: string[];
  httpListen?: string;
  extraHaCf?: string[];
  /** Another build of hbd (an older commit, to compare a change side by side in one run). */
  hbdJs?: string;
  /** More arguments for hbd. */
  args?: string[];
  /** Options for node itself, before hbd.js (V8 experiments). */
  nodeArgs?: string[];
  /** More environment for hbd (NOTIFY_SOCKET: as under systemd's Type=notify). */
  env?: Record<string, string>;
}

/** heartbeat-ts as benchmarked: as configured by default, and the scheduling experiments. */
export const HBD_VARIANTS: Record<string, HbdVariant & { key: string; label: string }> = {
  hbd: { key: 'hbd', label: 'heartbeat-ts' },
  'hbd-nort': { key: 'hbd-nort', label: 'heartbeat-ts, realtime off', extraHaCf: ['realtime off'] },
  'hbd-rt': { key: 'hbd-rt', label: 'heartbeat-ts (unit: rr 10, nice -10)', prefix: ['chrt', '-r', '10', 'nice', '-n', '-10'] },
  'hbd-rt-rof': { key: 'hbd-rt-rof', label: 'heartbeat-ts (unit: rr 10, nice -10, reset on fork)', prefix: ['chrt', '--reset-on-fork', '-r', '10', 'nice', '-n', '-10'] },
  // The build of another checkout, named by HBD_BASELINE (its root, built with `npm run build`).
  'hbd-baseline': { key: 'hbd-baseline', label: 'heartbeat-ts (baseline build)', hbdJs: join(process.env.HBD_BASELINE ?? REPO, 'dist', 'src', 'cli', 'hbd.js') },
  // Issue 19's experiment: V8's garbage collector on the main thread alone (no wake-ups of its helper threads).
  'hbd-stgc': { key: 'hbd-stgc', label: 'heartbeat-ts, --single-threaded-gc', nodeArgs: ['--single-threaded-gc'] },
  // Issue 19, second cut (tried, not kept: bench/RESULTS.md): no V8 background threads at all (no
  // futex wake-ups to hand them work), and an earlier tier-up (a daemon that runs 10 times a
  // second spends minutes in unoptimised code).
  'hbd-st': { key: 'hbd-st', label: 'heartbeat-ts, --single-threaded', nodeArgs: ['--single-threaded'] },
  'hbd-ib': { key: 'hbd-ib', label: 'heartbeat-ts, --interrupt-budget=16384', nodeArgs: ['--interrupt-budget=16384'] },
  'hbd-ib4': { key: 'hbd-ib4', label: 'heartbeat-ts, --interrupt-budget=4096', nodeArgs: ['--interrupt-budget=4096'] },
  'hbd-st-ib': { key: 'hbd-st-ib', label: 'heartbeat-ts, --single-threaded --interrupt-budget=16384', nodeArgs: ['--single-threaded', '--interrupt-budget=16384'] },
  // As under systemd (Type=notify, the package's unit): hbd keeps a STATUS= line for systemctl.
  // No manager listens here; what differs is the work hbd does to keep the line current.
  'hbd-notify': { key: 'hbd-notify', label: 'heartbeat-ts, NOTIFY_SOCKET set (as under systemd)', env: { NOTIFY_SOCKET: '/run/hbd-bench-no-manager' } },
  'hbd-baseline-notify': { key: 'hbd-baseline-notify', label: 'heartbeat-ts (baseline build), NOTIFY_SOCKET set', hbdJs: join(process.env.HBD_BASELINE ?? REPO, 'dist', 'src', 'cli', 'hbd.js'), env: { NOTIFY_SOCKET: '/run/hbd-bench-no-manager' } },
};

export function hbd(variant: HbdVariant = {}): System {
  let spec: ClusterSpec | null = null;
  return {
    key: variant.key ?? 'hbd',
    label: variant.label ?? 'heartbeat-ts',
    detectionMs: (t) => t.deadtimeMs,
    timerNote: (t) => `keepalive ${t.keepaliveMs} ms, deadtime ${t.deadtimeMs} ms`,
    async prepare(tb, s) {
      spec = s;
      for (const n of s.nodes) {
        const dir = join(tb.dir, 'hbd', n);
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(join(dir, 'ha.d', 'resource.d'), { recursive: true });
        mkdirSync(join(dir, 'state'), { recursive: true });
        writeFileSync(join(dir, 'ha.d', 'ha.cf'), haCf(tb, s, join(dir, 'ha-log'), [...(s.extraHaCf ?? []), ...(variant.extraHaCf ?? [])]));
        writeFileSync(join(dir, 'ha.d', 'authkeys'), `auth 1\n1 sha1 ${AUTH_SECRET}\n`);
        chmodSync(join(dir, 'ha.d', 'authkeys'), 0o600);
        writeFileSync(join(dir, 'ha.d', 'haresources'), haresources(tb, s));
        for (const [name, text] of Object.entries(s.resourceScripts ?? {})) {
          writeFileSync(join(dir, 'ha.d', 'resource.d', name), text);
          chmodSync(join(dir, 'ha.d', 'resource.d', name), 0o755);
        }
      }
    },
    start(tb, node) {
      const dir = join(tb.dir, 'hbd', node);
      const prefix = variant.prefix ?? spec?.prefix ?? [];
      // HBD_NODE_ARGS: node options for hbd itself (e.g. "--cpu-prof --cpu-prof-dir=DIR" to profile it; NODE_OPTIONS refuses --cpu-prof).
      const nodeArgs = (process.env.HBD_NODE_ARGS ?? '').split(' ').filter((x) => x !== '');
      const argv = [...prefix, process.execPath, ...(variant.nodeArgs ?? []), ...nodeArgs, variant.hbdJs ?? HBD_JS, '-f', '--config-dir', join(dir, 'ha.d'), '--node', node, '--state-dir', join(dir, 'state'), '--control-socket', join(dir, 'ctl.sock'), ...(variant.httpListen ? ['--http-listen', variant.httpListen] : [])];
      return finishStart(tb, node, tb.spawn(node, argv, variant.env ? { env: variant.env } : {}), dir);
    },
    deadPattern: (owner) => new RegExp(`node ${owner}: is dead`),
    falseAlarm: (line) => /node \S+: is dead/.test(line),
    mainProcess: /^heartbeat: master(?: control process)?\b|\/hbd\.js /,
  };
}

// ---------------------------------------------------------------- Heartbeat 3.0.6

export const HEARTBEAT_BIN = '/usr/libexec/heartbeat/heartbeat';

export interface HeartbeatFiles {
  haCf: string;
  authkeys: string;
  haresources: string;
  /** Extra files for resource.d: name -> script text. */
  resourceScripts?: Record<string, string>;
  /** cluster-glue `external/` stonith plugins (name -> script text): the node sees only these there. */
  stonithPlugins?: Record<string, string>;
}

/**
 * Fills `dir` with what one Heartbeat node sees at /etc/ha.d (dir/etc), /var/lib/heartbeat
 * (dir/lib) and /var/log (dir/log): its own copy of the package's files, with ours.
 */
export function prepareHeartbeatDir(dir: string, files: HeartbeatFiles): void {
  for (const d of ['etc', 'lib', 'log']) mkdirSync(join(dir, d), { recursive: true });
  // Its own copy of the package's /etc/ha.d (harc, rc.d, resource.d, shellfuncs) and
  // of /var/lib/heartbeat's skeleton, with our three files.
  cpSync('/etc/ha.d', join(dir, 'etc'), { recursive: true });
  cpSync('/var/lib/heartbeat', join(dir, 'lib'), { recursive: true });
  rmSync(join(dir, 'lib', 'hb_uuid'), { force: true });
  rmSync(join(dir, 'lib', 'hb_generation'), { force: true });
  writeFileSync(join(dir, 'etc', 'ha.cf'), files.haCf);
  writeFileSync(join(dir, 'etc', 'authkeys'), files.authkeys);
  chmodSync(join(dir, 'etc', 'authkeys'), 0o600);
  writeFileSync(join(dir, 'etc', 'haresources'), files.haresources);
  for (const [name, text] of Object.entries(files.resourceScripts ?? {})) {
    writeFileSync(join(dir, 'etc', 'resource.d', name), text);
    chmodSync(join(dir, 'etc', 'resource.d', name), 0o755);
  }
  for (const [name, text] of Object.entries(files.stonithPlugins ?? {})) {
    mkdirSync(join(dir, 'stonith'), { recursive: true });
    writeFileSync(join(dir, 'stonith', name), text);
    chmodSync(join(dir, 'stonith', name), 0o755);
  }
  writeFileSync(join(dir, 'log', 'ha-log'), '');
}

// Heartbeat's paths are host-global: it runs in a private mount and UTS namespace where
// dir's copies are bind-mounted over them, /run is its own tmpfs and `uname -n` is the node.
// The directory and node name reach bash as $1 and $2, never inside the script text.
const NS_SETUP = [
  'set -e',
  'mount --bind "$1/etc" /etc/ha.d',
  'mount --bind "$1/lib" /var/lib/heartbeat',
  'mount --bind "$1/log" /var/log',
  'if [ -d "$1/stonith" ]; then mount --bind "$1/stonith" /usr/lib/stonith/plugins/external; fi',
  'mount -t tmpfs -o mode=755 tmpfs /run',
  'mkdir -p /run/lock /run/resource-agents && chmod 1755 /run/resource-agents',
  'for d in heartbeat heartbeat/ccm heartbeat/crm heartbeat/dopd crm; do mkdir -p /run/$d; chown hacluster:haclient /run/$d; chmod 750 /run/$d; done',
  'hostname "$2"',
];
const HEARTBEAT_NS_SCRIPT = [...NS_SETUP, `exec ${HEARTBEAT_BIN} -f`].join('\n');
// hbd in Heartbeat's place, on the same files: node name from uname, generation and uuid kept
// where Heartbeat keeps them (a node replaced by hbd stays the same node to its peers).
const HBD_NS_SCRIPT = [...NS_SETUP, 'shift 2', 'exec "$@" -f --state-dir /var/lib/heartbeat'].join('\n');

/** The command that runs Heartbeat for `node` on the files of prepareHeartbeatDir(dir): the daemon keeps its PID. */
export function heartbeatArgv(dir: string, node: string): string[] {
  return ['unshare', '--uts', '--mount', '--propagation', 'private', 'bash', '-c', HEARTBEAT_NS_SCRIPT, 'heartbeat-ns', dir, node];
}

/** The same for hbd (this build, or `hbdJs`) in Heartbeat's place on the same files. */
export function hbdInPlaceArgv(dir: string, node: string, hbdJs: string = HBD_JS): string[] {
  return ['unshare', '--uts', '--mount', '--propagation', 'private', 'bash', '-c', HBD_NS_SCRIPT, 'hbd-ns', dir, node, process.execPath, hbdJs];
}

export function heartbeat(): System {
  return {
    key: 'heartbeat',
    label: 'Heartbeat 3.0.6',
    detectionMs: (t) => t.deadtimeMs,
    timerNote: (t) => `keepalive ${t.keepaliveMs} ms, deadtime ${t.deadtimeMs} ms`,
    async prepare(tb, s) {
      for (const n of s.nodes) {
        const dir = join(tb.dir, 'heartbeat', n);
        rmSync(dir, { recursive: true, force: true });
        prepareHeartbeatDir(dir, { haCf: haCf(tb, s, '/var/log/ha-log'), authkeys: `auth 1\n1 sha1 ${AUTH_SECRET}\n`, haresources: haresources(tb, s), resourceScripts: s.resourceScripts });
      }
    },
    start(tb, node) {
      const dir = join(tb.dir, 'heartbeat', node);
      const child = tb.spawn(node, heartbeatArgv(dir, node));
      const r = finishStart(tb, node, child, dir);
      // Its log file, line by line as written (tail -F follows it with inotify).
      const tail = tb.spawn(node, ['tail', '-n', '+1', '-F', join(dir, 'log', 'ha-log')]);
      collectLines(tail, r.lines);
      r.stopLog = () => {
        if (tail.pid && tail.exitCode === null) killTree(tail.pid);
      };
      return r;
    },
    deadPattern: (owner) => new RegExp(`node ${owner}: is dead`),
    falseAlarm: (line) => /node \S+: is dead/.test(line),
    mainProcess: /^heartbeat: master control process/,
  };
}

// ---------------------------------------------------------------- keepalived

const KA_PRIO_OWNER = 150;
const KA_PRIO_STANDBY = 100;

/** RFC 5798: Master_Down_Interval = 3 × Advertisement_Interval + Skew_Time, Skew = (256 − prio) × adv / 256. */
export function masterDownMs(advertS: number, prio = KA_PRIO_STANDBY): number {
  return (3 * advertS + ((256 - prio) * advertS) / 256) * 1000;
}

/**
 * advert_int for a timer set: `keepalive` mode sends adverts as often as we send heartbeats;
 * `deadtime` mode picks the advert interval (centiseconds, VRRPv3's unit) whose
 * master-down interval is closest to our deadtime.
 */
export function advertFor(t: Timers, mode: 'keepalive' | 'deadtime'): number {
  if (mode === 'keepalive') return Math.max(0.01, Math.round(t.keepaliveMs / 10) / 100);
  const cs = Math.round(t.deadtimeMs / 10 / masterDownMs(1) * 1000);
  return Math.max(1, cs) / 100;
}

export function keepalived(mode: 'keepalive' | 'deadtime'): System {
  let nodes: string[] = [];
  let timers: Timers | null = null;
  return {
    key: mode === 'keepalive' ? 'keepalived' : 'keepalived-dt',
    label: mode === 'keepalive' ? 'keepalived (advert = keepalive)' : 'keepalived (down = deadtime)',
    detectionMs: (t) => masterDownMs(advertFor(t, mode)),
    timerNote: (t) => `advert_int ${advertFor(t, mode)} s (VRRPv3), master-down interval ${masterDownMs(advertFor(t, mode)).toFixed(0)} ms at the standby's priority ${KA_PRIO_STANDBY}`,
    async prepare(tb, s) {
      nodes = s.nodes;
      timers = s.timers;
      for (const [i, n] of s.nodes.entries()) {
        const dir = join(tb.dir, 'keepalived', n);
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        const conf = [
          '# written by bench/lib/systems.ts',
          'global_defs {',
          `  router_id ${n}`,
          '}',
          'vrrp_instance VI_1 {',
          '  state BACKUP',
          '  interface eth0',
          '  virtual_router_id 51',
          '  version 3',
          `  priority ${i === 0 ? KA_PRIO_OWNER : KA_PRIO_STANDBY - (i - 1)}`,
          `  advert_int ${advertFor(s.timers, mode)}`,
          '  virtual_ipaddress {',
          `    ${tb.vip}/${tb.prefix} dev eth0 label eth0:0`,
          '  }',
          '}',
          '',
        ].join('\n');
        writeFileSync(join(dir, 'keepalived.conf'), conf);
      }
    },
    start(tb, node) {
      void nodes;
      void timers;
      const dir = join(tb.dir, 'keepalived', node);
      // A killed keepalived leaves its pid files; a new one refuses to start while they name a PID.
      for (const f of ['keepalived.pid', 'vrrp.pid']) rmSync(join(dir, f), { force: true });
      const argv = ['keepalived', '--dont-fork', '--log-console', '--log-detail', '--vrrp', '-f', join(dir, 'keepalived.conf'), '-p', join(dir, 'keepalived.pid'), '-r', join(dir, 'vrrp.pid'), '-i', node];
      return finishStart(tb, node, tb.spawn(node, argv), dir);
    },
    deadPattern: () => /Entering MASTER STATE/,
    falseAlarm: (line) => /Entering MASTER STATE/.test(line),
    // The parent (checker and VRRP children are forked from it with the same command line).
    mainProcess: /^keepalived /,
  };
}

export function systemByKey(key: string): System {
  const variant = HBD_VARIANTS[key];
  if (variant) return hbd(variant);
  switch (key) {
    case 'heartbeat':
      return heartbeat();
    case 'keepalived':
      return keepalived('keepalive');
    case 'keepalived-dt':
      return keepalived('deadtime');
    default: {
      const pcmk = pacemakerByKey(key);
      if (pcmk) return pcmk;
      throw new Error(`unknown system ${key} (${[...Object.keys(HBD_VARIANTS), 'heartbeat', 'keepalived', 'keepalived-dt', 'pacemaker', 'pacemaker-tNN', 'pacemaker[-tNN]-tdMM'].join(', ')})`);
    }
  }
}

let ownMntNs: string | null = null;
function mntNsOf(pid: number | 'self'): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return null;
  }
}

/** Records the daemon's mount namespace (call once it has started). */
export function learnIdentity(r: Running): void {
  ownMntNs ??= mntNsOf('self');
  if (!isLive(r.pid)) return;
  const ns = mntNsOf(r.pid);
  if (ns && ns !== ownMntNs) r.mntNs = ns;
}

/** Processes of this daemon instance: its tree and everything in its mount namespace. */
export function instancePids(r: Running): number[] {
  const pids = new Set(processTree(r.pid));
  if (r.mntNs && r.mntNs !== ownMntNs) {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      if (mntNsOf(Number(name)) === r.mntNs) pids.add(Number(name));
    }
  }
  return [...pids];
}

/** kill -9 of the daemon and all it started; returns the PIDs. */
export function crash(r: Running): number[] {
  r.stopLog?.();
  learnIdentity(r);
  const killed = new Set(killTree(r.pid));
  for (let pass = 0; pass < 3; pass++) {
    const rest = instancePids(r).filter((p) => !killed.has(p) && isLive(p));
    if (rest.length === 0) break;
    for (const p of rest) {
      try {
        process.kill(p, 'SIGSTOP');
      } catch {
        /* gone */
      }
    }
    for (const p of rest) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
      killed.add(p);
    }
  }
  return [...killed];
}

/**
 * kill -9 of the daemon's main process alone, as an operator's `kill -9 PID` or the OOM killer
 * would: the topmost process of the instance whose command line matches. What it leaves
 * running (Heartbeat's children, keepalived's VRRP child, hbd's address guard) does what it
 * was built to do. Returns the PID, or null when none matched.
 */
export function killMain(r: Running, sys: System): number | null {
  learnIdentity(r);
  const ours = instancePids(r).filter((pid) => isLive(pid) && sys.mainProcess.test(commandLine(pid)));
  const set = new Set(ours);
  const top = ours.filter((pid) => !set.has(parentOf(pid))).sort((x, y) => x - y)[0];
  if (top === undefined) return null;
  process.kill(top, 'SIGKILL');
  return top;
}

/** Ends a daemon for good (between runs). */
export async function stop(r: Running): Promise<void> {
  crash(r);
  await pollUntil(() => !isLive(r.pid), { timeoutMs: 1000, pollMs: 20 });
}

/** SIGTERM, and up to 5 s for the daemon to exit by itself (a profile is written on a clean exit). */
export async function stopGently(r: Running): Promise<void> {
  if (isLive(r.pid)) process.kill(r.pid, 'SIGTERM');
  await pollUntil(() => !isLive(r.pid), { timeoutMs: 5000, pollMs: 50 });
}

export function isRunning(r: Running): boolean {
  return isLive(r.pid);
}

/** Its processes now, for footprint and evidence. */
export function daemonPids(r: Running): number[] {
  learnIdentity(r);
  return instancePids(r).filter(isLive);
}

export function evidence(r: Running): string {
  return daemonPids(r).map(describePid).join('; ');
}
