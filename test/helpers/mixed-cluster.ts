// What the mixed-cluster tests share: one set of ha.cf, authkeys and haresources for a real
// Heartbeat 3.0.6 node and an hbd node alike (test/helpers/real-heartbeat.ts runs both, each
// in its own network, UTS and mount namespace), our cl_status as a command line, and the
// lines of a Heartbeat log that must never appear in a healthy mixed cluster.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { onOutputLines } from '../../src/lib/lines.js';
import { inNs, type Lan } from '../../src/lib/netns.js';
import type { HeartbeatFiles } from '../../bench/lib/heartbeat-system.js';
import { waitFor } from '../../src/lib/wait.js';
import { netnsSkip } from './netns.js';
import { REAL, realHeartbeatMissing, type RealCluster } from './real-heartbeat.js';
import { repoRoot as REPO } from './repo.js';

/**
 * Why a mixed-cluster test cannot run here (it skips with the reason), or null. Under
 * CI=true a missing capability or package is a failure: this throws.
 */
export async function mixedSkip(): Promise<string | null> {
  if (await netnsSkip()) return 'needs root and network namespaces';
  const missing = realHeartbeatMissing();
  if (missing && process.env.CI === 'true') throw new Error(`CI=true but ${missing}`);
  return missing;
}

/**
 * hb_standby on a real Heartbeat node, as an operator runs it: again if Heartbeat refused it.
 * Heartbeat takes one standby at a time, and its auto_failback hands resources back with the
 * same protocol: a request that comes while one of those is under way is logged "Standby in
 * progress- new request from NODE ignored" and dropped (CI once ran hb_standby in the very
 * second Heartbeat retried a hand-back, and the group never moved). Its refusals while
 * resources are in flux look alike. Returns once Heartbeat has accepted the request.
 */
export async function realHbStandby(c: RealCluster, node: string, timeoutMs = 60_000): Promise<void> {
  const accepted = new RegExp(`${node} wants to go standby \\[all\\]`);
  const refused = new RegExp(`Standby in progress- new request from ${node} ignored|standby message \\[me\\] from ${node} ignored`);
  const over = /Other node completed standby takeover|Standby resource acquisition done|Standby request cancelled|resource transition completed/;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const from = c.log(node).length;
    await c.run(node, [REAL.hb_standby]);
    const answer = await waitFor(`${node}'s Heartbeat to answer hb_standby`, () => {
      const since = c.log(node).slice(from);
      return accepted.test(since) ? 'accepted' : refused.test(since) ? 'refused' : null;
    }, { timeoutMs: Math.max(1000, deadline - Date.now()), pollMs: 100, detail: () => c.dump() });
    if (answer === 'accepted') return;
    // Asked again once the standby under way has ended (or resources settled); at most 15 s,
    // a little over Heartbeat's own 10-s limit for an unanswered request.
    const refusedAt = from + c.log(node).slice(from).search(refused);
    const until = Math.min(deadline, Date.now() + 15_000);
    while (Date.now() < until && !over.test(c.log(node).slice(refusedAt))) await new Promise((r) => setTimeout(r, 200));
    if (Date.now() >= deadline) throw new Error(`hb_standby on ${node}: Heartbeat refused it until the end\n${c.dump()}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The nodes among `nodes` that have `vip` on eth0 now. */
export async function vipHolders(c: RealCluster, nodes: string[], vip: string): Promise<string[]> {
  const out: string[] = [];
  for (const n of nodes) {
    const { stdout } = await inNs(c.lan.host(n).ns, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
    if (stdout.includes(` ${vip}/`)) out.push(n);
  }
  return out;
}

/** Until `node` alone of `nodes` has the VIP. */
export async function vipHeldBy(c: RealCluster, nodes: string[], vip: string, node: string, what: string, timeoutMs: number): Promise<void> {
  let last: string[] = [];
  await waitFor(
    `${what}: the VIP on ${node} alone`,
    async () => {
      last = await vipHolders(c, nodes, vip);
      return last.length === 1 && last[0] === node;
    },
    { timeoutMs, pollMs: 250, detail: () => `holders: ${JSON.stringify(last)}\n${c.dump()}` },
  );
}

export type AuthMethod = 'crc' | 'md5' | 'sha1';

export const TIMERS = { keepalive: 1, warntime: 3, deadtime: 6, initdead: 12 };

/** The three files, the same on every node whichever daemon it runs. */
export function mixedFiles(lan: Lan, nodes: string[], method: AuthMethod, haresources: string, resourceScripts?: Record<string, string>): HeartbeatFiles {
  const haCf = [
    'logfile /var/log/ha-log',
    'logfacility none',
    `keepalive ${TIMERS.keepalive}`,
    `warntime ${TIMERS.warntime}`,
    `deadtime ${TIMERS.deadtime}`,
    `initdead ${TIMERS.initdead}`,
    'udpport 694',
    ...nodes.map((n) => `ucast eth0 ${lan.host(n).address}`),
    'auto_failback on',
    ...nodes.map((n) => `node ${n}`),
    'crm no',
    '',
  ].join('\n');
  const key = method === 'crc' ? '1 crc' : `1 ${method} mixed-cluster-secret`;
  return { haCf, authkeys: `auth 1\n${key}\n`, haresources, ...(resourceScripts ? { resourceScripts } : {}) };
}

/** Our cl_status, run inside a node's namespaces (it finds hbd's control socket at its default place). */
export function ourClStatus(): string[] {
  return [process.execPath, join(REPO, 'dist', 'src', 'cli', 'cl_status.js')];
}

/** Our hb_standby and hb_takeover. */
export function ourHandover(tool: 'hb_standby' | 'hb_takeover'): string[] {
  return [process.execPath, join(REPO, 'dist', 'src', 'cli', `${tool}.js`)];
}

/**
 * Lines of a Heartbeat log that say the mixed cluster is not right: its message history
 * filling up (no acks), authentication failures, messages it could not read or place in
 * sequence, retransmissions it could not get, and its two failure patterns of resource
 * ownership.
 */
const BAD = [
  /hist queue/i,
  /authenticat/i,
  /bad (sequence|generation|nak seq)/i,
  /corrupted ackseq/i,
  /Irretrievably lost/i,
  /Cannot rexmit/i,
  /replay attack/i,
  /Both machines own .* resources!/,
  /No one owns .* resources!/,
  /different version heartbeat/i,
  /ERROR:/,
];

/** Heartbeat's complaint that it may not mlock (a container's limit): about the host, not the cluster. */
const HOST_LIMITS = /Cannot lock ourselves into memory/;

export function heartbeatErrors(log: string): string[] {
  return log.split('\n').filter((l) => !HOST_LIMITS.test(l) && BAD.some((re) => re.test(l)));
}

/** A client's ping of the VIP every 200 ms; `longestGapMs()`: the longest time between two answers so far. */
export function pingVip(c: RealCluster, client: string, vip: string): { child: ChildProcess; answers: number[]; longestGapMs: () => number } {
  const answers: number[] = [];
  const child = c.lan.spawnIn(client, ['ping', '-n', '-D', '-i', '0.2', '-W', '1', vip]);
  onOutputLines(child, (line) => {
    const m = /^\[(\d+\.\d+)\] \d+ bytes from/.exec(line);
    if (m) answers.push(Number(m[1]));
  });
  const longestGapMs = () => {
    let gap = 0;
    for (let i = 1; i < answers.length; i++) gap = Math.max(gap, answers[i]! - answers[i - 1]!);
    return Math.round(gap * 1000);
  };
  return { child, answers, longestGapMs };
}

/** The benchmarks' web service on each server host (bench/lib/web.ts: it answers with the host's name on port 80, on any address the host has). */
export function serveHttp(c: RealCluster, servers: string[]): ChildProcess[] {
  return servers.map((n) => c.lan.spawnIn(n, [process.execPath, join(REPO, 'dist', 'bench', 'lib', 'web.js'), n, '80']));
}

export interface HttpAnswer {
  sent: number;
  t: number;
  body: string;
}

/**
 * A client's HTTP requests to the VIP every 100 ms, each on a fresh connection with a 500 ms
 * timeout, overlapping (src/lib/http-probe.ts): the answers, the longest time between two
 * answered requests, and the times two nodes answered at once (an answer from one node
 * between answers from another within `withinMs`: the VIP on both, clients split by ARP).
 */
export function probeHttp(c: RealCluster, client: string, vip: string): { child: ChildProcess; answers: HttpAnswer[]; longestGapMs: () => number; bothAnswered: (withinMs?: number) => string[] } {
  const answers: HttpAnswer[] = [];
  const child = c.lan.spawnIn(client, [process.execPath, join(REPO, 'dist', 'src', 'lib', 'http-probe.js'), `http://${vip}/`, '100', '500', '--overlap']);
  onOutputLines(child, (line) => {
    try {
      const r = JSON.parse(line) as Partial<HttpAnswer>;
      if (typeof r.body === 'string' && typeof r.sent === 'number' && typeof r.t === 'number') answers.push({ sent: r.sent, t: r.t, body: r.body });
    } catch {
      /* not a report line */
    }
  });
  const sorted = () => [...answers].sort((a, b) => a.sent - b.sent);
  const longestGapMs = () => {
    const a = sorted();
    let gap = 0;
    for (let i = 1; i < a.length; i++) gap = Math.max(gap, a[i]!.sent - a[i - 1]!.sent);
    return Math.round(gap);
  };
  const bothAnswered = (withinMs = 2000) => {
    const a = sorted();
    const out: string[] = [];
    for (let i = 1; i < a.length; i++) {
      if (a[i]!.body === a[i - 1]!.body) continue;
      // A change of node; back to the node before within withinMs: both were answering.
      const back = a.slice(i + 1).find((x) => x.sent - a[i]!.sent <= withinMs && x.body === a[i - 1]!.body);
      if (back) out.push(`${new Date(a[i - 1]!.sent).toISOString()} ${a[i - 1]!.body} -> ${a[i]!.body} -> ${back.body}`);
    }
    return out;
  };
  return { child, answers, longestGapMs, bothAnswered };
}
