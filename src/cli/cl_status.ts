#!/usr/bin/env node
// cl_status: Heartbeat 3.0.6's status command against hbd: the same sub-commands, options,
// output and exit codes (0 ok, 1 a "normal" failure such as a dead node or hbd not running,
// 11 bad parameters, 12 no answer within 5 s, 13 other errors), checked side by side with
// the real one in test/cli/classic-vs-heartbeat.test.ts. Only --version/-V is ours.
import { hostname } from 'node:os';
import { ControlTimeout, ControlUnavailable, requestRead } from '../control/client.js';
import type { ClassicInfo } from '../control/classic-info.js';
import type { StatusSnapshot } from '../status/snapshot.js';
import { controlSocketPath } from './control-target.js';
import { ClassicView, EXIT, HELP, runSub, SUBCOMMANDS } from './cl_status-subs.js';
import { versionLine } from './version.js';

/** Heartbeat's cl_status gives up after 5 s (its alarm) with exit 12. */
const TIMEOUT_MS = 5000;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** An error line shaped as Heartbeat's logging writes it to stderr. */
export function logError(message: string): void {
  const d = new Date();
  const stamp = `${MONTHS[d.getMonth()]} ${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  process.stderr.write(`${stamp} ${hostname()} cl_status: [${process.pid}]: ERROR: ${message}\n`);
}

async function fetchView(): Promise<ClassicView> {
  const path = controlSocketPath();
  const [status, info] = await Promise.all([
    requestRead<StatusSnapshot>(path, { cmd: 'status' }, TIMEOUT_MS),
    requestRead<ClassicInfo>(path, { cmd: 'info' }, TIMEOUT_MS),
  ]);
  if (!status.ok) throw new Error(`hbd at ${path} refused the status request: ${status.error.message} (${status.error.code})`);
  if (!info.ok) throw new Error(`hbd at ${path} refused the info request (an hbd older than this cl_status?): ${info.error.message} (${info.error.code})`);
  return new ClassicView(status.result, info.result);
}

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || (argv.length === 1 && sub === '-h')) {
    process.stdout.write(HELP);
    return EXIT.OK;
  }
  if (argv.length === 1 && (sub === '--version' || sub === '-V')) {
    process.stdout.write(versionLine('cl_status'));
    return EXIT.OK;
  }
  if (!SUBCOMMANDS.has(sub)) {
    logError(`${sub}: invalid sub-command.`);
    return EXIT.PARAMETER_ERROR;
  }
  let view: ClassicView;
  try {
    view = await fetchView();
  } catch (err) {
    if (err instanceof ControlTimeout) return EXIT.TIMEOUT;
    const reason = (err as Error).message;
    // hbstatus answers even when hbd cannot be reached: that is its question.
    if (sub === 'hbstatus') {
      const refused = err instanceof ControlUnavailable && err.cause.code === 'EACCES';
      process.stdout.write(refused ? 'Heartbeat is apparently running on this machine, but refuses my connection\n' : 'Heartbeat is stopped on this machine.\n');
      if (rest.some((a) => /^-[^-]*v/.test(a))) process.stdout.write(`(${reason})\n`);
      return refused ? EXIT.OK : EXIT.NORMAL_FAIL;
    }
    logError('Cannot signon with heartbeat');
    logError(`REASON: ${reason}`);
    return EXIT.NORMAL_FAIL;
  }
  return runSub(sub, rest, view, logError);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    logError(`internal error: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = EXIT.UNKNOWN_ERROR;
  },
);
