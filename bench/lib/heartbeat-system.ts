// Debian's Heartbeat 3.0.6 as a system under test: the same three files as heartbeat-ts, its
// own IPaddr resource script (resource-agents' OCF IPaddr, ifconfig + send_arp), in a private
// mount and UTS namespace so it has its own /etc/ha.d, /var/lib/heartbeat, /run, /var/log and
// `uname -n` == node name. The tests run real Heartbeat the same way (test/helpers/real-heartbeat.ts).
import { chmodSync, cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killTree } from './proc.js';
import { collectLines } from './testbed.js';
import { AUTHKEYS, haCf, haresources } from './ha-config.js';
import { HBD_JS } from './hbd-system.js';
import { finishStart, type System } from './system.js';

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
    missing: () => (existsSync(HEARTBEAT_BIN) ? null : `Heartbeat 3.0.6 not installed (no ${HEARTBEAT_BIN}): scripts/install-deps.sh installs Debian's heartbeat`),
    detectionMs: (t) => t.deadtimeMs,
    timerNote: (t) => `keepalive ${t.keepaliveMs} ms, deadtime ${t.deadtimeMs} ms`,
    async prepare(tb, s) {
      for (const n of s.nodes) {
        const dir = join(tb.dir, 'heartbeat', n);
        rmSync(dir, { recursive: true, force: true });
        prepareHeartbeatDir(dir, { haCf: haCf(tb, s, '/var/log/ha-log'), authkeys: AUTHKEYS, haresources: haresources(tb, s), resourceScripts: s.resourceScripts });
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
