// The ha.cf directives of a quorum source, ping-node failover and fencing (issue 16):
// Heartbeat's `stonith_host`, and ours: `witness`, `ipfail`, `fence_agent`, `fence_timeout`.
// Their cross-checks run once the whole file is read (`checkQuorumCf`).
import { parseDuration } from './duration.js';
import type { DirectiveTarget, Handler } from './hacf-directives.js';
import type { HaCf } from './types.js';
import type { IssueList } from './issues.js';

const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** A fence agent's name (found in /usr/sbin) or an absolute path; never a shell word. */
const AGENT = /^(fence_[A-Za-z0-9_]+|\/[A-Za-z0-9_./-]+)$/;
const STONITH_TYPE = /^[A-Za-z0-9_]+(\/[A-Za-z0-9_.-]+)?$/;
const KEY = /^[A-Za-z][A-Za-z0-9_-]*$/;

export function quorumDirectives({ cf, file, issues }: Pick<DirectiveTarget, 'cf' | 'file' | 'issues'>): Record<string, Handler> {
  const q = cf.quorum;
  return {
    witness: (values, _rest, line) => {
      const [name, ...more] = values;
      if (!name || more.length > 0) issues.error(file, line, 'witness takes one host name (as `uname -n` prints it on the witness host) — write e.g. "witness arbiter"');
      else if (!NODE_NAME.test(name)) issues.error(file, line, `witness "${name}" is not a valid host name`);
      else if (q.witness) issues.error(file, line, `a second witness line ("${name}"; the first is on line ${q.witness.line}) — a two-node cluster needs one witness; remove one line`);
      else q.witness = { name, line };
    },
    ipfail: (values, _rest, line) => {
      const v = values.length === 1 ? values[0]!.toLowerCase() : '';
      if (v !== 'on' && v !== 'off') issues.error(file, line, 'ipfail takes on or off — write "ipfail on" to hand groups to a peer that still reaches the ping nodes');
      else q.ipfail = { on: v === 'on', line };
    },
    stonith_host: (values, _rest, line) => {
      const [from, type, ...params] = values;
      if (!from || !type) {
        issues.error(file, line, 'stonith_host takes the node that may use it (or *), a device type and its parameters — write e.g. "stonith_host * external/ssh hostlist=node1,node2"');
        return;
      }
      if (from !== '*' && !NODE_NAME.test(from)) issues.error(file, line, `stonith_host: "${from}" is neither * nor a node name`);
      else if (!STONITH_TYPE.test(type)) issues.error(file, line, `stonith_host: "${type}" is not a stonith device type (see \`stonith -L\`)`);
      else q.stonith.push({ from, type, params, line });
      cf.stonithHosts.push({ raw: values.join(' '), line });
    },
    fence_agent: (values, _rest, line) => {
      const [target, agent, ...pairs] = values;
      if (!target || !agent) {
        issues.error(file, line, 'fence_agent takes the node it fences (or *), a fence agent and its key=value options — write e.g. "fence_agent node2 fence_ipmilan ip=10.0.0.12 username=admin password_script=/etc/ha.d/ipmi-pass"');
        return;
      }
      if (target !== '*' && !NODE_NAME.test(target)) return issues.error(file, line, `fence_agent: "${target}" is neither * nor a node name`);
      if (!AGENT.test(agent)) return issues.error(file, line, `fence_agent: "${agent}" must be a fence_* program name or an absolute path`);
      const args: [string, string][] = [];
      for (const p of pairs) {
        const eq = p.indexOf('=');
        const key = eq > 0 ? p.slice(0, eq) : '';
        if (!KEY.test(key)) return issues.error(file, line, `fence_agent: "${p}" is not key=value — write the agent's options as they go on its stdin, e.g. ip=10.0.0.12`);
        args.push([key, p.slice(eq + 1)]);
      }
      q.fenceAgents.push({ target, agent, args, line });
    },
    fence_timeout: (values, _rest, line) => {
      const ms = values.length === 1 ? parseDuration(values[0]!) : null;
      if (ms === null || ms <= 0) issues.error(file, line, 'fence_timeout takes one time above 0 — write seconds (60) or milliseconds (500ms)');
      else q.fenceTimeoutMs = ms;
    },
  };
}

/** Ping-node failover is on: `ipfail on`, or (the seeds' way) a `respawn` line that runs Heartbeat's ipfail. */
export function ipfailOn(ha: HaCf): boolean {
  if (ha.quorum.ipfail) return ha.quorum.ipfail.on;
  return ha.respawn.some((r) => r.kind === 'ipfail');
}

/** Fencing is configured: some device may fence `node` from `me`. */
export function fencingFor(ha: HaCf, me: string, node: string): boolean {
  const q = ha.quorum;
  return q.stonith.some((s) => s.from === '*' || s.from === me) || q.fenceAgents.some((f) => f.target === '*' || f.target === node);
}

/** Checks across lines, once the whole file is read. */
export function checkQuorumCf(cf: HaCf, file: string, issues: IssueList): void {
  const q = cf.quorum;
  const w = q.witness;
  if (w && cf.nodes.some((n) => n.toLowerCase() === w.name.toLowerCase())) {
    issues.error(file, w.line, `witness "${w.name}" is also a node — the witness must be a third host outside the nodes; remove it from the node line or name another host`);
  }
  if (w && cf.nodes.length !== 2) issues.warn(file, w.line, `a witness is meant for two nodes; with ${cf.nodes.length} it is one more vote in the majority`);
  for (const f of q.fenceAgents) {
    if (f.target !== '*' && !cf.nodes.includes(f.target)) issues.error(file, f.line, `fence_agent: "${f.target}" is not a node of ha.cf (${cf.nodes.join(', ')})`);
  }
  if (q.ipfail?.on && cf.pingNodes.length === 0) {
    issues.warn(file, q.ipfail.line, 'ipfail is on but there is no ping node — add "ping ADDRESS" (a router both nodes should reach), or it never moves anything');
  }
}

/**
 * The one start-up warning of a two-node cluster with no quorum source: it behaves as
 * Heartbeat does, so a broken link between the nodes runs every group on both. Null when a
 * witness or fencing protects it, or when it has 3+ nodes (a majority decides there).
 */
export function quorumSourceWarning(ha: HaCf, me: string): string | null {
  if (ha.nodes.length !== 2 || ha.quorum.witness || ha.arbiter) return null;
  const peer = ha.nodes.find((n) => n !== me);
  if (peer && fencingFor(ha, me, peer)) return null;
  return (
    'two nodes and no quorum source: if the heartbeat links between them fail while both run, both take every resource group (split brain: one virtual IP on two hosts). ' +
    'Fix: add "witness HOST" to ha.cf and run "hbd --witness" on that third host, or configure fencing ("stonith_host" or "fence_agent")'
  );
}
