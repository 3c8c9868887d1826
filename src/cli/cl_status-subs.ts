// cl_status's sub-commands, each answering from hbd's status snapshot and classic info the way
// Heartbeat 3.0.6's cl_status answers from its API: same words, same layout, same exit codes.
import type { ClassicInfo } from '../control/classic-info.js';
import type { StatusSnapshot } from '../status/snapshot.js';
import { getopt } from './getopt.js';

export const EXIT = { OK: 0, NORMAL_FAIL: 1, PARAMETER_ERROR: 11, TIMEOUT: 12, UNKNOWN_ERROR: 13 } as const;

// Same first line and sub-command list as Heartbeat's; the explanations are ours.
export const HELP = `Usage: cl_status <sub-command> [<options>] [<parameters>]

Sub-commands (-m on any of them: answer in a sentence):
hbstatus [-v]
\tIs hbd running on this machine? -v adds the version and "listnodes -v".
listnodes [-n|-p] [-v]
\tThe cluster's nodes; -n normal ones only, -p ping nodes only,
\t-v with each node's status, type and links.
nodestatus <node-name>
\tA node's status: active, up, init or dead (exit 1 unless active or up).
nodetype <node-name>
\tA node's type: normal or ping.
nodeweight <node-name>
\tA node's weight (always 100: hbd has no weights).
nodesite <node-name>
\tA node's site (always empty).
listhblinks [-v] <node-name>
\tThe heartbeat links of a node; -v with their status.
hblinkstatus <node-name> <link-name>
\tOne link's status: up or dead (exit 1 when dead).
clientstatus <node-name> <client-id> [<timeout>]
\tAn API client's status (hbd has none: offline here, no answer from peers).
rscstatus
\tThe resources this node holds: none, local, foreign or all.
hbparameter -p <parameter-name>
\tThe value of an ha.cf parameter (keepalive, deadtime, udpport, hbversion...).
--version, -V
\tThis cl_status's version (heartbeat-ts only).

Exit codes: 0 ok, 1 "no" (node or link dead, hbd stopped, parameter unset),
11 bad sub-command or parameters, 12 no answer within 5 s, 13 other errors.
`;

/** Sub-command -> the option letters it takes (getopt's optstring). */
const OPTIONS: Record<string, string> = {
  hbstatus: 'mv',
  listnodes: 'mpnv',
  nodestatus: 'm',
  nodeweight: 'm',
  nodesite: 'm',
  nodetype: 'm',
  listhblinks: 'mv',
  hblinkstatus: 'm',
  clientstatus: 'm',
  rscstatus: 'm',
  hbparameter: 'mp:',
  test: '',
};
export const SUBCOMMANDS: ReadonlySet<string> = new Set(Object.keys(OPTIONS));

/** Heartbeat's default node weight; hbd has no weights. */
const WEIGHT = 100;

interface NodeLine {
  name: string;
  type: 'normal' | 'ping';
  status: string;
  links: { name: string; status: 'up' | 'dead' }[];
}

/** The cluster as cl_status sees it. */
export class ClassicView {
  readonly nodes: NodeLine[];
  constructor(
    readonly snap: StatusSnapshot,
    readonly info: ClassicInfo,
  ) {
    const normal: NodeLine[] = snap.nodes.map((n) => ({
      name: n.name,
      type: 'normal',
      status: n.status,
      links: n.self ? info.localLinks.map((l) => ({ name: l, status: 'up' })) : n.links.map((l) => ({ name: l.name, status: l.up ? 'up' : 'dead' })),
    }));
    // Ping nodes as this node's pinger sees them (Heartbeat's statuses: ping, dead); a daemon
    // that does not say (an older one) leaves them unknown.
    const seen = new Map((snap.pingNodes ?? []).map((p) => [p.name, p.status]));
    const ping: NodeLine[] = info.pingNodes.map((p) => {
      const st = seen.get(p);
      return { name: p, type: 'ping', status: st === undefined ? 'unknown' : st === 'init' ? 'init' : st, links: [{ name: p, status: st === 'ping' ? 'up' : 'dead' }] };
    });
    // Heartbeat walks its node table newest first: the reverse of ha.cf's order.
    this.nodes = [...normal, ...ping].reverse();
  }

  node(name: string | undefined): NodeLine | undefined {
    return this.nodes.find((n) => n.name === name);
  }

  /** What this node holds, in Heartbeat's words: none, local, foreign or all. */
  resources(): string {
    const s = this.snap;
    const mine = s.groups.filter((g) => g.phases[s.node] === 'running');
    const local = mine.some((g) => g.preferredNode === s.node);
    const foreign = mine.some((g) => g.preferredNode !== s.node);
    return local && foreign ? 'all' : local ? 'local' : foreign ? 'foreign' : 'none';
  }
}

type Log = (message: string) => void;
const out = (text: string) => void process.stdout.write(text);
const err = (text: string) => void process.stderr.write(text);

function listLinks(n: NodeLine, human: boolean, verbose: boolean): void {
  if (human) out('\tthis node has the following heartbeat links:\n');
  for (const l of n.links) out(verbose ? `\t${l.name}\t${l.status}\n` : `\t${l.name}\n`);
}

function listNodes(view: ClassicView, human: boolean, verbose: boolean, only: 'normal' | 'ping' | null): void {
  if (human) out('The nodes are as follow:\n');
  for (const n of view.nodes) {
    if (only && n.type !== only) continue;
    if (!verbose) {
      out(`${n.name}\n`);
      continue;
    }
    out(`\n${n.name}\t${n.status}\t(nodetype: ${n.type})\n`);
    listLinks(n, human, true);
  }
}

/** Runs sub-command `sub` (known) with its arguments; returns the exit code. */
export function runSub(sub: string, args: string[], view: ClassicView, log: Log): number {
  const opts = getopt(args, OPTIONS[sub]!);
  const has = (c: string) => opts.options.some((o) => o.letter === c);
  const human = has('m');
  if (opts.error) {
    err(`${sub}: ${opts.error}\n`);
    // hbstatus ignores options it does not know; every other sub-command refuses them.
    if (sub !== 'hbstatus') {
      log(`Error: getopt returned character ${opts.error.slice(-2, -1)}.`);
      return EXIT.PARAMETER_ERROR;
    }
  }
  const [first, second, third] = opts.operands;
  const need = (n: number, text: string) => {
    if (opts.operands.length >= n) return true;
    err(`${text}\n`);
    return false;
  };
  const node = view.node(first);
  switch (sub) {
    case 'hbstatus': {
      if (!has('v')) {
        out('Heartbeat is running on this machine.\n');
        return EXIT.OK;
      }
      const version = view.info.parameters.hbversion ?? 'unknown';
      out(human ? `Heartbeat version ${version}\nResources controlled by "haresources"\n` : `version:\t${version}\nmanaged by:\t"haresources"\n`);
      listNodes(view, human, true, null);
      return EXIT.OK;
    }
    case 'listnodes': {
      const p = has('p');
      const n = has('n');
      listNodes(view, human, has('v'), p === n ? null : p ? 'ping' : 'normal');
      return EXIT.OK;
    }
    case 'nodestatus':
      if (!need(1, 'Not enough parameters.')) return EXIT.PARAMETER_ERROR;
      if (!node) return badNode('Error. May be due to incorrect node name');
      out(human ? `The cluster node ${first} is ${node.status}\n` : `${node.status}\n`);
      return ['active', 'up', 'ping'].includes(node.status) ? EXIT.OK : EXIT.NORMAL_FAIL;
    case 'nodeweight':
      if (!need(1, 'Not enough parameters.')) return EXIT.PARAMETER_ERROR;
      if (!node) return badNode('Error. Maybe due to incorrect node name.');
      out(human ? `The weight of the cluster node ${first} is ${WEIGHT}\n` : `${WEIGHT}\n`);
      return EXIT.OK;
    case 'nodesite':
      if (!need(1, 'Not enough parameters.')) return EXIT.PARAMETER_ERROR;
      if (!node) return badNode('Error. May be due to incorrect node name');
      // No node has a site in Heartbeat 3.0.6's ha.cf either: the empty string.
      out(human ? `The site of the cluster node ${first} is \n` : '\n');
      return EXIT.OK;
    case 'nodetype':
      if (!need(1, 'No enough parameter.')) return EXIT.PARAMETER_ERROR;
      if (!node) return badNode('Error. May be due to incorrect node name');
      out(human ? `The node ${first}'s type: ${node.type}\n` : `${node.type}\n`);
      return EXIT.OK;
    case 'listhblinks':
      if (!need(1, 'No enough parameter.')) return EXIT.PARAMETER_ERROR;
      if (!node) {
        log('Cannot start heartbeat link interface walk.');
        log(`REASON: no node "${first}" in ha.cf (EINVAL)`);
        return EXIT.UNKNOWN_ERROR;
      }
      listLinks(node, human, has('v'));
      return EXIT.OK;
    case 'hblinkstatus': {
      if (!need(2, 'No enough parameter.')) return EXIT.PARAMETER_ERROR;
      const link = node?.links.find((l) => l.name === second);
      if (!link) {
        log('Cannot get heartbeat link status');
        log(`REASON: ${node ? `node "${first}" has no heartbeat link "${second}"` : `no node "${first}" in ha.cf`}`);
        return EXIT.UNKNOWN_ERROR;
      }
      out(human ? `The node ${first}'s heartbeat link ${second} is ${link.status}\n` : `${link.status}\n`);
      return link.status === 'up' ? EXIT.OK : EXIT.NORMAL_FAIL;
    }
    case 'clientstatus':
      if (!need(2, 'No enough parameter.')) return EXIT.PARAMETER_ERROR;
      void third;
      // hbd has no API clients: none is ever online here, and no peer answers for one.
      if (first === view.snap.node) {
        out('offline\n');
        return EXIT.NORMAL_FAIL;
      }
      log(`Cannot get heartbeat client ${second}'s status`);
      log(`REASON: No timely response. (hbd serves no API clients; node "${first}" was not asked)`);
      return EXIT.UNKNOWN_ERROR;
    case 'rscstatus': {
      const word = view.resources();
      out(human ? `This node is holding ${word} resources.\n` : `${word}\n`);
      return EXIT.OK;
    }
    case 'hbparameter': {
      const name = opts.options.filter((o) => o.letter === 'p').pop()?.arg;
      if (name === undefined) {
        log('parameter name required');
        return EXIT.PARAMETER_ERROR;
      }
      const value = view.info.parameters[name];
      if (value === undefined) {
        log(`Cannot get parameter ${name}'s value`);
        log(`REASON: hbd has no parameter "${name}" (ha.cf directive not set or not a parameter)`);
        return EXIT.NORMAL_FAIL;
      }
      out(human ? `Heartbeat parameter ${name}'s value: ${value}\n` : `${value}\n`);
      return EXIT.OK;
    }
    case 'test':
      out(`Dead time: ${view.info.deadtimeMs}\n keeplive time: ${view.info.keepaliveMs}\n mynodeid: ${view.snap.node}\n rsc: ${view.resources()}\n`);
      return EXIT.OK;
  }
  log(`${sub}: sub-command known but not handled (a bug in cl_status-subs.ts)`);
  return EXIT.UNKNOWN_ERROR;
}

function badNode(text: string): number {
  err(`${text}\n`);
  return EXIT.PARAMETER_ERROR;
}
