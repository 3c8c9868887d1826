// heartbeat-ts with the etcd arbiter (ha.cf `arbiter etcd`), for the failover benchmark next to
// plain heartbeats: the same two nodes and VIP, plus a real 3-member etcd (Debian's
// etcd-server) on a host of the testbed's LAN, started once (test/helpers/etcd.ts) and removed
// with the testbed. The group moves once etcd has expired the dead owner's lease: the TTL, not
// the deadtime, is the timer the standby acts after.
import { EtcdCluster, etcdMissing } from '../../test/helpers/etcd.js';
import { hbd } from './hbd-system.js';
import type { System } from './system.js';

/** The lease TTL, and agent timeouts short enough for hbd's start-up check (stop time 2 s < TTL − margin − 2 keep-alives). */
export const ARBITER_TTL_S = 4;
const AGENT_TIMEOUTS = 'start=1,stop=1,status=1';

export function hbdEtcd(): System {
  const base = hbd({ key: 'hbd-etcd', label: `heartbeat-ts, etcd arbiter (TTL ${ARBITER_TTL_S} s)`, args: ['--agent-timeout', AGENT_TIMEOUTS] });
  let etcd: EtcdCluster | null = null;
  return {
    ...base,
    missing: () => base.missing() ?? etcdMissing(),
    detectionMs: () => ARBITER_TTL_S * 1000,
    timerNote: (t) => `${base.timerNote(t)}; arbiter_ttl ${ARBITER_TTL_S} s, --agent-timeout ${AGENT_TIMEOUTS}; a 3-member etcd 3.4 on a third host`,
    async prepare(tb, spec) {
      const missing = etcdMissing();
      if (missing) throw new Error(missing);
      if (!etcd) {
        await tb.lan.addHost('etcd', 150);
        etcd = new EtcdCluster(tb.lan, 'etcd');
        await etcd.start();
      }
      const lines = ['arbiter etcd', `arbiter_endpoints ${etcd.endpoints.join(' ')}`, `arbiter_ttl ${ARBITER_TTL_S}`, `arbiter_prefix /bench-${Date.now()}/`];
      await base.prepare(tb, { ...spec, extraHaCf: [...(spec.extraHaCf ?? []), ...lines] });
    },
    // The survivor's own line when it takes the group: it holds the key.
    deadPattern: () => /arbiter: we hold the etcd key of group/,
  };
}
