// hb_standby and hb_takeover: ask the local hbd to give resource groups away, or to take them.
import { request } from '../control/client.js';
import type { Scope } from '../core/node.js';
import { controlSocketPath } from './control-target.js';

export async function handover(command: 'standby' | 'takeover', argv: string[]): Promise<number> {
  const name = command === 'standby' ? 'hb_standby' : 'hb_takeover';
  const arg = argv[0] ?? 'all';
  if (argv.length > 1 || !['all', 'local', 'foreign', 'failback'].includes(arg)) {
    process.stderr.write(`usage: ${name} [all|local|foreign]\n`);
    return 2;
  }
  // Heartbeat accepts "failback" as a synonym of "foreign".
  const scope = (arg === 'failback' ? 'foreign' : arg) as Scope;
  try {
    const r = await request(controlSocketPath(), { cmd: command, scope });
    if (!r.ok) {
      process.stderr.write(`${name}: ${r.error.message} (${r.error.code})\n`);
      return 1;
    }
  } catch (err) {
    process.stderr.write(`${name}: ${(err as Error).message}\n`);
    return 1;
  }
  const what = scope === 'all' ? 'all' : scope;
  process.stdout.write(command === 'standby' ? `Going standby [${what}].\n` : `Taking over [${what}] resources.\n`);
  return 0;
}
