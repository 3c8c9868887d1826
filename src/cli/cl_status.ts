#!/usr/bin/env node
// cl_status: Heartbeat's status command, same sub-commands, output and exit codes
// (0 ok, 1 a "normal" failure such as a dead node, 2 bad parameters, 3 other errors).
import { requestStatus, ControlUnavailable } from '../control/client.js';
import type { StatusSnapshot } from '../status/snapshot.js';
import { controlSocketPath } from './control-target.js';

const OK = 0;
const NORMAL_FAIL = 1;
const PARAMETER_ERROR = 2;
const UNKNOWN_ERROR = 3;

const HELP = `Usage: cl_status <sub-command> [<options>] [<parameters>]
Sub-commands:
  hbstatus                      Is heartbeat running on this machine?
  listnodes [-n|-p]             List the nodes in the cluster
  nodestatus <node>             The status of a node (active, up, init, dead)
  listhblinks <node>            The heartbeat links of a node
  hblinkstatus <node> <link>    The status of one link (up, dead)
  rscstatus                     What this node holds: none, local, foreign or all
Options:
  -m   human readable output
`;

async function snapshot(): Promise<StatusSnapshot> {
  const r = await requestStatus<StatusSnapshot>(controlSocketPath());
  if (!r.ok) throw new Error(r.error.message);
  return r.result;
}

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const human = rest.includes('-m');
  const params = rest.filter((a) => !a.startsWith('-'));
  if (!sub || sub === '-h' || sub === '--help' || sub === 'help') {
    process.stdout.write(HELP);
    return sub ? OK : PARAMETER_ERROR;
  }
  const known = ['hbstatus', 'listnodes', 'nodestatus', 'listhblinks', 'hblinkstatus', 'rscstatus'];
  if (!known.includes(sub)) {
    process.stderr.write(`cl_status: unknown sub-command "${sub}"\n${HELP}`);
    return PARAMETER_ERROR;
  }
  let s: StatusSnapshot;
  try {
    s = await snapshot();
  } catch (err) {
    if (sub === 'hbstatus' && err instanceof ControlUnavailable && /not running/.test(err.message)) {
      process.stdout.write('Heartbeat is stopped on this machine.\n');
      return NORMAL_FAIL;
    }
    process.stderr.write(`cl_status: ${(err as Error).message}\n`);
    return UNKNOWN_ERROR;
  }
  const node = (name: string | undefined) => s.nodes.find((n) => n.name === name);

  switch (sub) {
    case 'hbstatus':
      process.stdout.write('Heartbeat is running on this machine.\n');
      return OK;
    case 'listnodes':
      if (human) process.stdout.write('The nodes are as follow:\n');
      for (const n of s.nodes) process.stdout.write(human ? `\n${n.name}\t${n.status}\t(nodetype: normal)\n` : `${n.name}\n`);
      return OK;
    case 'nodestatus': {
      if (params.length < 1) {
        process.stderr.write('Not enough parameters.\n');
        return PARAMETER_ERROR;
      }
      const n = node(params[0]);
      if (!n) {
        process.stderr.write('Error. May be due to incorrect node name\n');
        return PARAMETER_ERROR;
      }
      process.stdout.write(human ? `The cluster node ${n.name} is ${n.status}\n` : `${n.status}\n`);
      return n.status === 'active' || n.status === 'up' ? OK : NORMAL_FAIL;
    }
    case 'listhblinks': {
      if (params.length < 1) {
        process.stderr.write('No enough parameter.\n');
        return PARAMETER_ERROR;
      }
      const n = node(params[0]);
      if (!n) {
        process.stderr.write('Error. May be due to incorrect node name\n');
        return PARAMETER_ERROR;
      }
      if (human) process.stdout.write('\tthis node has the following heartbeat links:\n');
      for (const l of n.links) process.stdout.write(human ? `\t${l.name}\t${l.up ? 'up' : 'dead'}\n` : `\t${l.name}\n`);
      return OK;
    }
    case 'hblinkstatus': {
      if (params.length < 2) {
        process.stderr.write('No enough parameter.\n');
        return PARAMETER_ERROR;
      }
      const n = node(params[0]);
      const l = n?.links.find((x) => x.name === params[1]);
      if (!n || !l) {
        process.stderr.write('Error. May be due to incorrect node or link name\n');
        return UNKNOWN_ERROR;
      }
      const st = l.up ? 'up' : 'dead';
      process.stdout.write(human ? `The node ${n.name}'s heartbeat link ${l.name} is ${st}\n` : `${st}\n`);
      return l.up ? OK : NORMAL_FAIL;
    }
    case 'rscstatus': {
      const mine = s.groups.filter((g) => g.phases[s.node] === 'running');
      const local = mine.some((g) => g.preferredNode === s.node);
      const foreign = mine.some((g) => g.preferredNode !== s.node);
      const word = local && foreign ? 'all' : local ? 'local' : foreign ? 'foreign' : 'none';
      process.stdout.write(human ? `This node is holding ${word} resources.\n` : `${word}\n`);
      return OK;
    }
  }
  return UNKNOWN_ERROR;
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
