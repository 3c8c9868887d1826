// What ha.cf says about the etcd arbiter (issue 20): `arbiter etcd`, `arbiter_endpoints`,
// `arbiter_tls_ca`, `arbiter_tls_cert`, `arbiter_tls_key`, `arbiter_prefix`, `arbiter_ttl`.
// Kept apart from types.ts so that each concern reads alone; read by hacf-arbiter.ts.

export interface ArbiterCf {
  /** `arbiter etcd`: each resource group is owned by the node holding its etcd key. */
  kind: 'etcd';
  line: number;
  /** etcd's client URLs (http://HOST:PORT or https://HOST:PORT), any member of the cluster. */
  endpoints: string[];
  /** PEM files: the CA that signed etcd's certificates; our client certificate and its key (both or neither). */
  tls: { ca: string | null; cert: string | null; key: string | null };
  /** Where our keys live in etcd: PREFIX/nodes/NODE and PREFIX/groups/GROUP. One prefix per cluster. */
  prefix: string;
  /** The etcd lease's TTL (whole seconds, in ms): how long etcd keeps a silent node's keys. */
  ttlMs: number;
}

export const ARBITER_DEFAULTS = { endpoints: ['http://127.0.0.1:2379'], prefix: '/heartbeat-ts/', ttlMs: 10_000 };
