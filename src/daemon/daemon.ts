// The daemon's port to the node runtime (runtime/runtime.ts): real sockets, the monotonic
// clock, one timer, child processes for agents, the logs, the address guard. Which packets are
// news, what to send and when to wake are the runtime's; everything else is decided in core/.
import { performance } from 'node:perf_hooks';
import { loadConfig, type LoadOptions } from '../config/load.js';
import { formatIssue } from '../config/issues.js';
import type { ClusterConfig } from '../config/types.js';
import { effectiveLogFacility } from '../config/hacf-defaults.js';
import { packageVersion } from '../lib/version.js';
import type * as Node from '../core/node.js';
import { runResource, type AgentContext, type AgentLogTag } from '../agents/index.js';
import { createTransports } from '../media/index.js';
import type { Transport } from '../media/transport.js';
import { sign, verify } from '../wire/auth.js';
import type { HbMessage } from '../wire/message.js';
import { createLogger, DEFAULT_IDENT, logAs, type DaemonLogger } from './log.js';
import { RateLimiter } from '../lib/ratelimit.js';
import { clip } from '../lib/clip.js';
import { loadIdentity } from './state-dir.js';
import { AddressGuard } from './guard.js';
import { GroupAddresses } from './group-addresses.js';
import { ClusterView } from '../status/cluster-view.js';
import { NodeRuntime } from '../runtime/runtime.js';
import type { AgentCall, NodePort } from '../runtime/port.js';
import type { Incoming } from '../wire/messages.js';

export interface DaemonOptions extends LoadOptions {
  /** This node's name (default `uname -n`). */
  nodeName: string;
  stateDir: string;
  /** For several daemons on one host (127.0.0.x): the address this node's media bind to. */
  localAddress?: string;
  foreground: boolean;
  /** Agent call timeouts. */
  agentTimeoutMs?: { start: number; stop: number; status: number };
  /** Injected for tests; default: a logger built from ha.cf. */
  logger?: DaemonLogger;
  /** Tag of the daemon's log lines (hbd --log-tag); beats ha.cf's `log_tag`. Default `heartbeat`. */
  logTag?: string;
  /** The syslog socket for logfacility (default /dev/log). */
  syslogSocket?: string;
  /** Remove our virtual IPs if hbd dies without a goodbye (default on). */
  addressGuard?: boolean;
}

/** The sending host of a packet ("10.0.0.2:694" -> "10.0.0.2"; a serial device as it is): a new source port is no new source. */
const sourceOf = (from: string): string => from.replace(/:\d+$/, '');

export const DEFAULT_AGENT_TIMEOUTS = { start: 60_000, stop: 60_000, status: 20_000 };

/** Heartbeat's `ts` field: wall-clock seconds (liveness itself runs on the monotonic clock). */
const wallSeconds = (): number => Math.floor(Date.now() / 1000);

export class Daemon {
  private config: ClusterConfig;
  /** Set once start() has the guard ready and leftovers removed; packets before that are dropped. */
  private runtime!: NodeRuntime;
  private transports: Transport[] = [];
  /** Once per source per minute, and at most 30 lines a minute in all: a flood from many addresses must not fill the disk. */
  private readonly warnLimiter = new RateLimiter({ windowMs: 60_000, maxPerWindow: 30 });
  private guard: AddressGuard | null = null;
  /** The copy of each virtual IP its resource last reported (by "group:resource"). */
  private readonly addresses: GroupAddresses;
  private timer: NodeJS.Timeout | null = null;
  readonly log: DaemonLogger;
  /** The tag of our own lines; with the default one, resource lines get Heartbeat's tags too. */
  private readonly logTag: string;
  readonly view: ClusterView;
  private exitResolve: (() => void) | null = null;
  readonly exited: Promise<void>;

  constructor(
    config: ClusterConfig,
    private readonly opts: DaemonOptions,
  ) {
    this.config = config;
    this.logTag = opts.logTag ?? config.ha.ext.logTag ?? DEFAULT_IDENT;
    this.log =
      opts.logger ??
      createLogger({
        ident: this.logTag,
        logfile: config.ha.logfile,
        debugfile: config.ha.debugfile,
        logfacility: effectiveLogFacility(config.ha),
        debugLevel: config.ha.debug,
        foreground: opts.foreground,
        ...(opts.syslogSocket ? { syslogSocket: opts.syslogSocket } : {}),
      });
    this.view = new ClusterView(config, opts.nodeName);
    this.addresses = new GroupAddresses(() => this.config.groups, () => this.guard, (ms) => this.agentContext(ms), this.log);
    this.exited = new Promise((resolve) => {
      this.exitResolve = resolve;
    });
  }

  static load(opts: DaemonOptions): { daemon: Daemon } | { errors: string[] } {
    const r = loadConfig(opts);
    if (!r.ok) return { errors: [...r.errors, ...r.warnings].map(formatIssue) };
    const d = new Daemon(r.config, opts);
    for (const w of r.warnings) d.log.warn(formatIssue(w));
    return { daemon: d };
  }

  private now(): number {
    return performance.now();
  }

  async start(): Promise<void> {
    const { ha, groups } = this.config;
    const me = this.opts.nodeName;
    if (!ha.nodes.includes(me)) throw new Error(`this node "${me}" is not a node of ha.cf (${ha.nodes.join(', ')})`);
    const identity = loadIdentity(this.opts.stateDir);

    // Every cluster with a resource group gets the guard: without addresses to remove it still
    // says hbd's last words, so a crash costs no deadtime whatever the agents are. It starts
    // while the media open; nothing is started before it is ready.
    const guard = groups.length > 0 && this.opts.addressGuard !== false ? new AddressGuard() : null;
    const guardReady = guard?.start().then(
      () => null,
      (err: unknown) => err as Error,
    );
    this.transports = createTransports(ha, this.opts.localAddress ? { localAddress: this.opts.localAddress } : {});
    for (const t of this.transports) {
      t.onPacket((packet, from) => this.onPacket(t, packet, from));
      t.onError((err) => this.warnOnce(`medium:${t.linkName}`, `${t.kind} ${t.linkName}: ${err.message}`));
      await t.open();
    }
    const linkNames = [...new Set(this.transports.map((t) => t.linkName))];
    // Heartbeat's start line ("Configuration validated. Starting heartbeat 3.0.6"), which log
    // watchers look for, naming what really runs.
    this.log.info(`Configuration validated. Starting heartbeat-ts ${packageVersion()} as node ${me}, generation ${identity.generation}.`);
    this.log.info(`Heartbeat media: ${this.transports.map((t) => `${t.kind} ${t.linkName}`).join(', ')}; keepalive ${ha.keepaliveMs} ms, deadtime ${ha.deadtimeMs} ms.`);
    await this.releaseLeftovers();
    const guardFailed = await guardReady;
    if (guard && !guardFailed) this.guard = guard;
    else if (guard) {
      guard.crash();
      this.log.crit(`the address guard did not start (${guardFailed?.message}): if hbd dies, its virtual IPs stay configured and peers wait for deadtime.`);
    }
    this.runtime = new NodeRuntime(
      {
        node: {
          me,
          nodes: ha.nodes,
          linkNames,
          timers: { keepaliveMs: ha.keepaliveMs, warntimeMs: ha.warntimeMs, deadtimeMs: ha.deadtimeMs, initdeadMs: ha.initdeadMs },
          groups: groups.map((g) => ({ id: g.id, preferredNode: g.preferredNode, resources: g.resources.map((r) => r.raw) })),
          autoFailback: ha.autoFailback,
          digest: this.config.digest,
          generation: identity.generation,
        },
        sender: { node: me, uuid: identity.uuid, generation: identity.generation, deadtimeMs: ha.deadtimeMs, partDigests: this.config.partDigests },
        port: this.port(),
      },
      this.now(),
    );
    this.giveGuardLastWords();
    this.view.attach(this.runtime.nodeState, this.now());
    this.runtime.tick(this.now());
  }

  /** An operator's request (control socket, HTTP API): hb_standby, hb_takeover. */
  dispatch(event: Extract<Node.NodeEvent, { kind: 'standby' | 'takeover' | 'shutdown' }>): void {
    this.runtime.command(event, this.now());
  }

  /** What the runtime asks of the real world. */
  private port(): NodePort {
    return {
      send: (m) => this.sendMessage(m),
      runAgent: (call) => this.runAgent(call),
      log: (level, text, tag) => this.logAt(level, text, tag),
      wakeIn: (delayMs) => this.armTimer(delayMs),
      wallSeconds,
      received: (incoming, link) => this.onReceived(incoming, link),
      observe: (effects, state) => this.onStep(effects, state),
      exit: () => void this.shutdownIo(),
    };
  }

  private sendMessage(message: HbMessage): void {
    const bytes = this.signed(message);
    for (const t of this.transports) t.send(bytes);
    if (message.getString('t') === 'status') for (const t of this.transports) this.view.count('heartbeats_sent', t.linkName);
  }

  private armTimer(delayMs: number | null): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (delayMs === null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.runtime.tick(this.now());
    }, delayMs);
  }

  private logAt(level: Node.LogLevel, text: string, tag?: Node.LogTag | AgentLogTag): void {
    logAs(this.log, this.logTag, level, text, tag);
  }

  private onReceived(incoming: Extract<Incoming, { kind: 'status' | 'shutdone' }>, link: string): void {
    this.view.count('heartbeats_received', incoming.src, link);
    if (incoming.kind === 'status') this.view.notePeerConfig(incoming.src, incoming.parts);
  }

  private onStep(effects: readonly Node.NodeEffect[], state: Node.NodeState): void {
    this.view.update(state, [...effects], this.now());
    for (const e of effects) {
      if (e.kind === 'resource') this.addresses.resourceState(e.group, e.resource, e.running);
      else if (e.kind === 'reassert') this.addresses.reassert(e.group, e.from, e.why);
      else if (e.kind === 'fence') this.addresses.fence(e.group);
      else if (e.kind === 'drift') {
        // One WARN per peer per distinct digest, naming the file that differs when the peer says.
        const text = this.view.driftWarning(e.node, e.digest);
        if (text) this.log.warn(text);
      }
    }
  }

  /** Signed now, sent by the guard only if we die without a goodbye (see guard-main.ts). */
  private giveGuardLastWords(): void {
    if (!this.guard) return;
    const routes = this.transports.flatMap((t) => t.sendRoute?.() ?? []);
    this.guard.lastWords(this.signed(this.runtime.lastWords()), routes);
  }

  private signed(m: HbMessage): Buffer {
    return sign(m, this.config.auth.active, this.config.ha.msgfmt === 'classic' ? 'classic' : 'netstring');
  }

  private runAgent({ group, resource, action }: AgentCall): void {
    const spec = this.config.groups[group]?.resources[resource];
    if (!spec) return;
    const timeouts = this.opts.agentTimeoutMs ?? DEFAULT_AGENT_TIMEOUTS;
    const started = this.now();
    const done = (ok: boolean, running?: boolean) => this.runtime.agentDone({ group, resource, action, ok, ...(running !== undefined ? { running } : {}) }, this.now());
    runResource(spec, action, this.agentContext(timeouts[action]))
      .then((call) => {
        // Which copy of a virtual IP the resource holds; whether it runs is the core's word (its resource effect).
        if (call.address) this.addresses.noteCopy(group, resource, call.address);
        this.view.agentCall(spec.raw, action, this.now() - started, call.ok);
        if (!call.ok || call.timedOut) {
          this.log.error(`${call.argv.join(' ')}: ${call.timedOut ? `timed out after ${timeouts[action]} ms` : `exit code ${call.exitCode ?? call.signal}`}${call.output ? `; output: ${call.output.slice(0, 500)}` : ''}`);
        }
        done(call.ok, call.running);
      })
      .catch((err: unknown) => {
        this.log.error(`${spec.raw} ${action}: ${(err as Error).message}`);
        done(false, false);
      });
  }

  private agentContext(timeoutMs: number): AgentContext {
    return {
      timeoutMs,
      nodeName: this.opts.nodeName,
      configDir: this.config.dir,
      resourceDir: this.opts.roots?.resourceD,
      // The facility hbd itself falls back to, so the scripts' own lines do not vanish either.
      logging: { ...this.config.ha, logfacility: effectiveLogFacility(this.config.ha) },
      log: (level, message, tag) => this.logAt(level, message, tag),
      apiCall: (r) => this.view.cloudApiCall(r),
    };
  }

  /**
   * Virtual IPs of our groups left configured by an earlier run (hbd and its guard both
   * killed, a clean exit in stop-failed, or added by hand) are removed before we join: an
   * address must never run here unguarded while a peer may take its group over.
   */
  private async releaseLeftovers(): Promise<void> {
    const timeouts = this.opts.agentTimeoutMs ?? DEFAULT_AGENT_TIMEOUTS;
    for (const spec of this.config.groups.flatMap((g) => g.resources)) {
      if (spec.agent.kind !== 'builtin') continue;
      const status = await runResource(spec, 'status', this.agentContext(timeouts.status));
      if (!status.running) continue;
      const where = status.address ? `${status.address.ip}/${status.address.prefix} on ${status.address.dev}` : spec.raw;
      this.log.warn(`${where} (${spec.raw}) is configured although hbd is only starting (left by an earlier run, or added by hand): removing it before joining the cluster.`);
      const stop = await runResource(spec, 'stop', this.agentContext(timeouts.stop));
      if (!stop.ok) this.log.crit(`${spec.raw}: could not remove ${where}; it may now run on two hosts. Remove it by hand.`);
    }
  }

  private onPacket(t: Transport, packet: Buffer, from: string): void {
    try {
      this.receive(t, packet, from);
    } catch (err) {
      // A packet must never take the daemon down; count it and go on.
      this.view.count('internal_errors');
      this.warnOnce(`internal:${sourceOf(from)}`, `internal error on a packet from ${from}: ${(err as Error).message}`);
    }
  }

  private receive(t: Transport, packet: Buffer, from: string): void {
    // The media open before the runtime starts (the guard and leftover addresses come
    // between): a packet then is nothing to act on yet, and the next heartbeat will come.
    if (this.runtime === undefined) return;
    const v = verify(packet, this.config.auth);
    if (!v.ok) {
      const bad = v.stage === 'auth' ? 'auth_failures' : 'malformed_packets';
      this.view.count(bad);
      this.warnOnce(`bad:${sourceOf(from)}`, `dropped a packet from ${from} on ${t.linkName}: ${v.reason} (${v.code})`);
      return;
    }
    const r = this.runtime.receive(v.message, t.linkName, this.now());
    switch (r.kind) {
      case 'malformed':
        this.view.count('malformed_packets');
        this.warnOnce(`bad:${sourceOf(from)}`, `dropped a signed packet from ${from}: ${r.reason}`);
        break;
      case 'foreign':
        this.view.count('foreign_packets');
        this.warnOnce(`foreign:${r.src}:${sourceOf(from)}`, `process_status_message: bad node [${r.src}] in message from ${from}: not a node of ha.cf (autojoin none); ignored`);
        break;
      case 'stale':
        this.view.count('replayed_packets');
        this.warnOnce(`replay:${r.src}`, `dropped a replayed or ${r.why === 'replay' ? 'stale' : 'out-of-date'} packet claiming to be from ${r.src} (generation ${r.generation}, seq ${r.seq}) via ${from}`);
        break;
      default:
        break; // accepted, our own, or a Heartbeat message we don't speak (yet)
    }
  }

  /** One warning per key per minute: a second cluster on the wire must not flood the log. */
  private warnOnce(key: string, text: string): void {
    const r = this.warnLimiter.check(key, this.now());
    // Every such line may carry text from a packet: bounded whatever a caller put in it.
    if (r.allowed) this.log.warn(clip(r.suppressed > 0 ? `${text} (${r.suppressed} similar messages suppressed)` : text, 400));
  }

  /** SIGTERM: release resource groups in order, say goodbye, exit. */
  shutdown(): void {
    this.log.info(`Heartbeat shutdown in progress. (${process.pid})`);
    this.dispatch({ kind: 'shutdown' });
  }

  /** SIGHUP: re-read the configuration; apply what can change without a restart. */
  reload(): void {
    const r = loadConfig(this.opts);
    this.log.reopen();
    if (!r.ok) {
      for (const e of r.errors) this.log.error(`reload: ${formatIssue(e)}`);
      this.log.error('reload: configuration not valid; keeping the running configuration.');
      return;
    }
    const next = r.config;
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    const needsRestart =
      !same(next.ha.nodes, this.config.ha.nodes) ||
      !same(next.ha.media.map((m) => ({ ...m, line: 0 })), this.config.ha.media.map((m) => ({ ...m, line: 0 }))) ||
      next.ha.udpport !== this.config.ha.udpport ||
      next.partDigests.haresources !== this.config.partDigests.haresources ||
      next.ha.keepaliveMs !== this.config.ha.keepaliveMs ||
      next.ha.deadtimeMs !== this.config.ha.deadtimeMs;
    // Keys can change in place: that is how a key rotation is rolled through a cluster.
    this.config = { ...this.config, auth: next.auth };
    this.giveGuardLastWords(); // signed with the active key, which may have changed
    this.log.info('reload: authkeys re-read; log files reopened.');
    if (needsRestart) this.log.warn('reload: nodes, media, timers or haresources changed: restart hbd on every node to apply them.');
  }

  private async shutdownIo(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // Let the goodbye leave the sockets before they close.
    await new Promise((r) => setTimeout(r, 20));
    await Promise.all(this.transports.map((t) => t.close().catch(() => undefined)));
    this.guard?.close();
    this.log.info(`${this.opts.nodeName} Heartbeat shutdown complete.`);
    this.exitResolve?.();
  }

  /** For crash-like stops in tests: close everything, no goodbye; the guard acts as after a crash. */
  async abort(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.guard?.crash();
    await Promise.all(this.transports.map((t) => t.close().catch(() => undefined)));
    this.exitResolve?.();
  }

  get nodeState(): Node.NodeState {
    return this.runtime.nodeState;
  }

  get clusterConfig(): ClusterConfig {
    return this.config;
  }
}
