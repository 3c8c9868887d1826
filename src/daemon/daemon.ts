// The imperative shell around core/node.ts: sockets in, effects out, one timer.
// Everything interesting is decided in core/; this file only reads the clock, turns packets
// into events, and carries out the effects (send, log, run an agent, exit).
import { performance } from 'node:perf_hooks';
import { loadConfig, type LoadOptions } from '../config/load.js';
import { formatIssue } from '../config/issues.js';
import type { ClusterConfig } from '../config/types.js';
import * as Node from '../core/node.js';
import { ipAddrAgent, runResource, type AgentAction } from '../agents/index.js';
import { createTransports } from '../media/index.js';
import type { Transport } from '../media/transport.js';
import { sign, verify } from '../wire/auth.js';
import { ReplayWindow } from '../wire/replay.js';
import type { HbMessage } from '../wire/message.js';
import { createLogger, type DaemonLogger, type Logger } from './log.js';
import { RateLimiter } from '../lib/ratelimit.js';
import { lastWordsMessage, readIncoming, shutdoneMessage, statusMessage, type Sender } from '../wire/messages.js';
import { loadIdentity } from './state-dir.js';
import { AddressGuard } from './guard.js';
import { parseVip } from '../config/vip.js';
import { ClusterView } from '../status/cluster-view.js';
import { GroupKeys } from '../wire/advert.js';

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
  /** The syslog socket for logfacility (default /dev/log). */
  syslogSocket?: string;
  /** Remove our virtual IPs if hbd dies without a goodbye (default on). */
  addressGuard?: boolean;
}

const DEFAULT_AGENT_TIMEOUTS = { start: 60_000, stop: 60_000, status: 20_000 };

/** Heartbeat's `ts` field: wall-clock seconds (liveness itself runs on the monotonic clock). */
const wallSeconds = (): number => Math.floor(Date.now() / 1000);

export class Daemon {
  private config: ClusterConfig;
  private state!: Node.NodeState;
  private transports: Transport[] = [];
  private readonly replay = new ReplayWindow();
  /** Newest (generation, seq) heard from each node. */
  private readonly newest = new Map<string, { generation: number; seq: number }>();
  private readonly warnLimiter = new RateLimiter({ windowMs: 60_000 });
  private guard: AddressGuard | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private seq = 0;
  private sender!: Sender;
  private groupKeys = new GroupKeys([]);
  readonly log: DaemonLogger;
  readonly view: ClusterView;
  private exitResolve: (() => void) | null = null;
  readonly exited: Promise<void>;

  constructor(
    config: ClusterConfig,
    private readonly opts: DaemonOptions,
  ) {
    this.config = config;
    this.log =
      opts.logger ??
      createLogger({
        logfile: config.ha.logfile,
        debugfile: config.ha.debugfile,
        logfacility: config.ha.logfacility,
        debugLevel: config.ha.debug,
        foreground: opts.foreground,
        ...(opts.syslogSocket ? { syslogSocket: opts.syslogSocket } : {}),
      });
    this.view = new ClusterView(config, opts.nodeName);
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
    this.sender = { node: me, uuid: identity.uuid, generation: identity.generation, deadtimeMs: ha.deadtimeMs, partDigests: this.config.partDigests };
    this.groupKeys = new GroupKeys(groups.map((g) => g.id));

    if (groups.some((g) => g.resources.some((r) => r.agent.kind === 'builtin')) && this.opts.addressGuard !== false) {
      this.guard = new AddressGuard();
      this.guard.start();
    }
    this.transports = createTransports(ha, this.opts.localAddress ? { localAddress: this.opts.localAddress } : {});
    for (const t of this.transports) {
      t.onPacket((packet, from) => this.onPacket(t, packet, from));
      t.onError((err) => this.warnOnce(`medium:${t.linkName}`, `${t.kind} ${t.linkName}: ${err.message}`));
      await t.open();
    }
    this.giveGuardLastWords();
    const linkNames = [...new Set(this.transports.map((t) => t.linkName))];
    this.log.info(`Configuration validated. Starting hbd (heartbeat-ts) as node ${me}, generation ${identity.generation}.`);
    this.log.info(`Heartbeat media: ${this.transports.map((t) => `${t.kind} ${t.linkName}`).join(', ')}; keepalive ${ha.keepaliveMs} ms, deadtime ${ha.deadtimeMs} ms.`);
    this.state = Node.initNode(
      {
        me,
        nodes: ha.nodes,
        linkNames,
        timers: { keepaliveMs: ha.keepaliveMs, warntimeMs: ha.warntimeMs, deadtimeMs: ha.deadtimeMs, initdeadMs: ha.initdeadMs },
        groups: groups.map((g) => ({ id: g.id, preferredNode: g.preferredNode, resources: g.resources.map((r) => r.raw) })),
        autoFailback: ha.autoFailback,
        digest: this.config.digest,
        generation: identity.generation,
      },
      this.now(),
    );
    this.view.attach(this.state, this.now());
    this.dispatch({ kind: 'tick' });
  }

  /** Feed one event to the core and carry out what it returns. */
  dispatch(event: Node.NodeEvent): void {
    const now = this.now();
    const { state, effects } = Node.step(this.state, event, now);
    this.state = state;
    this.view.update(state, effects, now);
    for (const e of effects) this.perform(e);
    this.arm();
  }

  private arm(): void {
    const wake = Node.nextWake(this.state, this.now());
    if (wake === this.timerAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = wake;
    if (!Number.isFinite(wake)) return;
    const delay = Math.max(0, Math.ceil(wake - this.now()));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.dispatch({ kind: 'tick' });
    }, delay);
  }

  private perform(e: Node.NodeEffect): void {
    switch (e.kind) {
      case 'send-status':
        this.broadcast(statusMessage(this.sender, ++this.seq, wallSeconds(), e.payload));
        for (const t of this.transports) this.view.count('heartbeats_sent', t.linkName);
        break;
      case 'send-leave': {
        // Sent twice: a lost goodbye costs the peers a whole deadtime; a duplicate costs nothing.
        const bytes = this.signed(shutdoneMessage(this.sender, ++this.seq, wallSeconds()));
        for (let i = 0; i < 2; i++) for (const t of this.transports) t.send(bytes);
        break;
      }
      case 'log':
        this.logAt(e.level, e.text);
        break;
      case 'agent':
        this.runAgent(e.group, e.resource, e.action);
        break;
      case 'reassert':
        this.reassert(e.group, e.from);
        break;
      case 'drift': {
        // One WARN per peer per distinct digest, naming the file that differs when the peer says.
        const text = this.view.driftWarning(e.node, e.digest);
        if (text) this.log.warn(text);
        break;
      }
      case 'exit':
        void this.shutdownIo();
        break;
      default:
        break;
    }
  }

  private logAt(level: Node.LogLevel, text: string): void {
    const l: Logger = this.log;
    l[level](text);
  }

  /** Signed now, sent by the guard only if we die without a goodbye (see guard-main.ts). */
  private giveGuardLastWords(): void {
    if (!this.guard) return;
    const routes = this.transports.flatMap((t) => t.sendRoute?.() ?? []);
    this.guard.lastWords(this.signed(lastWordsMessage(this.sender, wallSeconds())), routes);
  }

  private signed(m: HbMessage): Buffer {
    return sign(m, this.config.auth.active, this.config.ha.msgfmt === 'classic' ? 'classic' : 'netstring');
  }

  private broadcast(m: HbMessage): void {
    const bytes = this.signed(m);
    for (const t of this.transports) t.send(bytes);
  }

  private runAgent(group: number, resource: number, action: AgentAction): void {
    const spec = this.config.groups[group]?.resources[resource];
    if (!spec) return;
    const timeouts = this.opts.agentTimeoutMs ?? DEFAULT_AGENT_TIMEOUTS;
    const started = this.now();
    runResource(spec, action, {
      timeoutMs: timeouts[action],
      nodeName: this.opts.nodeName,
      log: (level, message) => this.logAt(level, message),
    })
      .then((call) => {
        if (spec.agent.kind === 'builtin' && call.ok && action !== 'status') {
          const vip = parseVip(spec.args[0] ?? '');
          if (vip.ok) {
            if (action === 'start') this.guard?.hold(vip.vip.ip);
            else this.guard?.release(vip.vip.ip);
          }
        }
        this.view.agentCall(spec.raw, action, this.now() - started, call.ok);
        if (!call.ok || call.timedOut) {
          this.log.error(`${call.argv.join(' ')}: ${call.timedOut ? `timed out after ${timeouts[action]} ms` : `exit code ${call.exitCode ?? call.signal}`}${call.output ? `; output: ${call.output.slice(0, 500)}` : ''}`);
        }
        this.dispatch({ kind: 'agent-done', group, resource, action, ok: call.ok, ...(call.running !== undefined ? { running: call.running } : {}) });
      })
      .catch((err: unknown) => {
        this.log.error(`${spec.raw} ${action}: ${(err as Error).message}`);
        this.dispatch({ kind: 'agent-done', group, resource, action, ok: false, running: false });
      });
  }

  /** Announce the group's addresses again: the LAN may still point at `from`. */
  private reassert(group: number, from: string): void {
    const g = this.config.groups[group];
    if (!g) return;
    this.log.info(`Resource group ${g.id}: ${from} no longer holds it; announcing its addresses again.`);
    for (const spec of g.resources) {
      if (spec.agent.kind !== 'builtin') continue;
      const ctx = { timeoutMs: 10_000, nodeName: this.opts.nodeName, log: (level: Node.LogLevel, message: string) => this.logAt(level, message) };
      void ipAddrAgent.reannounce({ ...spec, agent: spec.agent }, ctx).catch((err: unknown) => this.log.error(`${spec.raw}: ${(err as Error).message}`));
    }
  }

  private onPacket(t: Transport, packet: Buffer, from: string): void {
    try {
      this.receive(t, packet, from);
    } catch (err) {
      // A packet must never take the daemon down; count it and go on.
      this.view.count('internal_errors');
      this.warnOnce(`internal:${from}`, `internal error on a packet from ${from}: ${(err as Error).message}`);
    }
  }

  private receive(t: Transport, packet: Buffer, from: string): void {
    const v = verify(packet, this.config.auth);
    if (!v.ok) {
      const bad = v.code.startsWith('E_AUTH') ? 'auth_failures' : 'malformed_packets';
      this.view.count(bad);
      this.warnOnce(`bad:${from}`, `dropped a packet from ${from} on ${t.linkName}: ${v.reason} (${v.code})`);
      return;
    }
    const inc = readIncoming(v.message, this.groupKeys);
    if (inc.kind === 'invalid') {
      this.view.count('malformed_packets');
      this.warnOnce(`bad:${from}`, `dropped a signed packet from ${from}: ${inc.reason}`);
      return;
    }
    if (inc.src === this.opts.nodeName) return; // our own bcast/mcast coming back
    if (!this.config.ha.nodes.includes(inc.src)) {
      this.view.count('foreign_packets');
      this.warnOnce(`foreign:${inc.src}:${from}`, `process_status_message: bad node [${inc.src}] in message from ${from}: not a node of ha.cf (autojoin none); ignored`);
      return;
    }
    if (inc.kind === 'other') return; // messages of real Heartbeat we don't speak (yet)
    const verdict = this.replay.accept(inc.src, inc.generation, inc.seq);
    if (verdict === 'replay-old-generation' || verdict === 'too-old') {
      this.view.count('replayed_packets');
      this.warnOnce(`replay:${inc.src}`, `dropped a replayed or stale packet claiming to be from ${inc.src} (generation ${inc.generation}, seq ${inc.seq}) via ${from}`);
      return;
    }
    // Liveness moves only forward: the newest message of a node is news; an older one that
    // arrives now (reordered, or replayed from a capture we never received) proves nothing,
    // and a copy of the newest over a second medium proves only that medium alive.
    const newest = this.newest.get(inc.src);
    const newer = !newest || inc.generation > newest.generation || inc.seq > newest.seq;
    const copyOfNewest = verdict === 'duplicate' && newest?.generation === inc.generation && newest.seq === inc.seq;
    const fresh = verdict === 'new' && newer;
    if (!fresh && !(copyOfNewest && this.state.membership.peers[inc.src]?.status !== 'dead')) {
      this.view.count('replayed_packets');
      this.warnOnce(`replay:${inc.src}`, `dropped a replayed or out-of-date packet claiming to be from ${inc.src} (generation ${inc.generation}, seq ${inc.seq}) via ${from}`);
      return;
    }
    if (fresh) this.newest.set(inc.src, { generation: inc.generation, seq: inc.seq });
    this.view.count('heartbeats_received', inc.src, t.linkName);
    if (inc.kind === 'shutdone') {
      if (fresh) this.dispatch({ kind: 'peer-left', from: inc.src, generation: inc.generation, crashed: inc.crashed });
      return;
    }
    this.view.notePeerConfig(inc.src, inc.parts);
    this.dispatch({ kind: 'status', from: inc.src, link: t.linkName, generation: inc.generation, fresh, st: inc.st, advert: inc.advert, digest: inc.digest });
  }

  /** One warning per key per minute: a second cluster on the wire must not flood the log. */
  private warnOnce(key: string, text: string): void {
    const r = this.warnLimiter.check(key, this.now());
    if (r.allowed) this.log.warn(r.suppressed > 0 ? `${text} (${r.suppressed} similar messages suppressed)` : text);
  }

  /** SIGTERM: release resource groups in order, say goodbye, exit. */
  shutdown(): void {
    this.log.info('Heartbeat shutdown in progress.');
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
    this.log.info('hbd shutdown complete.');
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
    return this.state;
  }

  get clusterConfig(): ClusterConfig {
    return this.config;
  }
}
