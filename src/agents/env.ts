// The environment a resource script sees: built from nothing, so that whatever hbd itself was
// started with (a unit file's Environment=, an operator's shell with API tokens or proxy
// passwords) never reaches a script. The names are Heartbeat 3.0.6's — exported by the daemon
// (heartbeat.c, config.c, hb_resource.c) and ResourceManager — with the same meanings, so
// scripts written for it keep working; README's "Resource agents" lists them.
import { join, resolve } from 'node:path';

export const HA_DIR_DEFAULT = '/etc/ha.d';

/**
 * A fixed PATH: hbd's own PATH may name directories others can write to (or a user's ~/bin
 * when started by hand), and a script's `ip` or `service` must be the system's.
 */
export const AGENT_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * What every child of the agents layer starts from, scripts and built-in commands alike.
 * ResourceManager unsets LC_ALL and LANGUAGE so that tools print parseable English; with no
 * inherited locale at all, C says the same thing explicitly.
 */
export function baseEnv(): NodeJS.ProcessEnv {
  return { PATH: AGENT_PATH, LANG: 'C', LC_ALL: 'C' };
}

/** ha.cf's logging directives (null: not set), exported as Heartbeat exports them. */
export interface ScriptLogging {
  logfile: string | null;
  debugfile: string | null;
  logfacility: string | null;
}

export interface ScriptEnvOptions {
  nodeName: string;
  /** hbd's --config-dir (default /etc/ha.d); made absolute, since scripts may chdir. */
  configDir?: string;
  /** hbd's --resource-dir (default CONFIG-DIR/resource.d). */
  resourceDir?: string;
  logging?: ScriptLogging;
  /** hbd's own additions for this call (HA_ARBITER_REVISION under the etcd arbiter). */
  extra?: Record<string, string>;
}

export function scriptEnv(opts: ScriptEnvOptions): NodeJS.ProcessEnv {
  const haDir = resolve(opts.configDir ?? HA_DIR_DEFAULT);
  const env: NodeJS.ProcessEnv = {
    ...baseEnv(),
    HA_CURHOST: opts.nodeName,
    HA_DIR: haDir,
    HA_FUNCS: join(haDir, 'shellfuncs'),
    HA_RESOURCEDIR: resolve(opts.resourceDir ?? join(haDir, 'resource.d')),
    HA_DATEFMT: '%Y/%m/%d_%T\t',
    HA_LOGD: 'no',
    HA_cluster_type: 'heartbeat',
    OCF_ROOT: '/usr/lib/ocf',
  };
  // Heartbeat sets these only when ha.cf has them (and no facility for `logfacility none`).
  const log = opts.logging;
  if (log?.logfile) env.HA_LOGFILE = log.logfile;
  if (log?.debugfile) env.HA_DEBUGLOG = log.debugfile;
  if (log?.logfacility) env.HA_LOGFACILITY = log.logfacility;
  return { ...env, ...opts.extra };
}
