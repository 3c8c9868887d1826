// What a `respawn USER /path/prog args` line of ha.cf asks for: the one place that sorts them.
// Heartbeat starts each such program as USER and starts it again when it exits. hbd does so
// for ordinary programs (daemon/respawn.ts); two kinds are different:
//  - ipfail (`respawn hacluster /usr/lib/heartbeat/ipfail`, the seeds' way of turning on
//    Heartbeat's ping-node failover): its behaviour is built into hbd's core (core/ping.ts,
//    policy.ts; see hacf-quorum.ts ipfailOn), so the program itself is never run, whether or
//    not the file exists;
//  - Heartbeat's own API clients (mgmtd, crmd, cib...): they need the Heartbeat client API,
//    which hbd does not serve: understood, not acted on.
// The argument list is split on blanks, as Heartbeat does; no shell ever sees it.
import { basename } from 'node:path';
import type { IssueList } from './issues.js';
import type { HaCf } from './types.js';

export type RespawnKind = 'program' | 'ipfail' | 'api-client';

export interface RespawnSpec {
  kind: RespawnKind;
  user: string;
  /** The program and its arguments. */
  argv: string[];
}

/** Programs of Heartbeat (and the Pacemaker it carried) that talk to its client API. */
const API_CLIENTS = new Set(['mgmtd', 'crmd', 'cib', 'ccm', 'attrd', 'stonithd', 'lrmd', 'pengine', 'tengine', 'pingd', 'hbagent', 'dopd', 'apphbd', 'recoverymgrd']);

/** Where Heartbeat installs its own programs (the seeds use the first). */
const HEARTBEAT_DIRS = /^\/usr\/(lib|lib64|libexec)\/heartbeat\//;

export function classifyRespawn(user: string, command: string): RespawnSpec {
  const argv = command.trim().split(/\s+/).filter(Boolean);
  const prog = argv[0] ?? '';
  const name = basename(prog);
  const kind: RespawnKind = name === 'ipfail' ? 'ipfail' : API_CLIENTS.has(name) || (HEARTBEAT_DIRS.test(prog) && name !== 'ipfail') ? 'api-client' : 'program';
  return { kind, user, argv };
}

/** The names an `apiauth` line may give one of the programs hbd respawns (its file name). */
export function respawnedClients(specs: readonly RespawnSpec[]): Set<string> {
  return new Set(specs.filter((s) => s.kind === 'program').map((s) => basename(s.argv[0] ?? '')));
}

/** One `respawn` line of ha.cf (`rest`: all after the directive), or null after an error. */
export function parseRespawnLine(rest: string, file: string, line: number, issues: IssueList, notActed: (key: string, line: number, why?: string) => void): HaCf['respawn'][number] | null {
  const m = /^(\S+)\s+(.+)$/.exec(rest);
  if (!m) {
    issues.error(file, line, 'respawn takes a user and a command — write e.g. "respawn hacluster /usr/lib/heartbeat/ipfail"');
    return null;
  }
  const spec = classifyRespawn(m[1] ?? '', m[2] ?? '');
  if (spec.kind === 'program' && !spec.argv[0]?.startsWith('/')) {
    issues.error(file, line, `respawn: "${spec.argv[0]?.slice(0, 80)}" is not an absolute path — write the program's full path, e.g. "respawn nobody /usr/local/bin/myagent -v"`);
    return null;
  }
  if (spec.kind === 'api-client') notActed('respawn', line, `${spec.argv[0]} is a client of the Heartbeat API, which hbd does not serve; it is not started`);
  return { user: spec.user, command: m[2] ?? '', line, kind: spec.kind, argv: spec.argv };
}
