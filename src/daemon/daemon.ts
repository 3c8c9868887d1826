// The daemon's port to the node runtime (runtime/runtime.ts): real sockets, the monotonic
// clock, one timer, child processes for agents, the logs, the address guard. Which packets are
// news, what to send and when to wake are the runtime's; everything else is decided in core/.
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../config/load.js';
import { loadWithoutBlocking } from './reload-config.js';
import { formatIssue } from '../config/issues.js';
import type { ClusterConfig, ResourceGroup } from '../config/types.js';
import { effectiveLogFacility } from '../config/hacf-defaults.js';
import { announceRole, checkRole } from './witness.js';
import { QuorumIo, quorumOptions } from './quorum-io.js';
import { arbiterNumbers } from './arbiter-numbers.js';
import type { EtcdArbiter } from './arbiter-etcd.js';
import type { ArbiterNews } from '../core/arbiter.js';
import { monitorsOf } from '../config/monitor.js';
import { AgentCalls, DEFAULT_AGENT_TIMEOUTS } from './agent-calls.js';
import { packageVersion } from '../lib/version.js';
import * as Node from '../core/node.js';
import type { AgentLogTag } from '../agents/index.js';
import { sign } from '../wire/auth.js';
import type { HbMessage } from '../wire/message.js';
import type { DaemonOptions } from './daemon-options.js';
import { createLogger, DEFAULT_IDENT, logAs, type DaemonLogger } from './log.js';
import { loadIdentity, type Identity } from './state-dir.js';
import { Links, type LinkChange } from './links.js';
import { shellChanges, shellRefusals } from './reload.js';
import { PacketIntake } from './packets.js';
import { AddressGuard } from './guard.js';
import { GroupAddresses } from './group-addresses.js';
import { Respawner } from './respawn.js';
import { ClusterView } from '../status/cluster-view.js';
import { NodeRuntime } from '../runtime/runtime.js';
import { loadAverageEvery } from '../lib/proc-stat.js';
import type { AgentCall, NodePort } from '../runtime/port.js';
import type { Incoming, Sender } from '../wire/messages.js';

export type { DaemonOptions };

export { DEFAULT_AGENT_TIMEOUTS };

/** Heartbeat's `ts` field: wall-clock seconds (liveness itself runs on the monotonic clock). */
const wallSeconds = (): number => Math.floor(Date.now() / 1000);

export class Daemon {
  private config: ClusterConfig;
  /** Set once start() has the guard ready and leftovers removed; packets before that are dropped. */
  private runtime!: NodeRuntime;
  private identity!: Identity;
  private readonly links: Links;
  /** Each group the core has by id: the config's, and a group a reload removed until it is stopped here. */
  private readonly groupSpecs = new Map<string, ResourceGroup>();
  /** The groups groupSpecs was last pruned against (the core's list; a new list after a reload). */
  private specsOf: readonly Node.GroupDef[] | null = null;
  /** Reloads run one after the other: a SIGHUP during one waits for it. */
  private reloading: Promise<void> = Promise.resolve();
  private guard: AddressGuard | null = null;
  private lastWordsUpTo = Infinity; // the last seq of ours the guard's last words cover
  /** The copy of each virtual IP its resource last reported. */
  private readonly addresses: GroupAddresses;
  private readonly agents: AgentCalls;
  private timer: NodeJS.Timeout | null = null;
  private readonly quorumIo: QuorumIo;
  private arbiter: EtcdArbiter | null = null;
  /** ha.cf's respawn programs (read at start; a reload leaves them be). */
  readonly respawner: Respawner;
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
    for (const g of config.groups) this.groupSpecs.set(g.id, g);
    this.agents = new AgentCalls({
      nodeName: opts.nodeName,
      resourceDir: opts.roots?.resourceD,
      timeouts: opts.agentTimeoutMs ?? DEFAULT_AGENT_TIMEOUTS,
      timeoutsGiven: opts.agentTimeoutsGiven ?? false,
      config: () => this.config,
      log: this.log,
      logAt: (level, text, tag) => this.logAt(level, text, tag),
      view: this.view,
      now: () => this.now(),
    });
    this.quorumIo = new QuorumIo(() => this.config.ha, opts.nodeName, this.log, (event) => this.runtime.command(event, this.now()));
    this.respawner = new Respawner(config.ha.respawn.filter((r) => r.kind === 'program'), this.log);
    this.addresses = new GroupAddresses(() => this.guard, (ms) => this.agents.context(ms), this.log);
    const packets = new PacketIntake({ auth: () => this.config.auth, runtime: () => this.runtime, view: this.view, log: this.log, now: () => this.now() });
    this.links = new Links((t) => packets.attach(t), opts.localAddress ? { localAddress: opts.localAddress } : {});
    this.exited = new Promise((resolve) => {
      this.exitResolve = resolve;
    });
  }

  static load(opts: DaemonOptions): { daemon: Daemon } | { errors: string[] } {
    const r = loadConfig(opts);
    if (!r.ok) return { errors: [...r.errors, ...r.warnings].map(formatIssue) };
    const d = new Daemon(r.config, opts);
    for (const n of r.notes) d.log.info(formatIssue(n));
    for (const w of r.warnings) d.log.warn(formatIssue(w));
    return { daemon: d };
  }

  private now(): number {
    return performance.now();
  }

  async start(): Promise<void> {
    const { ha, groups } = this.config;
    const me = this.opts.nodeName;
    const witness = checkRole(ha, me, this.opts.witness === true);
    const identity = loadIdentity(this.opts.stateDir);
    this.identity = identity;

    // Every cluster with a resource group gets the guard: without addresses to remove it still
    // says hbd's last words, so a crash costs no deadtime whatever the agents are. It starts
    // while the media open; nothing is started before it is ready.
    const guard = groups.length > 0 && !witness && this.opts.addressGuard !== false ? new AddressGuard() : null;
    const guardReady = guard?.start().then(
      () => null,
      (err: unknown) => err as Error,
    );
    await this.links.openAll(ha);
    // Heartbeat's start line ("Configuration validated. Starting heartbeat 3.0.6"), which log
    // watchers look for, naming what really runs.
    this.log.info(`Configuration validated. Starting heartbeat-ts ${packageVersion()} as node ${me}, generation ${identity.generation}.`);
    this.log.info(`Heartbeat media: ${this.links.transports.map((t) => `${t.kind} ${t.linkName}`).join(', ')}; keepalive ${ha.keepaliveMs} ms, deadtime ${ha.deadtimeMs} ms.`);
    announceRole(ha, me, witness, this.log);
    // A witness runs no resource: it has no leftovers, and its host may run other services.
    if (!witness) await this.agents.releaseLeftovers(groups.flatMap((g) => g.resources), 'hbd is only starting', 'joining the cluster');
    this.useGuard(guard, await guardReady);
    // etcd's client (gRPC and all) is loaded only by a node that uses it.
    const etcd = ha.arbiter && !witness ? await import('./arbiter-etcd.js') : null;
    this.runtime = new NodeRuntime({ node: this.nodeOptions(this.config), sender: this.senderFor(this.config), port: this.port() }, this.now());
    const tell = (news: ArbiterNews) => this.runtime.command({ kind: 'arbiter', news }, this.now());
    if (etcd && ha.arbiter) this.arbiter = etcd.startArbiter(ha.arbiter, groups, (r, a) => this.agents.timeoutFor(r, a), { me, log: this.log, now: () => this.now(), tell });
    this.giveGuardLastWords();
    this.view.attach(this.runtime.nodeState, this.now());
    this.runtime.tick(this.now());
    this.quorumIo.start();
    this.respawner.start();
  }

  /** The guard, once started; one that did not start is said to have failed, loudly. */
  private useGuard(guard: AddressGuard | null, failed: Error | null | undefined): void {
    if (guard && !failed) this.guard = guard;
    else if (guard) {
      guard.crash();
      this.log.crit(`the address guard did not start (${failed?.message}): if hbd dies, its virtual IPs stay configured and peers wait for deadtime.`);
    }
  }

  /** What the core is told of `config` (at start, and at a reload). */
  private nodeOptions(config: ClusterConfig): Node.NodeOptions {
    const { ha, groups } = config;
    return {
      me: this.opts.nodeName,
      ...quorumOptions(ha),
      linkNames: this.links.names(),
      timers: { keepaliveMs: ha.keepaliveMs, warntimeMs: ha.warntimeMs, deadtimeMs: ha.deadtimeMs, initdeadMs: ha.initdeadMs },
      groups: groups.map((g) => ({ id: g.id, preferredNode: g.preferredNode, resources: g.resources.map((r) => r.raw), monitors: monitorsOf(g, ha.ext.monitors) })),
      autoFailback: ha.autoFailback,
      digest: config.digest,
      generation: this.identity.generation,
      ...(ha.arbiter && !this.opts.witness ? { arbiter: arbiterNumbers(ha.arbiter, groups, (r, a) => this.agents.timeoutFor(r, a)).tuning } : {}),
    };
  }

  /** Who we are on the wire: our heartbeats carry the deadtime and the config part digests. */
  private senderFor(config: ClusterConfig): Sender {
    const id = this.identity;
    return { node: this.opts.nodeName, uuid: id.uuid, generation: id.generation, deadtimeMs: config.ha.deadtimeMs, partDigests: config.partDigests };
  }

  /** An operator's request (control socket, HTTP API): hb_standby, hb_takeover, hbctl clear. */
  dispatch(event: Extract<Node.NodeEvent, { kind: 'standby' | 'takeover' | 'clear' | 'shutdown' }>): void {
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
      loadAverage: loadAverageEvery(5000), // Heartbeat's `ld` field: the kernel recomputes the averages every 5 s
      received: (incoming, link) => this.onReceived(incoming, link),
      observe: (effects, state) => this.onStep(effects, state),
      exit: () => void this.shutdownIo(),
    };
  }

  private sendMessage(message: HbMessage): void {
    const bytes = this.signed(message);
    const transports = this.links.transports;
    for (const t of transports) t.send(bytes);
    if (this.lastWordsUpTo - 2 <= (this.runtime?.lastSeq ?? 0)) this.giveGuardLastWords();
    if (message.getString('t') === 'status') for (const t of transports) this.view.count('heartbeats_sent', t.linkName);
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
      this.quorumIo.effect(e);
      this.arbiter?.effect(e, state);
      if (e.kind === 'drift') {
        // One WARN per peer per distinct digest, naming the file that differs when the peer says.
        const text = this.view.driftWarning(e.node, e.digest);
        if (text) this.log.warn(text);
      }
      if (e.kind !== 'resource' && e.kind !== 'reassert' && e.kind !== 'fence') continue;
      // Effects name groups by their number in this step's state; its group list says which.
      const group = this.groupSpecs.get(state.ownership.groups[e.group]?.id ?? '');
      if (!group) continue;
      if (e.kind === 'resource') this.addresses.resourceState(group.id, e.resource, e.running);
      else if (e.kind === 'reassert') this.addresses.reassert(group, e.from, e.why);
      else this.addresses.fence(group);
    }
    if (state.ownership.groups !== this.specsOf) this.forgetGroups(state.ownership.groups);
  }

  /** A removed group is gone from the core once stopped here: its resources are no longer ours. */
  private forgetGroups(groups: readonly Node.GroupDef[]): void {
    this.specsOf = groups;
    const ours = new Set(groups.map((g) => g.id));
    for (const id of this.groupSpecs.keys()) if (!ours.has(id)) this.groupSpecs.delete(id);
    this.addresses.forget((id) => ours.has(id));
  }

  /** Signed now, sent by the guard only if we die without a goodbye (see guard-perl.ts); renewed as our seq nears their end. */
  private giveGuardLastWords(): void {
    if (!this.guard) return;
    const routes = this.links.transports.flatMap((t) => t.sendRoute?.() ?? []);
    const words = this.runtime.lastWords();
    this.lastWordsUpTo = words.coversUpTo;
    this.guard.lastWords(words.messages.map((m) => this.signed(m)), routes);
  }

  private signed(m: HbMessage): Buffer {
    return sign(m, this.config.auth.active, this.config.ha.msgfmt === 'classic' ? 'classic' : 'netstring');
  }

  private runAgent(call: AgentCall): void {
    const spec = this.groupSpecs.get(call.groupId)?.resources[call.resource];
    if (!spec) return;
    const run = () =>
      this.agents.run(spec, call.action, (outcome) => {
        // Which copy of a virtual IP the resource holds; whether it runs is the core's word (its resource effect).
        if (outcome.address) this.addresses.noteCopy(call.groupId, call.resource, outcome.address);
        this.runtime.agentDone({ ...call, ok: outcome.ok, ...(outcome.running !== undefined ? { running: outcome.running } : {}) }, this.now());
      }, this.arbiter?.envFor(call.groupId));
    if (call.action === 'stop') void this.addresses.stopping(call.groupId, call.resource).then(run);
    else run();
  }

  /** SIGTERM: release resource groups in order, say goodbye, exit. */
  shutdown(): void {
    this.log.info(`Heartbeat shutdown in progress. (${process.pid})`);
    this.dispatch({ kind: 'shutdown' });
  }

  /**
   * SIGHUP: re-read the three files and apply them whole (timers, media, resource groups,
   * keys), or refuse them whole, saying why (reload.ts, core/reload.ts). Reloads run one at a
   * time, in the order of the signals.
   */
  reload(): Promise<void> {
    this.reloading = this.reloading
      .then(() => this.reloadNow())
      .catch((err: unknown) => this.log.error(`reload: ${(err as Error).message}; keeping the running configuration.`));
    return this.reloading;
  }

  private async reloadNow(): Promise<void> {
    const r = await loadWithoutBlocking(this.opts);
    this.log.reopen();
    if (!r.ok) {
      for (const e of r.errors) this.log.error(`reload: ${formatIssue(e)}`);
      this.log.error('reload: configuration not valid; keeping the running configuration.');
      return;
    }
    for (const n of r.notes) this.log.info(`reload: ${formatIssue(n)}`);
    for (const w of r.warnings) this.log.warn(`reload: ${formatIssue(w)}`);
    const next = r.config;
    if (next.digest === this.config.digest) return this.log.info('reload: configuration unchanged; log files reopened.');
    let links: LinkChange;
    try {
      links = this.links.changeFor(next.ha);
    } catch (err) {
      return this.refuse([(err as Error).message]);
    }
    const refused = [...shellRefusals(this.config, next, links, this.opts.logTag !== undefined), ...Node.refusals(this.runtime.nodeState, this.nodeOptions(next))];
    if (refused.length > 0) return this.refuse(refused);
    // What can fail comes first; the commit below cannot.
    const known = new Set([...this.groupSpecs.values()].flatMap((g) => g.resources.map((res) => res.raw)));
    const fresh = next.groups.filter((g) => !this.groupSpecs.has(g.id)).flatMap((g) => g.resources);
    await this.agents.releaseLeftovers(fresh.filter((res) => !known.has(res.raw)), 'its resource group is only being added by a reload', 'the group may start');
    if (!this.guard && next.groups.length > 0 && this.opts.addressGuard !== false) {
      const guard = new AddressGuard();
      this.useGuard(guard, await guard.start().then(() => null, (err: unknown) => err as Error));
      this.giveGuardLastWords();
    }
    try {
      await this.links.apply(links);
    } catch (err) {
      return this.refuse([(err as Error).message]);
    }
    this.commit(next, links);
  }

  /** The reload applied: the shell's lines, the new config everywhere, then the core's step (its own lines). */
  private commit(next: ClusterConfig, links: LinkChange): void {
    const refused = Node.refusals(this.runtime.nodeState, this.nodeOptions(next));
    if (refused.length > 0) {
      void this.links.undo(links);
      return this.refuse(refused);
    }
    for (const line of shellChanges(this.config, next, links)) this.log.info(line);
    this.config = next;
    this.view.setConfig(next);
    for (const g of next.groups) this.groupSpecs.set(g.id, g);
    this.runtime.reconfigure(this.nodeOptions(next), this.senderFor(next), this.now());
    this.giveGuardLastWords(); // new keys, new media
    this.log.info(`reload: configuration applied (digest ${next.digest.slice(0, 16)}); log files reopened.`);
  }

  private refuse(reasons: string[]): void {
    for (const why of reasons) this.log.error(`reload refused: ${why.replace(/\.$/, '')}.`);
    this.log.error('reload: keeping the running configuration; nothing of this reload was applied.');
  }

  private async shutdownIo(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // Let the goodbye leave the sockets before they close.
    await new Promise((r) => setTimeout(r, 20));
    this.quorumIo.close();
    await Promise.all([this.links.closeAll(), this.respawner.stop(), this.arbiter?.close(true)]);
    this.guard?.close();
    this.log.info(`${this.opts.nodeName} Heartbeat shutdown complete.`);
    this.exitResolve?.();
  }

  /** For crash-like stops in tests: close everything, no goodbye; the guard acts as after a crash. */
  async abort(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.guard?.crash();
    this.quorumIo.close();
    await Promise.all([this.links.closeAll(), this.respawner.stop(), this.arbiter?.close(false)]);
    this.exitResolve?.();
  }

  get nodeState(): Node.NodeState {
    return this.runtime.nodeState;
  }

  get clusterConfig(): ClusterConfig {
    return this.config;
  }
}
