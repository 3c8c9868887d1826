// Debian's Pacemaker 2.1 + Corosync 3.1 as a peer in the benchmarks, set up the way its users
// set up a two-node virtual IP: corosync (knet, one link on eth0, two_node) carries membership,
// Pacemaker runs ocf:heartbeat:IPaddr2 on the node the CIB prefers. Like Heartbeat, each node
// runs in a private mount and UTS namespace with its own /etc/corosync, /var/lib/pacemaker,
// /var/lib/corosync, /var/log, /run and /dev/shm (libqb's IPC buffers), and `uname -n` = node.
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { killTree, mono, must, run } from './proc.js';
import { collectLines, type Testbed } from './testbed.js';
import type { ClusterSpec, Running, System, Timers } from './system.js';

const NEEDED = ['/usr/sbin/corosync', '/usr/sbin/pacemakerd', '/usr/sbin/crm', '/usr/lib/ocf/resource.d/heartbeat/IPaddr2'];

/** Why Pacemaker cannot be benchmarked here (a package missing), or null. */
export function pacemakerMissing(): string | null {
  const gone = NEEDED.filter((p) => !existsSync(p));
  return gone.length ? `Pacemaker/Corosync not installed (missing ${gone.join(', ')}; scripts/install-deps.sh --bench installs pacemaker, corosync, crmsh)` : null;
}

/**
 * Corosync's timers for a deadtime: the standby acts after token (no token seen) + consensus
 * (no new membership agreed): 2.2 × token with consensus at its default 1.2 × token. An
 * explicit token overrides it (the sub-quarter-second experiment). Corosync refuses a token
 * whose retransmit interval, token / (retransmits + 0.2), is under 30 ms: below 126 ms the
 * retransmits before loss go down from the default 4 to what fits (3 above 96 ms, 2 above 66 ms,
 * else 1).
 */
export function corosyncTimers(t: Timers, tokenMs?: number): { token: number; consensus: number; retransmits: number } {
  const token = tokenMs ?? Math.round(t.deadtimeMs / 2.2);
  // token / (r + 0.2) > 30  <=>  token > 30 r + 6 (in whole ms; 66 ms at r = 2 is refused).
  let retransmits = 4;
  while (retransmits > 1 && token <= 30 * retransmits + 6) retransmits--;
  return { token, consensus: Math.round(1.2 * token), retransmits };
}

/**
 * knet's own link check: by default a ping every token/4 and the link down after token/2
 * without a pong. Below about 250 ms that timeout is shorter than what knet's heartbeat thread
 * resolves (pongs were seen 200 ms apart here): the link then went down by itself every 9 s
 * at token 227-350 ms, corosync alone on an idle LAN. So the link check never goes below 250
 * ms; the token, not the link check, is what detects a lost node.
 */
export const KNET_MIN_PING_TIMEOUT_MS = 250;
function knetPing(token: number): string[] {
  if (token / 2 >= KNET_MIN_PING_TIMEOUT_MS) return [];
  return ['    knet_ping_interval: 50', `    knet_ping_timeout: ${KNET_MIN_PING_TIMEOUT_MS}`];
}

function corosyncConf(tb: Testbed, spec: ClusterSpec, tokenMs?: number): string {
  const { token, consensus, retransmits } = corosyncTimers(spec.timers, tokenMs);
  const nodes = spec.nodes.flatMap((n, i) => ['  node {', `    name: ${n}`, `    nodeid: ${i + 1}`, `    ring0_addr: ${tb.lan.host(n).address}`, '  }']);
  return [
    '# written by bench/lib/pacemaker.ts',
    'totem {',
    '  version: 2',
    '  cluster_name: bench',
    '  transport: knet',
    // Authenticated, not encrypted: what Heartbeat's `auth 1 sha1` gives.
    '  crypto_hash: sha1',
    '  crypto_cipher: none',
    `  token: ${token}`,
    `  consensus: ${consensus}`,
    `  token_retransmits_before_loss_const: ${retransmits}`,
    '  interface {',
    '    linknumber: 0',
    ...knetPing(token),
    '  }',
    '}',
    'nodelist {',
    ...nodes,
    '}',
    'quorum {',
    '  provider: corosync_votequorum',
    '  two_node: 1',
    '}',
    'logging {',
    '  to_stderr: yes',
    '  to_logfile: no',
    '  to_syslog: no',
    '  timestamp: hires',
    '}',
    '',
  ].join('\n');
}

/** The CIB commands (crmsh) for the VIP, as a crm configure script. */
function crmScript(tb: Testbed, owner: string, transitionDelayMs?: number): string {
  const delay = transitionDelayMs === undefined ? '' : ` transition-delay=${transitionDelayMs}ms`;
  return [
    'configure',
    `property stonith-enabled=false no-quorum-policy=ignore${delay}`,
    'rsc_defaults resource-stickiness=0',
    `primitive vip IPaddr2 params ip=${tb.vip} cidr_netmask=${tb.prefix} nic=eth0 op monitor interval=1s`,
    `location vip-prefers-${owner} vip 100: ${owner}`,
    'commit',
    '',
  ].join('\n');
}

/**
 * The CIB as crmsh writes it, made offline (CIB_file: crm edits an XML file instead of a
 * running cluster), so that both nodes start with it as their on-disk CIB.
 */
async function makeCib(tb: Testbed, dir: string, owner: string, transitionDelayMs?: number): Promise<string> {
  const file = join(dir, 'cib.xml');
  writeFileSync(file, await must(['cibadmin', '--empty']));
  const script = join(dir, 'cib.crm');
  writeFileSync(script, crmScript(tb, owner, transitionDelayMs));
  await must(['env', `CIB_file=${file}`, 'crm', '-f', script], { timeoutMs: 60_000 });
  return file;
}

// The node's paths are host-global: bind-mount its own copies over them in a private mount
// namespace, give it its own /run and /dev/shm, and name the host. corosync first (it must
// answer before pacemakerd connects), then pacemakerd in the script's place. $1 = dir, $2 = node.
const NS_SCRIPT = [
  'set -e',
  'mount --bind "$1/etc" /etc/corosync',
  'mount --bind "$1/lib-pacemaker" /var/lib/pacemaker',
  'mount --bind "$1/lib-corosync" /var/lib/corosync',
  'mount --bind "$1/log" /var/log',
  'mount -t tmpfs -o mode=755 tmpfs /run',
  'mount -t tmpfs -o mode=1777 tmpfs /dev/shm',
  'mkdir -p /run/lock /run/resource-agents /run/crm && chmod 1755 /run/resource-agents && chown hacluster:haclient /run/crm',
  'hostname "$2"',
  'corosync -f &',
  'for i in $(seq 1 400); do corosync-cmapctl -g runtime.config.totem.token >/dev/null 2>&1 && break; sleep 0.025; done',
  'export PCMK_logfile=/var/log/pacemaker/pacemaker.log',
  'exec pacemakerd',
].join('\n');

/** Fills a node's directory: its corosync.conf and authkey, the CIB, empty state and log dirs. */
async function prepareNode(dir: string, conf: string, authkey: Buffer, cib: string): Promise<void> {
  for (const d of ['etc', 'lib-corosync', 'log/pacemaker', 'lib-pacemaker/cib', 'lib-pacemaker/pengine', 'lib-pacemaker/blackbox', 'lib-pacemaker/cores']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'etc', 'corosync.conf'), conf);
  writeFileSync(join(dir, 'etc', 'authkey'), authkey);
  chmodSync(join(dir, 'etc', 'authkey'), 0o400);
  copyFileSync(cib, join(dir, 'lib-pacemaker', 'cib', 'cib.xml'));
  writeFileSync(join(dir, 'log', 'pacemaker', 'pacemaker.log'), '');
  await must(['chown', '-R', 'hacluster:haclient', join(dir, 'lib-pacemaker'), join(dir, 'log', 'pacemaker')]);
  chmodSync(join(dir, 'lib-pacemaker', 'cib'), 0o750);
}

const CMAP_KEYS = ['runtime.config.totem.token', 'runtime.config.totem.consensus', 'runtime.config.totem.token_retransmit', 'totem.transport', 'runtime.votequorum.two_node'];

/**
 * The timers corosync runs with and Pacemaker's view of the pair, read inside the node's
 * namespaces (corosync-cmapctl, crm_mon): evidence that the settings were taken as written.
 */
async function effectiveSettings(r: Running): Promise<string> {
  const inNode = (argv: string[]) => run(['nsenter', '-t', String(r.pid), '-m', '-u', '-n', ...argv]);
  const cmap: string[] = [];
  for (const key of CMAP_KEYS) {
    const out = await inNode(['corosync-cmapctl', '-g', key]);
    cmap.push(out.code === 0 ? out.stdout.trim().replace(/ \(\w+\) = /, ' = ') : `${key}: ?`);
  }
  // Absent from the CIB = Pacemaker's default (0s).
  const delay = await inNode(['crm_attribute', '--type', 'crm_config', '--name', 'transition-delay', '--query', '--quiet']);
  cmap.push(`transition-delay = ${delay.code === 0 ? delay.stdout.trim() : '0s (default)'}`);
  const mon = await inNode(['crm_mon', '-1', '-r']);
  const view = mon.stdout.split('\n').map((l) => l.trim().replace(/\s+/g, ' ')).filter((l) => /^\* (Online|OFFLINE|vip)\b/.test(l) || /^\* Current DC/.test(l));
  return `\`${[...cmap, ...view].join('; ')}\``;
}

export interface PacemakerVariant {
  key?: string;
  label?: string;
  /** A fixed corosync token (ms) instead of deadtime / 2.2. */
  tokenMs?: number;
  /**
   * The cluster property transition-delay (ms): the DC waits this long after the last change
   * before it runs the scheduler. Unset = Pacemaker's default, 0.
   */
  transitionDelayMs?: number;
}

export function pacemaker(variant: PacemakerVariant = {}): System {
  return {
    key: variant.key ?? 'pacemaker',
    label: variant.label ?? 'Pacemaker 2.1 + Corosync 3.1',
    missing: pacemakerMissing,
    optional: true,
    detectionMs: (t) => {
      const c = corosyncTimers(t, variant.tokenMs);
      return c.token + c.consensus;
    },
    timerNote: (t) => {
      const c = corosyncTimers(t, variant.tokenMs);
      const rt = c.retransmits === 4 ? '' : `, token_retransmits_before_loss_const ${c.retransmits}`;
      const td = variant.transitionDelayMs === undefined ? '' : `; transition-delay ${variant.transitionDelayMs} ms`;
      return `corosync token ${c.token} ms, consensus ${c.consensus} ms (token + consensus ${c.token + c.consensus} ms${rt}); knet on eth0, two_node; IPaddr2 monitor 1 s${td}`;
    },
    async prepare(tb, spec) {
      const missing = pacemakerMissing();
      if (missing) throw new Error(missing);
      const base = join(tb.dir, 'pacemaker');
      rmSync(base, { recursive: true, force: true });
      mkdirSync(base, { recursive: true });
      const cib = await makeCib(tb, base, spec.nodes[0]!, variant.transitionDelayMs);
      const conf = corosyncConf(tb, spec, variant.tokenMs);
      const authkey = randomBytes(256);
      for (const n of spec.nodes) await prepareNode(join(base, n), conf, authkey, cib);
    },
    start(tb, node) {
      const dir = join(tb.dir, 'pacemaker', node);
      const child = tb.spawn(node, ['unshare', '--uts', '--mount', '--propagation', 'private', 'bash', '-c', NS_SCRIPT, 'pacemaker-ns', dir, node]);
      if (!child.pid) throw new Error(`could not start Pacemaker on ${node}`);
      const r: Running = { node, child, pid: child.pid, startedAt: mono(), lines: [], dir };
      collectLines(child, r.lines);
      const tail = tb.spawn(node, ['tail', '-n', '+1', '-F', join(dir, 'log', 'pacemaker', 'pacemaker.log')]);
      collectLines(tail, r.lines);
      r.stopLog = () => {
        if (tail.pid && tail.exitCode === null) killTree(tail.pid);
      };
      return r;
    },
    settings: effectiveSettings,
    // The survivor's controller learns from corosync that the peer left the membership.
    deadPattern: (owner) => new RegExp(`pacemaker-controld.*Node ${owner} state is now lost`),
    rejoinPattern: (owner) => new RegExp(`pacemaker-controld.*Node ${owner} state is now member`),
    // Between the loss and this line the controller may wait a whole second for CIB updates.
    decidedPattern: /pacemaker-schedulerd.*Actions: Start\s+vip\b/,
    falseAlarm: (line) => /pacemaker-controld.*Node \S+ state is now lost/.test(line),
    // corosync alone: the node's Pacemaker loses its cluster layer with it.
    mainProcess: /^corosync\b/,
  };
}

/**
 * What corosync said about its ring during a soak, beyond membership changes (which count as
 * false failovers): token warnings, failed processors (a new membership being formed), knet
 * links going down.
 */
export function corosyncTrouble(lines: { text: string }[]): string {
  const count = (re: RegExp) => lines.filter((l) => re.test(l.text)).length;
  return [
    `corosync: ${count(/Token has not been received in/)} token warnings`,
    `${count(/A processor failed, forming new configuration/)} "processor failed" (new membership forming)`,
    `${count(/link: host: \d+ link: \d+ is down/)} knet link-down lines`,
    `${count(/retransmit list/i)} retransmit lists`,
  ].join(', ');
}

/**
 * `pacemaker`, `pacemaker-tNN` (a corosync token of NN ms: the fastest-token experiment),
 * `pacemaker-tdMM` / `pacemaker-tNN-tdMM` (transition-delay MM ms), or null for other keys.
 */
export function pacemakerByKey(key: string): System | null {
  const m = /^pacemaker(?:-t(\d+))?(?:-td(\d+))?$/.exec(key);
  if (!m) return null;
  if (!m[1] && !m[2]) return pacemaker();
  const tokenMs = m[1] ? Number(m[1]) : undefined;
  const transitionDelayMs = m[2] ? Number(m[2]) : undefined;
  const parts = [tokenMs === undefined ? '' : `token ${tokenMs} ms`, transitionDelayMs === undefined ? '' : `transition-delay ${transitionDelayMs} ms`].filter(Boolean);
  return pacemaker({ key, label: `Pacemaker + Corosync, ${parts.join(', ')}`, tokenMs, transitionDelayMs });
}

