#!/usr/bin/env node
// hbd: the heartbeat-ts daemon. `hbd -f` runs in the foreground; plain `hbd` daemonises,
// writes a pid file and returns once the daemon is up; `hbd -t` only validates the configuration.
import { spawn, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { closeSync, fstatSync, mkdirSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { groupId } from './group-id.js';
import { setProcessTitle } from '../lib/proc-title.js';
import { isJournalStream } from '../lib/journal.js';
import { packageVersion } from '../lib/version.js';
import { versionLine } from './version.js';
import { LOG_TAG } from '../config/hacf-directives.js';
import { loadConfig } from '../config/load.js';
import { formatIssue } from '../config/issues.js';
import { Daemon, DEFAULT_AGENT_TIMEOUTS } from '../daemon/daemon.js';
import { parseAgentTimeouts, type AgentTimeouts } from './agent-timeouts.js';
import { HBD_OPTIONS } from './hbd-options.js';
import { applyRealtime } from '../daemon/scheduling.js';
import { ControlServer, type ControlHandler } from '../control/server.js';
import { DEFAULT_CONTROL_SOCKET, statusSocketPath } from '../control/protocol.js';
import { HttpApi, parseListen } from '../control/http.js';
import { classicInfo } from '../control/classic-info.js';
import { groupsToClear } from '../control/clear.js';
import { followView, ServiceManager, statusLine } from '../daemon/service-manager.js';
import { USAGE } from './hbd-usage.js';
import { statusLineInputs } from '../status/snapshot.js';


function main(argv: string[]): number | Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: HBD_OPTIONS,
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`hbd: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.version) {
    process.stdout.write(versionLine('hbd'));
    return 0;
  }
  if (values['log-tag'] !== undefined && !LOG_TAG.test(values['log-tag'])) {
    process.stderr.write(`hbd: --log-tag "${values['log-tag']}" must be a name of letters, digits, "_", "." or "-" (at most 32)\n`);
    return 2;
  }
  const configDir = values['config-dir'] ?? '/etc/ha.d';
  const roots = {
    ...(values['resource-dir'] ? { resourceD: values['resource-dir'] } : {}),
    ...(values['init-dir'] ? { initD: values['init-dir'] } : {}),
  };
  const nodeName = values.node ?? hostname();
  if (values['http-listen'] !== undefined) {
    try {
      parseListen(values['http-listen']);
    } catch (err) {
      process.stderr.write(`hbd: ${(err as Error).message}\n`);
      return 2;
    }
  }

  let agentTimeoutMs: AgentTimeouts;
  try {
    agentTimeoutMs = parseAgentTimeouts(values['agent-timeout'] ?? '', DEFAULT_AGENT_TIMEOUTS);
  } catch (err) {
    process.stderr.write(`hbd: ${(err as Error).message}\n`);
    return 2;
  }

  if (values.test) {
    const r = loadConfig({ configDir, roots, nodeName });
    for (const w of [...r.notes, ...r.warnings]) process.stderr.write(`${JOURNAL ? '<4>' : ''}${formatIssue(w)}\n`);
    if (!r.ok) {
      for (const e of r.errors) process.stderr.write(`${JOURNAL ? '<3>' : ''}${formatIssue(e)}\n`);
      return 1;
    }
    process.stdout.write(`Configuration in ${configDir} is valid (digest ${r.config.digest}).\n`);
    return 0;
  }

  if (!values.foreground) return daemonise(argv, values['pid-file'] ?? '/run/heartbeat-ts/hbd.pid', { configDir, roots, nodeName });
  return runForeground(values, configDir, roots, nodeName, agentTimeoutMs);
}

// Plain `hbd` answers for the daemon it starts, as `hbd -f` does: it exits 0 only once the
// daemon is up, and otherwise non-zero with the daemon's reasons on stderr. The daemon tells
// it over a pipe (its fd HBD_READY_FD): the reasons it could not start, or READY once it runs.
const READY_FD_ENV = 'HBD_READY_FD';
const READY = 'hbd-ready\n';
/** Longer than any sane start (media, state dir, realtime, sockets); then the start has hung. */
const READY_TIMEOUT_MS = 60_000;
/** After the daemon exited, how long its last words may take to come through the pipe. */
const EXIT_DRAIN_MS = 1000;

type Startup = { kind: 'ready' } | { kind: 'exited'; code: number | null; signal: string | null; text: string } | { kind: 'timeout'; text: string };

async function daemonise(argv: string[], pidFile: string, check: { configDir: string; roots: { resourceD?: string; initD?: string }; nodeName: string }): Promise<number> {
  // A broken configuration is refused here, with the same lines as `hbd -f`, before anything starts.
  const r = loadConfig(check);
  if (!r.ok) {
    for (const e of [...r.errors, ...r.warnings]) process.stderr.write(`${formatIssue(e)}\n`);
    process.stderr.write('hbd: configuration not valid; not starting.\n');
    return 1;
  }
  // Node cannot fork(): start ourselves again in the foreground, detached from the terminal.
  const args = [...process.execArgv, process.argv[1] ?? '', ...argv, '--foreground', '--pid-file', pidFile].filter(Boolean);
  const child = spawn(process.execPath, args, {
    detached: true,
    // stdout/stderr stay /dev/null: the daemon and its address guard outlive us, and a write to
    // a pipe whose reader has exited would fail (EPIPE) just when the guard has to act.
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    env: { ...process.env, HBD_DAEMONISED: '1', [READY_FD_ENV]: '3' },
  });
  const outcome = await startupOf(child);
  child.unref();
  if (outcome.kind === 'ready') {
    process.stdout.write(`hbd started (pid ${child.pid}, pid file ${pidFile}).\n`);
    return 0;
  }
  if (outcome.text) process.stderr.write(outcome.text.endsWith('\n') ? outcome.text : `${outcome.text}\n`);
  if (outcome.kind === 'timeout') {
    // Half-started is the worst state to leave behind: no heartbeats yet, maybe a pid file.
    try {
      if (child.pid) process.kill(child.pid, 'SIGTERM');
    } catch {
      /* gone meanwhile */
    }
    process.stderr.write(`hbd: the daemon (pid ${child.pid}) was not up after ${READY_TIMEOUT_MS / 1000} s; stopped it (SIGTERM). See its log.\n`);
    return 1;
  }
  const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${outcome.code}`;
  process.stderr.write(`hbd: the daemon (pid ${child.pid}) ${how} before it was up; not started.\n`);
  return outcome.code || 1;
}

/** Waits for the daemon's READY, its exit (with what it said), or the timeout. */
function startupOf(child: ChildProcess): Promise<Startup> {
  const pipe = child.stdio[3] as Readable | null | undefined;
  return new Promise((resolve) => {
    let text = '';
    let done = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (s: Startup): void => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      pipe?.destroy();
      resolve(s);
    };
    timers.push(setTimeout(() => finish({ kind: 'timeout', text }), READY_TIMEOUT_MS));
    let exit: { code: number | null; signal: string | null } | null = null;
    const exited = (): void => {
      if (exit) finish({ kind: 'exited', ...exit, text });
    };
    pipe?.setEncoding('utf8');
    pipe?.on('data', (chunk: string) => {
      text += chunk;
      if (text.endsWith(READY)) finish({ kind: 'ready' });
    });
    pipe?.on('error', () => undefined);
    // Its reasons may still be in the pipe when the exit is reported: read to the end first.
    pipe?.on('close', exited);
    child.once('error', (err) => finish({ kind: 'exited', code: null, signal: null, text: `hbd: cannot start the daemon: ${err.message}` }));
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      if (!pipe || pipe.destroyed) exited();
      else timers.push(setTimeout(exited, EXIT_DRAIN_MS));
    });
  });
}

/** In the daemon started by a plain `hbd`: the pipe its parent waits on; null otherwise. */
let startupPipe = openStartupPipe();

function openStartupPipe(): number | null {
  const fd = Number(process.env[READY_FD_ENV]);
  delete process.env[READY_FD_ENV];
  if (process.env.HBD_DAEMONISED !== '1' || !Number.isInteger(fd) || fd < 3) return null;
  try {
    // Only the pipe our parent made (libuv makes it a socketpair): never write to, or close, a
    // descriptor of anything else. Node marks it close-on-exec, so the address guard, the
    // logger and resource scripts do not inherit it (test/daemon/startup.test.ts checks).
    const st = fstatSync(fd);
    return st.isSocket() || st.isFIFO() ? fd : null;
  } catch {
    return null;
  }
}

/** Writes to the waiting parent, if there is one (only plain `hbd`'s daemon has one). */
function tellParent(text: string): void {
  if (startupPipe === null) return;
  try {
    writeSync(startupPipe, text);
  } catch {
    /* the parent is gone: nobody left to tell */
  }
}

/** Whether stderr is journald's: then each line carries its priority, `<3>` (err) here. */
const JOURNAL = isJournalStream();

/** A reason the daemon cannot start: on stderr (hbd -f) and to the waiting parent (hbd). */
function say(text: string): void {
  process.stderr.write(JOURNAL ? text.replace(/^(?=.)/gm, '<3>') : text);
  tellParent(text);
}

/** The daemon runs: let the parent exit 0, and keep no descriptor of its pipe. */
function startupDone(): void {
  if (startupPipe === null) return;
  tellParent(READY);
  try {
    closeSync(startupPipe);
  } catch {
    /* already unusable */
  }
  startupPipe = null;
}

async function runForeground(
  values: Record<string, string | boolean | undefined>,
  configDir: string,
  roots: { resourceD?: string; initD?: string },
  nodeName: string,
  agentTimeoutMs: AgentTimeouts,
): Promise<number> {
  // What ps, pidof, netstat -p and monitoring checks find a Heartbeat by (see lib/proc-title.ts).
  const title = setProcessTitle(['heartbeat: master control process', 'heartbeat: master', 'heartbeat'], 'heartbeat');
  const loaded = Daemon.load({
    configDir,
    roots,
    nodeName,
    stateDir: String(values['state-dir']),
    agentTimeoutMs,
    agentTimeoutsGiven: values['agent-timeout'] !== undefined,
    foreground: process.env.HBD_DAEMONISED !== '1',
    ...(typeof values['local-address'] === 'string' ? { localAddress: values['local-address'] } : {}),
    ...(typeof values['syslog-socket'] === 'string' ? { syslogSocket: values['syslog-socket'] } : {}),
    ...(typeof values['log-tag'] === 'string' ? { logTag: values['log-tag'] } : {}),
    ...(values.witness === true ? { witness: true } : {}),
  });
  if ('errors' in loaded) {
    for (const e of loaded.errors) say(`${e}\n`);
    say('hbd: configuration not valid; not starting.\n');
    return 1;
  }
  const daemon = loaded.daemon;
  if (!title.fitted) daemon.log.debug(`process title cut to "${title.title}" (the command line hbd was started with is shorter); command name "${title.comm}"`);
  // ha.cf `realtime` (on by default, as in Heartbeat): SCHED_RR before the first heartbeat.
  await applyRealtime(daemon.clusterConfig.ha, daemon.log);
  const pidFile = typeof values['pid-file'] === 'string' ? values['pid-file'] : null;
  if (pidFile) {
    mkdirSync(dirname(pidFile), { recursive: true });
    writeFileSync(pidFile, `${process.pid}\n`);
  }
  // Two sockets, one protocol (see control/server.ts): the kernel lets only root and
  // --control-group connect to the full one, and --status-group to the read-only one.
  let controlGid: number | null;
  let statusGid: number | null;
  try {
    controlGid = groupId('control', values['control-group']);
    statusGid = groupId('status', values['status-group']);
  } catch (err) {
    say(`hbd: ${(err as Error).message}\n`);
    return 1;
  }
  const handler: ControlHandler = (req) => {
    switch (req.cmd) {
      case 'status':
        return daemon.view.snapshot();
      case 'info':
        return classicInfo(daemon.clusterConfig.ha, packageVersion());
      case 'standby':
      case 'takeover':
        daemon.dispatch({ kind: req.cmd, scope: req.scope });
        return { accepted: true, scope: req.scope };
      case 'clear': {
        const groups = groupsToClear(daemon.view.snapshot(), req.group);
        daemon.dispatch({ kind: 'clear', groups });
        return { accepted: true, groups };
      }
    }
  };
  const controlPath = String(values['control-socket']);
  const controls = [
    new ControlServer(controlPath, handler, { gid: controlGid }),
    new ControlServer(statusSocketPath(controlPath), handler, { gid: statusGid, readOnly: true }),
  ];
  const closeControls = () => Promise.all(controls.map((c) => c.close()));

  // HTTP API (off unless http_listen or --http-listen): made before start so it sees every effect.
  const httpListen = typeof values['http-listen'] === 'string' ? values['http-listen'] : daemon.clusterConfig.ha.ext.httpListen;
  const httpTokenFile = typeof values['http-token-file'] === 'string' ? values['http-token-file'] : daemon.clusterConfig.ha.ext.httpTokenFile;
  const http = httpListen
    ? new HttpApi({ listen: httpListen, tokenFile: httpTokenFile, view: daemon.view, config: daemon.clusterConfig, dispatch: (ev) => daemon.dispatch(ev), clear: (groups) => daemon.dispatch({ kind: 'clear', groups }), log: daemon.log })
    : null;

  try {
    await daemon.start();
    for (const c of controls) await c.listen();
  } catch (err) {
    daemon.log.crit(`hbd could not start: ${(err as Error).message}`);
    // The line above is on stderr already with -f; the parent of a plain `hbd` needs it too.
    tellParent(`hbd: could not start: ${(err as Error).message}\n`);
    await closeControls();
    await daemon.abort();
    await daemon.log.close();
    return 1;
  }

  // Under systemd (Type=notify): READY=1 once started, STATUS= lines that follow the cluster.
  const manager = ServiceManager.fromEnv((message) => daemon.log.warn(`cannot tell systemd: ${message}`));
  let stopping = false;
  const stop = () => {
    if (stopping) {
      daemon.log.warn('Second stop signal: exiting without releasing resources.');
      process.exit(1);
    }
    stopping = true;
    void manager?.stopping();
    daemon.shutdown();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // systemd waits for READY=1 after RELOADING=1: sent once the reload is applied or refused.
  process.on('SIGHUP', () => {
    void manager?.reloading();
    void daemon.reload().finally(() => void manager?.reloaded(statusLine(daemon.view.snapshot())));
  });
  // The cluster matters more than its dashboard: a busy port is logged, and hbd runs on without it.
  await http?.listen().catch((err: Error) => daemon.log.error(`HTTP API could not listen on ${httpListen}: ${err.message}; running without it.`));
  startupDone();
  const unfollow = manager ? followView(manager, (l) => daemon.view.onUpdate((_, state) => l(statusLineInputs(state))), () => daemon.view.snapshot()) : () => undefined;
  void manager?.ready(statusLine(daemon.view.snapshot()));

  await daemon.exited;
  unfollow();
  await http?.close();
  await closeControls();
  await daemon.log.close();
  if (pidFile) {
    try {
      unlinkSync(pidFile);
    } catch {
      /* gone */
    }
  }
  return 0;
}

Promise.resolve(main(process.argv.slice(2))).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    say(`hbd: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
