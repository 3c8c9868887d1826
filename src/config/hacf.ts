// ha.cf: Heartbeat's main configuration, read the way Heartbeat 3.0 reads it
// (heartbeat/config.c): `#` starts a comment anywhere on a line, a directive is the first
// word, most directives take one value per word ("node a b", "bcast eth0 eth1"), media
// such as ucast/mcast take the whole line. Defaults and cross-checks are Heartbeat's.
import { IssueList, splitConfigLines } from './issues.js';
import { applyDefaults, defaultHaCf, type GivenTimers } from './hacf-defaults.js';
import { directiveHandlers, NOT_ACTED_ON, type DirectiveTarget, type Handler } from './hacf-directives.js';
import { parseMonitorLine } from './monitor.js';
import { respawnedClients } from './respawn.js';
import { checkQuorumCf, quorumDirectives } from './hacf-quorum.js';
import { arbiterDirectives, checkArbiterCf, noArbiterLines, type ArbiterLines } from './hacf-arbiter.js';
import type { HaCf } from './types.js';

/** Heartbeat's directives, and ours kept in their own modules. */
function allHandlers(target: DirectiveTarget, arbiter: ArbiterLines): Record<string, Handler> {
  const { cf, file, issues } = target;
  return {
    ...directiveHandlers(target),
    ...quorumDirectives(target),
    ...arbiterDirectives(target, arbiter),
    monitor: (values, _rest, line) => {
      const m = parseMonitorLine(values, file, line, issues);
      if (m) cf.ext.monitors.push(m);
    },
  };
}

export { defaultHaCf } from './hacf-defaults.js';

export function parseHaCf(text: string, file: string, issues: IssueList): HaCf {
  const cf = defaultHaCf();
  const raw: GivenTimers = { keepalive: null, deadtime: null, warntime: null, initdead: null, deadping: null };
  const lines = splitConfigLines(text, file, issues);
  if (!lines) return cf;
  const warnedNotActed = new Set<string>();

  const arbiter = noArbiterLines();
  const handlers = allHandlers({ cf, raw, file, issues, notActed }, arbiter);

  function notActed(key: string, line: number, reason?: string): void {
    if (warnedNotActed.has(key)) return;
    warnedNotActed.add(key);
    const why = reason ?? NOT_ACTED_ON[key] ?? 'not implemented';
    issues.warn(file, line, `"${key}" is understood but not acted on by heartbeat-ts: ${why}`);
  }

  lines.forEach((full, i) => {
    const line = i + 1;
    const text = full.replace(/#.*$/, '').trim();
    if (!text) return;
    const [directive = '', ...values] = text.split(/\s+/);
    const rest = text.slice(directive.length).trim();
    const handler = handlers[directive];
    if (handler) {
      handler(values, rest, line);
    } else if (directive in NOT_ACTED_ON) {
      notActed(directive, line);
    } else {
      const hint = suggest(directive, [...Object.keys(handlers), ...Object.keys(NOT_ACTED_ON)]);
      issues.error(file, line, `unknown directive "${directive.slice(0, 60)}"${hint ? ` — did you mean "${hint}"?` : ' — see ha.cf(5) for the directives Heartbeat knows'}`);
    }
  });

  // apiauth is accepted for the programs hbd respawns; for any other client it does nothing.
  const ours = respawnedClients(cf.respawn);
  for (const a of cf.apiauth) if (!ours.has(a.client)) notActed('apiauth', a.line);
  // ipfail is built into hbd (core/ping.ts): without a ping node it has nothing to compare.
  const ipfail = cf.respawn.find((r) => r.kind === 'ipfail');
  if (ipfail && cf.pingNodes.length === 0 && !cf.quorum.ipfail) notActed('respawn', ipfail.line, 'ipfail is not run as a program, and the ping-node failover built into hbd needs a "ping" line');
  applyDefaults(cf, raw, file, issues);
  checkQuorumCf(cf, file, issues);
  cf.arbiter = checkArbiterCf(arbiter, cf, file, issues);
  return cf;
}

/**
 * Every directive ha.cf may hold, for documentation checks (ha.cf(5)): `actedOn` are read and
 * used; `notActedOn` are accepted with a warning that names each (NOT_ACTED_ON says why).
 */
export function directiveNames(): { actedOn: string[]; notActedOn: string[] } {
  const raw: GivenTimers = { keepalive: null, deadtime: null, warntime: null, initdead: null, deadping: null };
  const handlers = allHandlers({ cf: defaultHaCf(), raw, file: 'ha.cf', issues: new IssueList(), notActed: () => undefined }, noArbiterLines());
  const notActedOn = Object.keys(NOT_ACTED_ON);
  return { actedOn: Object.keys(handlers).filter((k) => !(k in NOT_ACTED_ON)), notActedOn };
}

/** The closest known directive, for "did you mean" hints on typos. */
function suggest(word: string, known: string[]): string | null {
  let best: string | null = null;
  let bestD = 3;
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] ?? 0;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j] ?? 0;
      prev[j] = Math.min((prev[j] ?? 0) + 1, (prev[j - 1] ?? 0) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length] ?? 99;
}
