// What the mixed-cluster tests share: one set of ha.cf, authkeys and haresources for a real
// Heartbeat 3.0.6 node and an hbd node alike (test/helpers/real-heartbeat.ts runs both, each
// in its own network, UTS and mount namespace), our cl_status as a command line, and the
// lines of a Heartbeat log that must never appear in a healthy mixed cluster.
import { join } from 'node:path';
import type { Lan } from '../../src/lib/netns.js';
import type { HeartbeatFiles } from '../../bench/lib/systems.js';
import { repoRoot as REPO } from './repo.js';

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
