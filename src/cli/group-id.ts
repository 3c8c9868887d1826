// Groups named on hbd's command line (--control-group, --status-group), by name or number.
import { execFileSync } from 'node:child_process';

/** A group named on the command line as a gid, or null when not given; throws when unknown. */
export function groupId(what: string, group: string | boolean | undefined): number | null {
  if (typeof group !== 'string') return null;
  if (/^\d+$/.test(group)) return Number(group);
  let gid = NaN;
  try {
    gid = Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2]);
  } catch {
    /* not found */
  }
  if (!Number.isInteger(gid)) throw new Error(`${what} group "${group}" does not exist`);
  return gid;
}
