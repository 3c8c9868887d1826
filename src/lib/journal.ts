// Priorities for journald when stderr is a journal stream.
//
// systemd connects a service's stderr to journald and says so in JOURNAL_STREAM="DEV:INO"
// (see systemd.exec(5)); a line starting with `<N>` is then filed at priority N (sd-daemon(3)),
// otherwise at the unit's default, info. The variable is inherited by children and survives
// redirection, so it only counts while fd 2 is still that very stream: same device and inode.
import { fstatSync } from 'node:fs';

/** True when `fd` is the journal stream `env.JOURNAL_STREAM` names. */
export function isJournalStream(env: NodeJS.ProcessEnv = process.env, fd = 2): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!m) return false;
  try {
    // bigint: inode numbers of sockets and large file systems exceed 2^53.
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(m[1] ?? '') && st.ino === BigInt(m[2] ?? '');
  } catch {
    return false;
  }
}

/** `<N>` for a syslog severity (crit 2, err 3, warning 4, info 6, debug 7) when `journal`, else ''. */
export function journalPrefix(journal: boolean, severity: number): string {
  return journal ? `<${severity}>` : '';
}
