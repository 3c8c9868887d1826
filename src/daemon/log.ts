// The daemon's logger, writing Heartbeat's line format so existing log watchers, grep habits
// and the howtos people follow keep working:
//
//   heartbeat[4241]: 2009/07/25_21:33:05 WARN: node prime: is dead
//
// Sinks follow ha.cf: `logfile` gets everything but debug, `debugfile` everything, and
// `logfacility` sends to syslog (where the daemon adds no timestamp of its own, as Heartbeat
// does: `heartbeat[4241]: WARN: node prime: is dead`). In the foreground lines also go to
// stderr, with a `<N>` priority in front when stderr is journald's (lib/journal.ts).
// Lines Heartbeat's helper scripts would have written carry their tags (tagged()):
// `ResourceManager[4241]: ... info: Running ...`, `IPaddr[4241]: ...`.
//
// Logging must never be the reason the daemon stops or stalls: a failing file is reported
// once on stderr and retried later, a slow disk costs dropped lines rather than memory, and
// nothing here throws after construction.

import type { Logger } from '../lib/logger.js';
import { isJournalStream, journalPrefix } from '../lib/journal.js';
import { fileEnabled, FileSink } from './log-file.js';
import { parseFacility, SyslogWriter, type Severity } from './syslog.js';

export type { Logger } from '../lib/logger.js';

/** The tag of the daemon's own lines unless configured otherwise (ha.cf `log_tag`, --log-tag). */
export const DEFAULT_IDENT = 'heartbeat';

export type Level = 'crit' | 'error' | 'warn' | 'info' | 'debug';

/** The words Heartbeat prints after the timestamp. */
export const LEVEL_WORD: Readonly<Record<Level, string>> = Object.freeze({
  crit: 'CRIT',
  error: 'ERROR',
  warn: 'WARN',
  info: 'info',
  debug: 'debug',
});

/** Syslog severity per level. */
export const LEVEL_SEVERITY: Readonly<Record<Level, Severity>> = Object.freeze({
  crit: 2,
  error: 3,
  warn: 4,
  info: 6,
  debug: 7,
});

/** The logger the daemon owns: it also rotates and shuts down its sinks. */
export interface DaemonLogger extends Logger {
  /** Reopen log files by name (after logrotate moved them) and retry a dead syslog child. */
  reopen(): void;
  /** Flush files and stop the syslog child. Later calls to log methods are ignored. */
  close(): Promise<void>;
  /** The same sinks under another tag (`ResourceManager`, `IPaddr`): `TAG[pid]: ...`. */
  tagged(tag: string): Logger;
}

export interface LogOptions {
  /** Name in front of `[pid]`. Default `heartbeat`, as Heartbeat's own lines. */
  ident?: string;
  /** Default process.pid. */
  pid?: number;
  /** ha.cf `logfile`: everything but debug. Null, empty or /dev/null: off. */
  logfile?: string | null;
  /** ha.cf `debugfile`: everything including debug. Null, empty or /dev/null: off. */
  debugfile?: string | null;
  /** ha.cf `logfacility`, e.g. `local0`, `daemon`; `none` or null: no syslog. Throws on an unknown name. */
  logfacility?: string | null;
  /** ha.cf `debug` level; 0 (default) drops debug messages. */
  debugLevel?: number;
  /** Also write every line to stderr (running with -d / in the foreground). */
  foreground?: boolean;
  /** Syslog daemon socket. Default /dev/log. */
  syslogSocket?: string;
  /** Wall clock for the timestamps (a Date or epoch ms). Injectable for tests. */
  clock?: () => Date | number;
  /** Where foreground lines and the logger's own trouble reports go. Default process.stderr. */
  stderr?: TextSink;
  /**
   * Put sd-daemon `<N>` priorities in front of stderr lines. Default: when `stderr` is not
   * given and process.stderr is the journal stream JOURNAL_STREAM names.
   */
  journal?: boolean;
  /** logger executable. Default `logger`. */
  loggerPath?: string;
  /** Bytes a log file may have waiting for the disk before lines are dropped. Default 4 MiB. */
  maxBufferedBytes?: number;
  /** After a file write failed, wait this long (monotonic ms) before reopening it. Default 10 s. */
  fileRetryMs?: number;
  /** Restart backoff of the syslog child (see SyslogOptions). */
  syslogRestartMinMs?: number;
  syslogRestartMaxMs?: number;
}

export interface TextSink {
  write(chunk: string): unknown;
}

/** `YYYY/MM/DD_HH:MM:SS` in local time, as Heartbeat stamps its lines. */
export function formatTimestamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return (
    `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())}_` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
  );
}

/**
 * Messages often carry text from the network (node names, packet fields). Escaping control
 * characters keeps one message on one line, so nobody can forge log lines with a newline.
 */
export function escapeMessage(msg: string): string {
  return msg.replace(/[\x00-\x1f\x7f]/g, (c) => {
    switch (c) {
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default:
        return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
    }
  });
}

/** One file/stderr line without the trailing newline. */
export function formatLine(ident: string, pid: number, when: Date, level: Level, msg: string): string {
  return `${ident}[${pid}]: ${formatTimestamp(when)} ${LEVEL_WORD[level]}: ${escapeMessage(msg)}`;
}

/** The text handed to syslog, which adds its own timestamp and `ident[pid]:` tag. */
export function formatSyslogText(level: Level, msg: string): string {
  return `${LEVEL_WORD[level]}: ${escapeMessage(msg)}`;
}

/** Build the daemon's logger from ha.cf's logging directives. */
export function createLogger(options: LogOptions = {}): DaemonLogger {
  const ident = options.ident ?? DEFAULT_IDENT;
  const pid = options.pid ?? process.pid;
  const debugLevel = options.debugLevel ?? 0;
  const clock = options.clock ?? ((): Date => new Date());
  const stderr: TextSink = options.stderr ?? guardedProcessStderr();
  const journal = options.journal ?? (options.stderr === undefined && isJournalStream());
  const foreground = options.foreground ?? false;
  const facility = options.logfacility == null || options.logfacility === '' ? null : parseFacility(options.logfacility);

  const now = (): Date => {
    const t = clock();
    return t instanceof Date ? t : new Date(t);
  };

  // One logger child per tag: `logger -t` fixes the tag for the child's life. Heartbeat's
  // tags are few (the daemon's, ResourceManager, IPaddr, IPaddr2), so this stays small.
  const syslogs = new Map<string, SyslogWriter>();
  let closed = false;

  // Trouble with a sink goes to stderr (seen when started by hand or by an init system
  // that captures it) and to syslog when that is a different path.
  const report = (text: string, severity: Severity = LEVEL_SEVERITY.error): void => {
    safeWrite(stderr, `${journalPrefix(journal, severity)}${ident}[${pid}]: ${text}\n`);
  };
  const reportFile = (text: string): void => {
    report(text);
    syslogs.get(ident)?.write(LEVEL_SEVERITY.error, formatSyslogText('error', text));
  };
  const notice = (msg: string): string => formatLine(ident, pid, now(), 'warn', msg);

  const fileCfg = {
    maxBufferedBytes: options.maxBufferedBytes ?? 4 << 20,
    retryMs: options.fileRetryMs ?? 10_000,
    report: reportFile,
    notice,
  };
  const logfile = fileEnabled(options.logfile) ? new FileSink(options.logfile, fileCfg) : null;
  const debugfile = fileEnabled(options.debugfile) ? new FileSink(options.debugfile, fileCfg) : null;

  const syslogFor = (tag: string): SyslogWriter | null => {
    if (facility === null || closed) return null;
    let w = syslogs.get(tag);
    if (w === undefined) {
      const who = tag === ident ? 'syslog' : `syslog for ${tag} lines`;
      w = new SyslogWriter({
        ident: tag,
        pid,
        facility,
        socket: options.syslogSocket,
        loggerPath: options.loggerPath,
        restartMinMs: options.syslogRestartMinMs,
        restartMaxMs: options.syslogRestartMaxMs,
        onError: (why) => report(`${who} unavailable: ${why}`),
        onRecover: (lost) => {
          report(`${who} available again${lost > 0 ? `, ${lost} lines lost` : ''}`, LEVEL_SEVERITY.info);
        },
      });
      syslogs.set(tag, w);
    }
    return w;
  };
  // Started now, so a missing socket or binary is reported at start, not at the first line.
  syslogFor(ident);

  const debugEnabled = (level = 1): boolean => debugLevel >= level && debugLevel > 0;

  // In the foreground, lines also go to stderr; under systemd that is the journal, which
  // stamps each line with the unit's tag, PID and time itself. With syslog on, journald has
  // every line already (the logger children run in the unit's cgroup): a copy would show each
  // line twice. Without syslog, the journal gets the line without a second tag and stamp.
  const toStderr = (tag: string, level: Level, msg: string, line: string): void => {
    if (!journal) safeWrite(stderr, line);
    else if (facility === null) safeWrite(stderr, `${journalPrefix(true, LEVEL_SEVERITY[level])}${tag === ident ? '' : `${tag}[${pid}]: `}${formatSyslogText(level, String(msg))}\n`);
  };

  const emit = (tag: string, level: Level, msg: string): void => {
    if (closed) return;
    const line = formatLine(tag, pid, now(), level, String(msg)) + '\n';
    if (level !== 'debug') logfile?.write(line);
    debugfile?.write(line);
    syslogFor(tag)?.write(LEVEL_SEVERITY[level], formatSyslogText(level, String(msg)));
    if (foreground) toStderr(tag, level, msg, line);
  };

  const loggerFor = (tag: string): Logger => ({
    info: (msg) => emit(tag, 'info', msg),
    warn: (msg) => emit(tag, 'warn', msg),
    error: (msg) => emit(tag, 'error', msg),
    crit: (msg) => emit(tag, 'crit', msg),
    debug: (msg, level = 1) => {
      if (debugEnabled(level)) emit(tag, 'debug', msg);
    },
    debugEnabled,
  });

  return {
    ...loggerFor(ident),
    tagged: loggerFor,
    reopen: () => {
      if (closed) return;
      logfile?.reopen();
      debugfile?.reopen();
      for (const w of syslogs.values()) w.restartNow();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.all([logfile?.close(), debugfile?.close(), ...[...syslogs.values()].map((w) => w.close())]);
    },
  };
}

/**
 * One line under the tag Heartbeat's helper would have printed it with (`ResourceManager`,
 * `IPaddr`), minus the `IPaddr: ` the agents put in front for untagged logs. With a tag of
 * their own choosing (`ownTag` not the default), every line goes under it, as before tags.
 */
export function logAs(log: DaemonLogger, ownTag: string, level: Level, text: string, tag?: string): void {
  if (tag === undefined || ownTag !== DEFAULT_IDENT) {
    log[level](text);
    return;
  }
  const own = `${tag}: `;
  log.tagged(tag)[level](text.startsWith(own) ? text.slice(own.length) : text);
}

/** A logger that drops everything (libraries and tests that do not care). */
export const nullLogger: Logger = Object.freeze({
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  crit: () => undefined,
  debug: () => undefined,
  debugEnabled: () => false,
});

/** A logger that keeps `{level, msg}` records in memory, for other modules' tests. */
export function memoryLogger(debugLevel = 0): Logger & { records: { level: Level; msg: string }[] } {
  const records: { level: Level; msg: string }[] = [];
  const debugEnabled = (level = 1): boolean => debugLevel >= level && debugLevel > 0;
  return {
    records,
    info: (msg) => void records.push({ level: 'info', msg }),
    warn: (msg) => void records.push({ level: 'warn', msg }),
    error: (msg) => void records.push({ level: 'error', msg }),
    crit: (msg) => void records.push({ level: 'crit', msg }),
    debug: (msg, level = 1) => {
      if (debugEnabled(level)) records.push({ level: 'debug', msg });
    },
    debugEnabled,
  };
}

let stderrGuarded = false;

// An EPIPE on process.stderr arrives as an 'error' event, which kills the process when
// nobody listens; a daemon whose terminal went away must keep running.
function guardedProcessStderr(): TextSink {
  if (!stderrGuarded) {
    stderrGuarded = true;
    process.stderr.on('error', () => undefined);
  }
  return process.stderr;
}

function safeWrite(sink: TextSink, text: string): void {
  try {
    sink.write(text);
  } catch {
    // stderr closed under us (EPIPE, EBADF): nothing sensible left to do.
  }
}
