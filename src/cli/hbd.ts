#!/usr/bin/env node
// hbd: the heartbeat-ts daemon. `hbd -f` runs in the foreground; plain `hbd` daemonises and
// writes a pid file; `hbd -t` only validates the configuration.
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { loadConfig } from '../config/load.js';
import { formatIssue } from '../config/issues.js';
import { Daemon } from '../daemon/daemon.js';
import { applyRealtime } from '../daemon/scheduling.js';
import { ControlServer, type ControlHandler } from '../control/server.js';
import { DEFAULT_CONTROL_SOCKET, statusSocketPath } from '../control/protocol.js';
import { HttpApi, parseListen } from '../control/http.js';

const USAGE = `usage: hbd [options]

  -f, --foreground          stay in the foreground, log to stderr too
  -t, --test                validate the configuration and exit (0 valid, 1 not)
  --config-dir DIR          where ha.cf, authkeys, haresources are (default /etc/ha.d)
  --resource-dir DIR        resource.d scripts (default CONFIG-DIR/resource.d)
  --init-dir DIR            init scripts (default /etc/init.d)
  --node NAME               this node's name (default: uname -n)
  --state-dir DIR           generation and uuid (default /var/lib/heartbeat-ts)
  --control-socket PATH     control socket (default ${DEFAULT_CONTROL_SOCKET}); a read-only
                            status socket is made next to it (hbd.sock -> hbd-status.sock)
  --control-group GROUP     also let this group use the control socket (mode 0660): status,
                            standby, takeover
  --status-group GROUP      let this group use the read-only status socket (mode 0660)
  --local-address ADDR      the address this node's media bind to (several nodes on one host)
  --pid-file PATH           pid file (default /run/heartbeat-ts/hbd.pid when daemonised)
  --syslog-socket PATH      syslog socket for logfacility (default /dev/log)
  --http-listen ADDR:PORT   serve the HTTP status API, metrics and dashboard (overrides
                            ha.cf http_listen; port 0 picks a free port and logs it)
  --http-token-file PATH    bearer token for POST /standby and /takeover (overrides ha.cf
                            http_token_file; must be mode 600)
`;

function main(argv: string[]): number | Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        foreground: { type: 'boolean', short: 'f', default: false },
        test: { type: 'boolean', short: 't', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        'config-dir': { type: 'string', default: '/etc/ha.d' },
        'resource-dir': { type: 'string' },
        'init-dir': { type: 'string' },
        node: { type: 'string' },
        'state-dir': { type: 'string', default: '/var/lib/heartbeat-ts' },
        'control-socket': { type: 'string', default: DEFAULT_CONTROL_SOCKET },
        'control-group': { type: 'string' },
        'status-group': { type: 'string' },
        'local-address': { type: 'string' },
        'pid-file': { type: 'string' },
        'http-listen': { type: 'string' },
        'http-token-file': { type: 'string' },
        'syslog-socket': { type: 'string' },
      },
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

  if (values.test) {
    const r = loadConfig({ configDir, roots, nodeName });
    for (const w of r.warnings) process.stderr.write(`${formatIssue(w)}\n`);
    if (!r.ok) {
      for (const e of r.errors) process.stderr.write(`${formatIssue(e)}\n`);
      return 1;
    }
    process.stdout.write(`Configuration in ${configDir} is valid (digest ${r.config.digest}).\n`);
    return 0;
  }

  if (!values.foreground) {
    // Node cannot fork(): start ourselves again in the foreground, detached from the terminal.
    const pidFile = values['pid-file'] ?? '/run/heartbeat-ts/hbd.pid';
    const args = [...process.execArgv, process.argv[1] ?? '', ...argv, '--foreground', '--pid-file', pidFile].filter(Boolean);
    const child = spawn(process.execPath, args, { detached: true, stdio: 'ignore', env: { ...process.env, HBD_DAEMONISED: '1' } });
    child.unref();
    process.stdout.write(`hbd started (pid ${child.pid}, pid file ${pidFile}).\n`);
    return 0;
  }
  return runForeground(values, configDir, roots, nodeName);
}

async function runForeground(
  values: Record<string, string | boolean | undefined>,
  configDir: string,
  roots: { resourceD?: string; initD?: string },
  nodeName: string,
): Promise<number> {
  const loaded = Daemon.load({
    configDir,
    roots,
    nodeName,
    stateDir: String(values['state-dir']),
    foreground: process.env.HBD_DAEMONISED !== '1',
    ...(typeof values['local-address'] === 'string' ? { localAddress: values['local-address'] } : {}),
    ...(typeof values['syslog-socket'] === 'string' ? { syslogSocket: values['syslog-socket'] } : {}),
  });
  if ('errors' in loaded) {
    for (const e of loaded.errors) process.stderr.write(`${e}\n`);
    process.stderr.write('hbd: configuration not valid; not starting.\n');
    return 1;
  }
  const daemon = loaded.daemon;
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
    process.stderr.write(`hbd: ${(err as Error).message}\n`);
    return 1;
  }
  const handler: ControlHandler = (req) => {
    switch (req.cmd) {
      case 'status':
        return daemon.view.snapshot();
      case 'standby':
      case 'takeover':
        daemon.dispatch({ kind: req.cmd, scope: req.scope });
        return { accepted: true, scope: req.scope };
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
    ? new HttpApi({ listen: httpListen, tokenFile: httpTokenFile, view: daemon.view, config: daemon.clusterConfig, dispatch: (ev) => daemon.dispatch(ev), log: daemon.log })
    : null;

  try {
    await daemon.start();
    for (const c of controls) await c.listen();
  } catch (err) {
    daemon.log.crit(`hbd could not start: ${(err as Error).message}`);
    await closeControls();
    await daemon.abort();
    await daemon.log.close();
    return 1;
  }

  let stopping = false;
  const stop = () => {
    if (stopping) {
      daemon.log.warn('Second stop signal: exiting without releasing resources.');
      process.exit(1);
    }
    stopping = true;
    daemon.shutdown();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => daemon.reload());
  // The cluster matters more than its dashboard: a busy port is logged, and hbd runs on without it.
  await http?.listen().catch((err: Error) => daemon.log.error(`HTTP API could not listen on ${httpListen}: ${err.message}; running without it.`));

  await daemon.exited;
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

/** A group named on the command line as a gid, or null when not given; throws when unknown. */
function groupId(what: string, group: string | boolean | undefined): number | null {
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

Promise.resolve(main(process.argv.slice(2))).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`hbd: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
