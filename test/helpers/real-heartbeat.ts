// Debian's Heartbeat 3.0.6 on a namespace LAN, to compare the classic commands with: each node
// runs the real daemon the way the benchmarks do (bench/lib/heartbeat-system.ts: a private mount and
// UTS namespace with its own /etc/ha.d, /var/lib/heartbeat, /var/log and /run), and the real
// cl_status/hb_standby/hb_takeover run inside that node's namespaces (nsenter, by PID).
// Everything made here is removed by PID and by namespace, also when the test fails.
import { execFile, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hbdInPlaceArgv, heartbeatArgv, HEARTBEAT_BIN, prepareHeartbeatDir } from '../../bench/lib/heartbeat-system.js';
import { onOutputLines } from '../../src/lib/lines.js';
import { Lan, namespacesStartingWith, nsPids } from '../../src/lib/netns.js';
import { waitGone } from '../../src/lib/proc-stat.js';

export const REAL = {
  cl_status: '/usr/bin/cl_status',
  hb_standby: '/usr/share/heartbeat/hb_standby',
  hb_takeover: '/usr/share/heartbeat/hb_takeover',
};

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Why the real Heartbeat cannot run here, or null when it can. */
export function realHeartbeatMissing(): string | null {
  for (const f of [HEARTBEAT_BIN, ...Object.values(REAL), '/usr/bin/nsenter', '/usr/bin/unshare']) {
    try {
      accessSync(f, constants.X_OK);
    } catch {
      return `${f} is missing (Debian packages heartbeat and util-linux: scripts/install-deps.sh installs them)`;
    }
  }
  return null;
}

export function runArgv(argv: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 20_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs, env: { ...env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Runs `ask` until Heartbeat answers in time, at most `tries` times; the last answer otherwise.
 * cl_status clientstatus waits only 500 ms for the daemon's reply (client_lib.c,
 * read_cstatus_respond_msg) and then fails with "REASON: No timely response.": on a loaded
 * machine that is Heartbeat's answer even for its own node, where an idle one says "offline".
 * An operator asks again; so does a comparison that wants Heartbeat's settled answer. A query
 * that never gets an answer (a node that does not reply) keeps its timeout.
 */
export async function askTimely(ask: () => Promise<Ran>, tries = 5): Promise<Ran & { tries: number }> {
  let r = await ask();
  let n = 1;
  while (n < tries && /REASON: No timely response\./.test(r.stderr)) {
    r = await ask();
    n++;
  }
  return { ...r, tries: n };
}

export interface RealCluster {
  lan: Lan;
  /** Starts Heartbeat (or hbd, on the nodes given as such) on a node (withRealHeartbeat starts none: see there); again after it ended. */
  start(node: string): void;
  /** Sends a signal to a node's daemon (kill -9 by default); resolves when it has ended. */
  kill(node: string, signal?: NodeJS.Signals): Promise<void>;
  /** Which daemon a node runs now, and its PID (null once it ended). */
  pid(node: string): number | null;
  /** The node's ha-log so far (both daemons log there: ha.cf's logfile /var/log/ha-log). */
  log(node: string): string;
  /** Runs a real classic command on a node, inside its mount, UTS and network namespaces. */
  run(node: string, argv: string[]): Promise<Ran>;
  /** The daemons' output and the ends of their log files, for a failure's message. */
  dump(): string;
}

/**
 * Prepares real Heartbeat on every node of `nodes` (name -> octet) with the given files
 * (`files(lan)` sees the hosts' addresses), runs `fn` (which starts the daemons with
 * `c.start`, in the order it needs), then removes every process, namespace and file, and
 * fails when something is left. Heartbeat 3.0.6 started on two nodes at once can fall into
 * its cold-start race ("T_STARTING received during takeover", "Both machines own our
 * resources!") and stay in transition for minutes: start the preferred node first.
 */
export async function withRealHeartbeat<T>(
  subnet: string,
  nodes: Record<string, number>,
  files: (lan: Lan, node: string) => Parameters<typeof prepareHeartbeatDir>[1],
  fn: (c: RealCluster) => Promise<T>,
  opts: { hbd?: (node: string) => boolean; label?: string } = {},
): Promise<T> {
  const lan = new Lan({ subnet, label: opts.label ?? 'hbtreal' });
  const daemons = new Map<string, ChildProcess>();
  const out: string[] = [];
  let failed = false;
  try {
    await lan.create();
    const dir = lan.tempDir('hbt-real-heartbeat-');
    const logTail = (name: string) => {
      try {
        return readFileSync(join(dir, name, 'log', 'ha-log'), 'utf8').split('\n').slice(-40).map((l) => `[${name} ha-log] ${l}`).join('\n');
      } catch (err) {
        return `[${name}] no ha-log: ${(err as Error).message}`;
      }
    };
    for (const [name, octet] of Object.entries(nodes)) await lan.addHost(name, octet);
    for (const name of Object.keys(nodes)) prepareHeartbeatDir(join(dir, name), files(lan, name));
    const cluster: RealCluster = {
      lan,
      start(name) {
        const running = daemons.get(name);
        if (running && running.exitCode === null && running.signalCode === null) throw new Error(`the daemon on ${name} was started already`);
        const argv = opts.hbd?.(name) ? hbdInPlaceArgv(join(dir, name), name) : heartbeatArgv(join(dir, name), name);
        const child = lan.spawnIn(name, argv, { env: { ...process.env, LC_ALL: 'C' } });
        onOutputLines(child, (line) => {
          // The latest lines explain a failure: keep those, not the first ones.
          out.push(`[${name}] ${line}`);
          if (out.length > 2000) out.shift();
        });
        daemons.set(name, child);
      },
      async kill(node, signal = 'SIGKILL') {
        const child = daemons.get(node);
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const ended = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill(signal);
        await ended;
      },
      pid(node) {
        const child = daemons.get(node);
        return child && child.exitCode === null && child.signalCode === null ? (child.pid ?? null) : null;
      },
      log: (node) => {
        try {
          return readFileSync(join(dir, node, 'log', 'ha-log'), 'utf8');
        } catch {
          return '';
        }
      },
      run(node, argv) {
        const pid = daemons.get(node)?.pid;
        if (!pid) throw new Error(`real Heartbeat on ${node} has no PID (did it start?)`);
        return runArgv(['nsenter', '-t', String(pid), '-m', '-u', '-n', ...argv]);
      },
      dump: () => [out.slice(-30).join('\n'), ...Object.keys(nodes).map(logTail)].join('\n'),
    };
    return await fn(cluster);
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    const pids = new Set<number>();
    for (const c of daemons.values()) if (c.pid) pids.add(c.pid);
    for (const h of lan.hosts.values()) for (const pid of await nsPids(h.ns)) pids.add(pid);
    await lan.destroy();
    const left = await waitGone([...pids], 5000);
    const ns = await namespacesStartingWith(lan.nsPrefix);
    if (left.length || ns.length) {
      const msg = `real Heartbeat run left behind: processes ${left.join(' ') || 'none'}; namespaces ${ns.join(' ') || 'none'}`;
      if (!failed) throw new Error(msg);
      console.log(`# ${msg}`);
    }
  }
}
