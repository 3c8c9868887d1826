// Making a Node process look like a Heartbeat process to ps, pidof, netstat -p and killall.
//
// What works on Linux (Node 20, libuv 1.4x), tested by hand and in test/daemon/title.test.ts:
// - `process.title = T` overwrites the argv area, so /proc/PID/cmdline, `ps -o args`,
//   `ps aux` and `netstat -p` (PID, a slash and the start of argv[0] in a 19-column field:
//   `14888/heartbeat: ma`) show T. The argv area cannot grow: T is cut to the length of the
//   command line the process was started with (`node /usr/bin/hbd -f` leaves 19 characters),
//   and `process.title` reads back the cut text, which is how we notice.
// - libuv also calls prctl(PR_SET_NAME, T), so /proc/PID/comm becomes T's first 15 bytes
//   ("heartbeat: mast"). `pidof heartbeat` (sysvinit's killall5 on Debian) matches on comm
//   or on argv[0]'s basename, neither of which is then "heartbeat": it finds nothing.
// - Writing "heartbeat" to /proc/self/comm afterwards fixes that: comm is then exactly what a
//   real Heartbeat process has (its binary's name), so `pidof heartbeat`, `killall heartbeat`,
//   `ps -e`, `top` and `ss -p` (which prints comm) find it. /proc/self is the thread-group
//   leader, i.e. the main thread, which is the thread this code runs on; libuv's worker
//   threads keep their own names, which pidof does not read.
// What does not: /proc/PID/exe still points at the node binary, so `pidof /usr/libexec/
// heartbeat/heartbeat` (a full path) and systemd's ExecMainPath do not match; nothing a
// process can do about that without being that binary.

import { readFileSync, writeFileSync } from 'node:fs';

export interface TitleOutcome {
  /** The title ps shows now. */
  title: string;
  /** Whether the preferred (first) title fitted. */
  fitted: boolean;
  /** /proc/self/comm after the attempt ('' when unreadable: not Linux). */
  comm: string;
}

/**
 * Sets the longest of `titles` that fits the argv area (the first one that reads back
 * unchanged; else the last, cut), then sets the kernel's command name to `comm`.
 * Never throws: a process that cannot rename itself still runs.
 */
export function setProcessTitle(titles: readonly string[], comm: string): TitleOutcome {
  let title = '';
  let fitted = false;
  for (const [i, t] of titles.entries()) {
    try {
      process.title = t;
      title = process.title;
    } catch {
      break;
    }
    if (title === t) {
      fitted = i === 0;
      break;
    }
  }
  try {
    // The kernel keeps 15 bytes (TASK_COMM_LEN - 1) and cuts the rest itself.
    writeFileSync('/proc/self/comm', comm);
  } catch {
    // Not Linux, or /proc not mounted: ps then shows whatever prctl set.
  }
  let now = '';
  try {
    now = readFileSync('/proc/self/comm', 'utf8').trim();
  } catch {
    // as above
  }
  return { title, fitted, comm: now };
}
