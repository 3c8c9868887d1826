// The environment a resource script sees. Heartbeat 3.0.6 exports these from the daemon
// (heartbeat.c, config.c, hb_resource.c) and ResourceManager's shellfuncs; scripts written
// for it may read any of them, so we export the same names with the same meanings.

export const HA_DIR_DEFAULT = '/etc/ha.d';

export interface ScriptEnvOptions {
  nodeName: string;
  /** Applied last: HA_LOGFILE, HA_DEBUGLOG, HA_LOGFACILITY, HA_NICEFAILBACK, `env` of ha.cf... */
  extra?: Record<string, string>;
  base?: NodeJS.ProcessEnv;
}

export function scriptEnv(opts: ScriptEnvOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...(opts.base ?? process.env) };
  // ResourceManager unsets these so that tools like ifconfig print parseable (English) text.
  delete env.LC_ALL;
  delete env.LANGUAGE;
  const haDir = opts.extra?.HA_DIR ?? HA_DIR_DEFAULT;
  Object.assign(env, {
    HA_CURHOST: opts.nodeName,
    HA_DIR: haDir,
    HA_FUNCS: `${haDir}/shellfuncs`,
    HA_RESOURCEDIR: `${haDir}/resource.d`,
    HA_DATEFMT: '%Y/%m/%d_%T\t',
    HA_LOGD: 'no',
    HA_cluster_type: 'heartbeat',
    OCF_ROOT: '/usr/lib/ocf',
    PATH: env.PATH || '/usr/sbin:/usr/bin:/sbin:/bin',
  });
  return Object.assign(env, opts.extra ?? {});
}
