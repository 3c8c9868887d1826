#!/usr/bin/env node
// hbctl: the operator's command. Only commands that work are listed.
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { formatIssue } from '../config/issues.js';
import { redactKeys } from '../config/authkeys.js';
import { summarize } from './summary.js';
import { request, requestStatus } from '../control/client.js';
import type { StatusSnapshot } from '../status/snapshot.js';
import { controlSocketPath } from './control-target.js';
import { renderStatus } from './status-text.js';
import { closest } from './suggest.js';
import { HBCTL_COMMANDS } from './hbctl-commands.js';
import { versionLine } from './version.js';

const USAGE = `usage: hbctl <command> [options]

commands:
  check-config [--config-dir DIR] [--resource-dir DIR] [--init-dir DIR] [--node NAME] [--json]
      Validate ha.cf, authkeys and haresources; print a summary (exit 0) or every error (exit 1).
  status [--json] [--socket PATH]
      Show the cluster as the local hbd sees it: nodes, links, resource groups, recent transitions.
      Uses the read-only status socket next to PATH when PATH itself may not be opened.
  standby [all|local|foreign] [--socket PATH]
      Give resource groups to the other node(s) (like hb_standby).
  takeover [all|local|foreign] [--socket PATH]
      Take resource groups from the other node(s) (like hb_takeover).
  clear GROUP [--socket PATH]
      Let this node run GROUP again after failed monitors kept it out (GROUP: its haresources
      line, one of its resources, or all).
  help
      Show this text.
  --version, -V
      Print hbctl's version.
`;

export function main(argv: string[]): number | Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'check-config':
      return checkConfig(rest);
    case 'status':
    case 'standby':
    case 'takeover':
    case 'clear':
      return control(command, rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    case '--version':
    case '-V':
      process.stdout.write(versionLine('hbctl'));
      return 0;
    case undefined:
      process.stderr.write(USAGE);
      return 2;
    default: {
      const guess = closest(command, HBCTL_COMMANDS);
      process.stderr.write(guess ? `hbctl: unknown command "${command}"; did you mean "${guess}"?\n` : `hbctl: unknown command "${command}"\n\n${USAGE}`);
      return 2;
    }
  }
}

function checkConfig(args: string[]): number {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        'config-dir': { type: 'string', default: '/etc/ha.d' },
        'resource-dir': { type: 'string' },
        'init-dir': { type: 'string' },
        node: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`hbctl check-config: ${(err as Error).message}\n`);
    return 2;
  }
  const result = loadConfig({
    configDir: values['config-dir'] ?? '/etc/ha.d',
    roots: { ...(values['resource-dir'] ? { resourceD: values['resource-dir'] } : {}), ...(values['init-dir'] ? { initD: values['init-dir'] } : {}) },
    nodeName: values.node,
  });
  if (values.json) {
    const shown = result.ok ? { ...result, config: { ...result.config, auth: redactKeys(result.config.auth) } } : result;
    process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
    return result.ok ? 0 : 1;
  }
  for (const w of result.warnings) process.stderr.write(`${formatIssue(w)}\n`);
  if (!result.ok) {
    for (const e of result.errors) process.stderr.write(`${formatIssue(e)}\n`);
    process.stderr.write(`\n${result.errors.length} error(s): configuration not valid.\n`);
    return 1;
  }
  process.stdout.write(`${summarize(result.config)}\n`);
  return 0;
}

async function control(command: 'status' | 'standby' | 'takeover' | 'clear', args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { json: { type: 'boolean', default: false }, socket: { type: 'string' } },
      strict: true,
      allowPositionals: command !== 'status',
    });
  } catch (err) {
    process.stderr.write(`hbctl ${command}: ${(err as Error).message}\n`);
    return 2;
  }
  const path = controlSocketPath(parsed.values.socket);
  try {
    if (command === 'status') {
      const r = await requestStatus<StatusSnapshot>(path);
      if (!r.ok) throw new Error(`${r.error.message} (${r.error.code})`);
      process.stdout.write(parsed.values.json ? `${JSON.stringify(r.result, null, 2)}\n` : renderStatus(r.result));
      return 0;
    }
    if (command === 'clear') {
      if (parsed.positionals.length !== 1) {
        process.stderr.write('hbctl clear: name one resource group: its haresources line (quoted), one of its resources, or all\n');
        return 2;
      }
      const r = await request<{ groups: string[] }>(path, { cmd: 'clear', group: parsed.positionals[0]! });
      if (!r.ok) throw new Error(`${r.error.message} (${r.error.code})`);
      process.stdout.write(`clear ${r.result.groups.join('; ')}: accepted\n`);
      return 0;
    }
    const scope = parsed.positionals[0] ?? 'all';
    if (!['all', 'local', 'foreign'].includes(scope) || parsed.positionals.length > 1) {
      process.stderr.write(`hbctl ${command}: scope must be all, local or foreign\n`);
      return 2;
    }
    const r = await request(path, { cmd: command, scope: scope as 'all' | 'local' | 'foreign' });
    if (!r.ok) throw new Error(`${r.error.message} (${r.error.code})`);
    process.stdout.write(`${command} ${scope}: accepted\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`hbctl ${command}: ${(err as Error).message}\n`);
    return 1;
  }
}

Promise.resolve(main(process.argv.slice(2))).then((code) => {
  process.exitCode = code;
});
