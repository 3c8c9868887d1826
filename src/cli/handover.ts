// hb_standby and hb_takeover: ask the local hbd to give resource groups away, or to take them.
// Arguments, messages and exit codes as Heartbeat 3.0.6's scripts: one optional scope,
// anything else prints the usage and exits 1 (--help included). Ours only: --version/-V, and
// exit 1 with a reason when hbd cannot be reached (Heartbeat's scripts write into its FIFO
// and say nothing).
import { basename } from 'node:path';
import { request } from '../control/client.js';
import type { Scope } from '../core/node.js';
import { controlSocketPath } from './control-target.js';
import { versionLine } from './version.js';

const SCOPES = ['all', 'foreign', 'local', 'failback'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

function usage(self: string): number {
  process.stdout.write('usage:\n');
  process.stderr.write(`${self} [all|foreign|local|failback]\n`);
  return 1;
}

export async function handover(command: 'standby' | 'takeover', argv: string[], self = process.argv[1] ?? `hb_${command}`): Promise<number> {
  const name = basename(self).replace(/\.js$/, '');
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(versionLine(name));
    return 0;
  }
  if (argv.length >= 2) {
    process.stdout.write(`${self}: too many arguments\n`);
    return usage(self);
  }
  const arg = argv[0] ?? 'all';
  if (arg === '--help') return usage(self);
  if (!SCOPES.includes(arg)) {
    process.stdout.write(`${self}: wrong resources(${arg}).\n`);
    return usage(self);
  }
  // Heartbeat takes "failback" as "foreign".
  const scope = (arg === 'failback' ? 'foreign' : arg) as Scope;
  if (command === 'standby') {
    // Heartbeat's ha_log line on stderr, before the request (its script logs first, too).
    const d = new Date();
    process.stderr.write(`${MONTHS[d.getMonth()]} ${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} Going standby [${scope}].\n`);
  }
  const path = controlSocketPath();
  try {
    const r = await request(path, { cmd: command, scope });
    if (!r.ok) {
      process.stderr.write(`${name}: hbd at ${path} refused ${command} ${scope}: ${r.error.message} (${r.error.code})\n`);
      return 1;
    }
  } catch (err) {
    process.stderr.write(`${name}: ${(err as Error).message}\n`);
    return 1;
  }
  return 0;
}
