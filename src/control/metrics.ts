// Prometheus metrics for /metrics, with prom-client. Counters the daemon keeps in its
// ClusterView (packets, heartbeats, deaths) are read at scrape time; transitions and agent
// call durations are fed from the view's hooks as they happen; gauges (who is up, who owns
// what, drift) are computed from a status snapshot at scrape time, so they are never stale.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ClusterView } from '../status/cluster-view.js';
import type { StatusSnapshot } from '../status/snapshot.js';
import type { ClusterConfig } from '../config/types.js';

/** View counter name -> metric name, help and label names (in the order the daemon counts them). */
const VIEW_COUNTERS: { key: string; name: string; help: string; labels: string[] }[] = [
  { key: 'heartbeats_sent', name: 'hbd_heartbeats_sent_total', help: 'Heartbeats (status messages) sent, per link.', labels: ['link'] },
  { key: 'heartbeats_received', name: 'hbd_heartbeats_received_total', help: 'Verified, non-replayed packets received, per sending node and link.', labels: ['node', 'link'] },
  { key: 'late_heartbeats', name: 'hbd_late_heartbeats_total', help: 'Silences of a node longer than warntime (late heartbeats), per node.', labels: ['node'] },
  { key: 'node_deaths', name: 'hbd_node_deaths_total', help: 'Times a node was declared dead (silence or shutdown notice), per node.', labels: ['node'] },
  { key: 'auth_failures', name: 'hbd_auth_failures_total', help: 'Packets dropped because their signature did not verify with any key of authkeys.', labels: [] },
  { key: 'malformed_packets', name: 'hbd_malformed_packets_total', help: 'Packets dropped because they could not be parsed.', labels: [] },
  { key: 'replayed_packets', name: 'hbd_replayed_packets_total', help: 'Signed packets dropped as replays (old sequence number or generation).', labels: [] },
  { key: 'foreign_packets', name: 'hbd_foreign_packets_total', help: 'Signed packets dropped because their sender is not a node of ha.cf.', labels: [] },
  { key: 'monitor_failures', name: 'hbd_monitor_failures_total', help: 'Failed checks of a monitored resource on this node (ha.cf monitor), per group and resource.', labels: ['group', 'resource'] },
  { key: 'monitor_restarts', name: 'hbd_monitor_restarts_total', help: 'Restarts of a resource on this node after failed checks, per group and resource.', labels: ['group', 'resource'] },
  { key: 'internal_errors', name: 'hbd_internal_errors_total', help: 'Packets whose handling raised an internal error (a bug: please report it).', labels: [] },
];

/** Buckets for agent calls: a VIP takes milliseconds, a database start can take a minute. */
const AGENT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** Buckets for cloud API calls: tens of milliseconds when well, up to the call timeout when not. */
const CLOUD_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** How often the event-loop lag metric samples (ms). */
const LAG_SAMPLE_MS = 100;

export class Metrics {
  readonly registry = new Registry();
  readonly httpAuthFailures: Counter<string>;
  readonly sseClients: Gauge<string>;

  constructor(
    private readonly view: ClusterView,
    config: ClusterConfig,
    opts: { defaultMetrics?: boolean; version?: string } = {},
  ) {
    const reg = this.registry;
    const counters = () => this.snapshot()?.counters ?? {};

    for (const c of VIEW_COUNTERS) {
      new Counter({
        name: c.name,
        help: c.help,
        labelNames: c.labels,
        registers: [reg],
        collect() {
          this.reset();
          for (const [key, value] of Object.entries(counters())) {
            const labels = parseKey(key, c.key, c.labels);
            if (labels) {
              if (c.labels.length) this.inc(labels, value);
              else this.inc(value);
            }
          }
          // Label-less counters show 0 from the start, so a rate() never misses the first event.
          if (c.labels.length === 0) this.inc(0);
        },
      });
    }

    const failovers = new Counter({ name: 'hbd_failovers_total', help: 'Resource groups this node took over from a node that is not their preferred node (or that died).', labelNames: ['group'], registers: [reg] });
    const failbacks = new Counter({ name: 'hbd_failbacks_total', help: 'Resource groups this node, their preferred node, took back (auto_failback).', labelNames: ['group'], registers: [reg] });
    const transitions = new Counter({ name: 'hbd_group_transitions_total', help: 'Resource group transitions on this node, by kind (takeover, failback, acquired, release, standby, start_failed, stop_failed).', labelNames: ['group', 'what'], registers: [reg] });
    for (const g of config.groups) {
      failovers.inc({ group: g.id }, 0);
      failbacks.inc({ group: g.id }, 0);
    }
    // The core's classification (its transition effect): a preferred node taking its group back from another is a failback.
    view.onUpdate(() => {
      for (const t of view.lastTransitions) {
        const group = t.groupId;
        transitions.inc({ group, what: t.what.replace('-', '_') });
        if (t.what === 'takeover') failovers.inc({ group });
        if (t.what === 'failback') failbacks.inc({ group });
      }
    });

    const agentDuration = new Histogram({
      name: 'hbd_agent_call_duration_seconds',
      help: 'Duration of resource agent calls, per resource and action (start, stop, status) and result.',
      labelNames: ['resource', 'action', 'result'],
      buckets: AGENT_BUCKETS,
      registers: [reg],
    });
    view.onAgentCall((resource, action, ms, ok) => agentDuration.observe({ resource, action, result: ok ? 'ok' : 'failed' }, ms / 1000));

    // Cloud IP agents: every attempt of every API call (retries included), so a slow or
    // failing provider shows before a takeover needs it. Labels never carry a token or address.
    const apiDuration = new Histogram({
      name: 'hbd_cloud_api_call_duration_seconds',
      help: 'Duration of cloud API and metadata calls by the cloud IP agents (each attempt), per provider, operation and result (ok or why it failed).',
      labelNames: ['provider', 'operation', 'result'],
      buckets: CLOUD_BUCKETS,
      registers: [reg],
    });
    const apiFailures = new Counter({
      name: 'hbd_cloud_api_failures_total',
      help: 'Cloud API and metadata calls that failed (each attempt), per provider, operation and reason (unauthorized, forbidden, not_found, invalid, rate_limited, server_error, timeout, network, bad_answer, action_failed).',
      labelNames: ['provider', 'operation', 'reason'],
      registers: [reg],
    });
    const clouds = new Set(config.groups.flatMap((g) => g.resources.flatMap((r) => (r.agent.kind === 'cloud' ? [r.agent.cloud.provider] : []))));
    for (const provider of clouds) apiFailures.inc({ provider, operation: 'assign', reason: 'server_error' }, 0);
    view.onCloudApiCall((c) => {
      apiDuration.observe({ provider: c.provider, operation: c.operation, result: c.result }, c.ms / 1000);
      if (c.result !== 'ok') apiFailures.inc({ provider: c.provider, operation: c.operation, reason: c.result });
    });

    const snap = () => this.snapshot();
    new Gauge({
      name: 'hbd_nodes_up',
      help: 'Nodes alive (up or active) in this node\'s view, itself included.',
      registers: [reg],
      collect() {
        const s = snap();
        this.set(s ? s.nodes.filter((n) => n.status === 'up' || n.status === 'active').length : 0);
      },
    });
    new Gauge({
      name: 'hbd_node_up',
      help: '1 when the node is alive (up or active) in this node\'s view, else 0.',
      labelNames: ['node'],
      registers: [reg],
      collect() {
        this.reset();
        for (const n of snap()?.nodes ?? []) this.set({ node: n.name }, n.status === 'up' || n.status === 'active' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'hbd_link_up',
      help: '1 when heartbeats from the node arrive over the link, else 0.',
      labelNames: ['node', 'link'],
      registers: [reg],
      collect() {
        this.reset();
        for (const n of snap()?.nodes ?? []) for (const l of n.links) this.set({ node: n.name, link: l.name }, l.up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'hbd_ping_node_up',
      help: '1 when the ping node (or ping group) answers this node\'s ICMP echoes, else 0 (ha.cf ping, ping_group; dead after deadping).',
      labelNames: ['ping_node'],
      registers: [reg],
      collect() {
        this.reset();
        for (const p of snap()?.pingNodes ?? []) this.set({ ping_node: p.name }, p.status === 'ping' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'hbd_group_owner',
      help: '1 for the node that runs the resource group (phase running), 0 for the other nodes.',
      labelNames: ['group', 'node'],
      registers: [reg],
      collect() {
        this.reset();
        for (const g of snap()?.groups ?? []) for (const n of config.ha.nodes) this.set({ group: g.id, node: n }, g.owner === n ? 1 : 0);
      },
    });
    new Gauge({
      name: 'hbd_group_running',
      help: '1 when some live node runs the resource group, else 0.',
      labelNames: ['group'],
      registers: [reg],
      collect() {
        this.reset();
        for (const g of snap()?.groups ?? []) this.set({ group: g.id }, g.owner ? 1 : 0);
      },
    });
    new Gauge({
      name: 'hbd_group_kept_out',
      help: '1 when this node keeps out of the resource group after failed monitors (until hbctl clear or its keepout time), else 0.',
      labelNames: ['group'],
      registers: [reg],
      collect() {
        this.reset();
        for (const g of snap()?.groups ?? []) this.set({ group: g.id }, g.monitor?.keptOut ? 1 : 0);
      },
    });
    new Gauge({
      name: 'hbd_config_drift',
      help: '1 when the node advertises a config digest that differs from this node\'s.',
      labelNames: ['node'],
      registers: [reg],
      collect() {
        this.reset();
        const s = snap();
        for (const n of config.ha.nodes) if (n !== view.me) this.set({ node: n }, s?.drift.includes(n) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'hbd_info',
      help: 'Always 1; labels say which node this is, its version and config digest.',
      labelNames: ['node', 'version', 'digest'],
      registers: [reg],
      collect() {
        this.reset();
        this.set({ node: view.me, version: opts.version ?? 'unknown', digest: config.digest.slice(0, 16) }, 1);
      },
    });

    this.httpAuthFailures = new Counter({ name: 'hbd_http_auth_failures_total', help: 'HTTP API requests refused for a missing or wrong bearer token.', registers: [reg] });
    this.sseClients = new Gauge({ name: 'hbd_http_event_clients', help: 'Dashboards connected to /events.', registers: [reg] });
    // The event-loop lag histogram samples on a timer of its own: prom-client's 10 ms woke an
    // idle hbd 100 times a second (0.35 % of a core by itself, more than hbd's heartbeats at
    // keepalive 1 s); every 100 ms still sees any stall that matters to a heartbeat.
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: reg, prefix: 'hbd_', eventLoopMonitoringPrecision: LAG_SAMPLE_MS });
  }

  private cached: { at: number; s: StatusSnapshot | null } = { at: -1, s: null };

  /** One snapshot per scrape, shared by every collect(). */
  private snapshot(): StatusSnapshot | null {
    const now = Date.now();
    if (now - this.cached.at > 50) {
      try {
        this.cached = { at: now, s: this.view.snapshot() };
      } catch {
        this.cached = { at: now, s: null }; // not started yet
      }
    }
    return this.cached.s;
  }

  async render(): Promise<{ contentType: string; body: string }> {
    this.cached.at = -1;
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** `name{a,b}` -> {label: a, ...} for the view counter `name`; null for other counters. */
function parseKey(key: string, name: string, labels: string[]): Record<string, string> | null {
  if (labels.length === 0) return key === name ? {} : null;
  if (!key.startsWith(`${name}{`) || !key.endsWith('}')) return null;
  const values = key.slice(name.length + 1, -1).split(',');
  if (values.length !== labels.length) return null;
  return Object.fromEntries(labels.map((l, i) => [l, values[i] ?? '']));
}
