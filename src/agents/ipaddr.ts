// Built-in IPaddr, IPaddr2 and IPv6addr: a virtual IP as an `IF:N`-labelled secondary address,
// announced by gratuitous ARP; an IPv6 one added without duplicate address detection (it is
// ours the moment we add it: waiting for DAD would delay the takeover by a second or more)
// and announced by unsolicited neighbour advertisements. IPaddr and IPaddr2 take
// `ip[/cidr[/iface[/broadcast]]]` and behave the same for IPv4; they differ only in how many
// ARPs Heartbeat's agents send (see ARP_DEFAULTS). IPv6addr and IPaddr2 take `ip6[/prefix[/iface]]`.
import type { ResourceSpec } from '../config/types.js';
import { parseVip } from '../config/vip.js';
import { arpCapable, findAddress, parseIpAddrJson, placeVip, type IpLink } from './iproute.js';
import { baseEnv } from './env.js';
import { runProcess, spawnBackground, type BackgroundOutcome, type BackgroundProcess } from './process.js';
import type { AgentAction, AgentCall, AgentContext, HeldAddress } from './types.js';
import { performance } from 'node:perf_hooks';

export type IpAddrId = 'IPaddr' | 'IPaddr2' | 'IPv6addr';

/** The address families each built-in takes. */
const FAMILIES: Record<IpAddrId, readonly (4 | 6)[]> = { IPaddr: [4], IPaddr2: [4, 6], IPv6addr: [6] };

/**
 * resource-agents' sender of unsolicited neighbour advertisements (what its IPaddr2 and
 * IPv6addr run for IPv6): `send_ua -i MS -c COUNT ADDRESS PREFIX IFACE`.
 */
export const SEND_UA = '/usr/libexec/heartbeat/send_ua';

export interface CommandOutcome {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  /** stdout and stderr together, for messages. */
  output: string;
  spawnError: NodeJS.ErrnoException | null;
}

/** How ipaddr runs `ip` and `arping`; tests substitute a fake to check argv without root. */
export interface CommandRunner {
  run(argv: string[], opts: { timeoutMs: number }): Promise<CommandOutcome>;
  background(argv: string[], opts: { maxRunMs: number }): BackgroundProcess;
}

// `ip` and `arping` get the agents' fixed environment (C locale: their text is parsed), not hbd's.
const C_ENV: NodeJS.ProcessEnv = baseEnv();

export const systemCommands: CommandRunner = {
  async run(argv, { timeoutMs }) {
    // `ip -json addr show` grows with the host's addresses: keep all of it, it gets parsed.
    const r = await runProcess(argv, { timeoutMs, killGraceMs: 500, env: C_ENV, outputLimitBytes: 16 * 1024 * 1024 });
    return {
      exitCode: r.exitCode,
      signal: r.signal,
      timedOut: r.timedOut,
      stdout: r.stdout.text(),
      output: r.output.text(),
      spawnError: r.spawnError,
    };
  },
  background: (argv, { maxRunMs }) => spawnBackground(argv, { env: C_ENV, maxRunMs }),
};

export interface ArpSettings {
  /** Announcements sent. */
  count: number;
  /** Seconds between them; fractions allowed (each announcement is its own `arping -c 1`). */
  intervalS: number;
}

/**
 * Heartbeat's agents call send_arp with `-r REPEAT -i MS`: IPaddr 10 repeats every 500 ms,
 * IPaddr2 5 every 200 ms. We keep both. iputils arping cannot go below a one-second
 * interval, so hbd's own timer sends each announcement as a one-shot `arping -U -c 1`: the
 * first leaves at once, and when hbd dies (kill -9) the announcements stop with it instead
 * of a detached arping going on advertising a dead node's MAC.
 */
export const ARP_DEFAULTS: Record<IpAddrId, ArpSettings> = {
  IPaddr: { count: 10, intervalS: 0.5 },
  IPaddr2: { count: 5, intervalS: 0.2 },
  IPv6addr: { count: 5, intervalS: 0.2 },
};

/** What the resource.d wrappers print for the OCF outcome (ResourceManager greps status for it). */
/** An agent's own level word at the start of an output line. */
const LEVEL_WORD = /^(INFO|ERROR|WARNING|WARN|DEBUG): /;
const SAY = {
  success: 'INFO: Success',
  running: 'INFO: Running OK',
  stopped: 'INFO: Resource is stopped',
  failed: 'ERROR: Generic error',
};
/** How long a status call's reading of the addresses may serve the start that follows it. */
const SNAPSHOT_REUSE_MS = 250;

/** The wrapper's exit code for a status of a stopped address (OCF_NOT_RUNNING). */
const OCF_NOT_RUNNING = 7;

type BuiltinSpec = ResourceSpec & { agent: { kind: 'builtin'; id: IpAddrId } };

class Failure extends Error {
  constructor(message: string, readonly timedOut = false) {
    super(message);
  }
}

export class IpAddrAgent {
  private readonly arps = new Map<string, BackgroundProcess>();
  /** start/stop one at a time, so two VIPs never pick the same free label. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly arp: Record<IpAddrId, ArpSettings>;
  /**
   * What the last `status` read of the host's addresses: a takeover runs `status` then
   * `start` at once, and the start may use that reading instead of running `ip` again (one
   * process less between "node is dead" and the gratuitous ARP). Only while no start or
   * stop ran meanwhile (`changes`) and for SNAPSHOT_REUSE_MS.
   */
  private snapshot: { at: number; links: IpLink[]; changes: number } | null = null;
  private changes = 0;

  constructor(
    private readonly commands: CommandRunner = systemCommands,
    arp: Partial<Record<IpAddrId, ArpSettings>> = {},
  ) {
    this.arp = { ...ARP_DEFAULTS, ...arp };
  }

  /** The gratuitous ARP still being sent for `ip`, if any (for tests and shutdown). */
  pendingArp(ip: string): BackgroundProcess | undefined {
    const p = this.arps.get(ip);
    return p?.running() ? p : undefined;
  }

  /** Ends every ARP burst still running (daemon shutdown). */
  stopAllArps(): void {
    for (const p of this.arps.values()) p.kill();
    this.arps.clear();
  }

  run(spec: BuiltinSpec, action: AgentAction, ctx: AgentContext): Promise<AgentCall> {
    if (action === 'status') return this.call(spec, action, ctx);
    const next = this.queue.then(() => this.call(spec, action, ctx));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async call(spec: BuiltinSpec, action: AgentAction, ctx: AgentContext): Promise<AgentCall> {
    const started = performance.now();
    const id = spec.agent.id;
    const argv = [id, ...spec.args, action];
    const lines: string[] = [];
    // The output keeps the real IPaddr's words ("INFO: Success"); the log line gets its level
    // word from the logger, as every Heartbeat line has exactly one.
    const say = (level: 'info' | 'debug' | 'warn' | 'error', text: string): void => {
      lines.push(text);
      ctx.log(level, `${id}: ${text.replace(LEVEL_WORD, '')}`, id);
    };
    ctx.log(action === 'status' ? 'debug' : 'info', `Running ${argv.join(' ')}`, 'ResourceManager');
    const finish = (ok: boolean, extra: { running?: boolean; exitCode?: number; timedOut?: boolean; address?: HeldAddress } = {}): AgentCall => ({
      resource: spec.raw,
      action,
      argv,
      exitCode: extra.exitCode ?? (ok ? 0 : 1),
      signal: null,
      timedOut: extra.timedOut ?? false,
      output: lines.join('\n'),
      durationMs: performance.now() - started,
      ok,
      ...(extra.running === undefined ? {} : { running: extra.running }),
      ...(extra.address ? { address: extra.address } : {}),
    });

    try {
      if (spec.args.length !== 1) throw new Failure(`expects one argument ip[/cidr[/iface[/broadcast]]], got ${spec.args.length} in "${spec.raw}"`);
      const parsed = parseVip(spec.args[0] ?? '', FAMILIES[id]);
      if (!parsed.ok) throw new Failure(`${parsed.error} in "${spec.raw}"`);
      const vip = parsed.vip;
      const links = await this.readLinks(action, ctx);
      const here = findAddress(links, vip.ip, vip.iface);
      const held = here ? { ip: vip.ip, prefix: here.addr.prefixlen, dev: here.link.ifname } : undefined;

      if (action === 'status') {
        say('debug', here ? SAY.running : SAY.stopped);
        return finish(true, { running: !!here, exitCode: here ? 0 : OCF_NOT_RUNNING, ...(held ? { address: held } : {}) });
      }

      if (action === 'stop') {
        this.killArp(vip.ip, say);
        if (!here) {
          // Heartbeat: "Requested interface not in use" is a successful stop.
          say('info', `${vip.ip} is not configured here: nothing to remove`);
        } else {
          const del = ['ip', 'addr', 'del', `${vip.ip}/${here.addr.prefixlen}`, 'dev', here.link.ifname];
          say('info', del.join(' '));
          const r = await this.commands.run(del, { timeoutMs: ctx.timeoutMs });
          // Gone meanwhile (another stop) is as good as removed.
          if (r.exitCode !== 0 && findAddress(await this.links(ctx), vip.ip, vip.iface)) throw new Failure(`${del.join(' ')} failed: ${explain(r)}`, r.timedOut);
        }
        say('info', SAY.success);
        return finish(true);
      }

      // start
      if (here) {
        say('info', `${vip.ip} is already configured on ${here.addr.label ?? here.link.ifname}: nothing to add`);
        say('info', SAY.success);
        return finish(true, held ? { address: held } : {});
      }
      const placed = placeVip(links, vip, id);
      if (!placed.ok) throw new Failure(placed.error);
      const { link, cidr, label, broadcast } = placed.placement;
      if (!label && vip.family === 4) say('warn', `no free ${link.ifname}:N label (name too long): adding ${vip.ip} without one`);
      const add = ['ip', 'addr', 'add', `${vip.ip}/${cidr}`, ...(broadcast ? ['broadcast', broadcast] : []), 'dev', link.ifname, ...(label ? ['label', label] : []), ...(vip.family === 6 ? ['nodad'] : [])];
      say('info', add.join(' '));
      const r = await this.commands.run(add, { timeoutMs: ctx.timeoutMs });
      if (r.exitCode !== 0 && !/already assigned|File exists/i.test(r.output)) throw new Failure(`${add.join(' ')} failed: ${explain(r)}`, r.timedOut);
      if (arpCapable(link)) await this.announce(id, vip.ip, cidr, link, ctx);
      else say('debug', `no gratuitous ARP or neighbour advertisement on ${link.ifname} (no ARP on this device)`);
      say('info', SAY.success);
      return finish(true, { address: { ip: vip.ip, prefix: cidr, dev: link.ifname } });
    } catch (err) {
      if (!(err instanceof Failure)) throw err;
      say('error', `ERROR: ${err.message}`);
      say('error', SAY.failed);
      return finish(false, { timedOut: err.timedOut, ...(action === 'status' ? { running: false } : {}) });
    } finally {
      if (action !== 'status') this.changes++;
    }
  }

  /** The host's addresses for a call: a start may reuse what a status just read. */
  private async readLinks(action: AgentAction, ctx: AgentContext): Promise<IpLink[]> {
    if (action === 'status') {
      const changes = this.changes;
      const links = await this.links(ctx);
      this.snapshot = { at: performance.now(), links, changes };
      return links;
    }
    const snap = this.snapshot;
    this.snapshot = null;
    this.changes++;
    if (action === 'start' && snap && snap.changes === this.changes - 1 && performance.now() - snap.at <= SNAPSHOT_REUSE_MS) return snap.links;
    return this.links(ctx);
  }

  /**
   * Announces an address we already hold once more (a node that held it too has let go):
   * the LAN may still point at the other node's MAC. False when it is not configured here.
   */
  async reannounce(spec: BuiltinSpec, ctx: AgentContext): Promise<boolean> {
    const parsed = parseVip(spec.args[0] ?? '', FAMILIES[spec.agent.id]);
    if (!parsed.ok) return false;
    try {
      const here = findAddress(await this.links(ctx), parsed.vip.ip, parsed.vip.iface);
      if (!here || !arpCapable(here.link)) return false;
      await this.announce(spec.agent.id, parsed.vip.ip, here.addr.prefixlen, here.link, ctx);
      return true;
    } catch (err) {
      if (!(err instanceof Failure)) throw err;
      ctx.log('error', `${spec.agent.id}: ${err.message}`, spec.agent.id);
      return false;
    }
  }

  private async links(ctx: AgentContext): Promise<IpLink[]> {
    const argv = ['ip', '-json', 'addr', 'show'];
    const r = await this.commands.run(argv, { timeoutMs: ctx.timeoutMs });
    if (r.exitCode !== 0) throw new Failure(`${argv.join(' ')} failed: ${explain(r)}`, r.timedOut);
    try {
      return parseIpAddrJson(r.stdout);
    } catch (err) {
      throw new Failure(`cannot read the output of ${argv.join(' ')}: ${(err as Error).message}`);
    }
  }

  private killArp(ip: string, say: (level: 'info', text: string) => void): void {
    const p = this.arps.get(ip);
    this.arps.delete(ip);
    if (p?.running()) {
      p.kill();
      say('info', `killed previously running arping for ${ip} (pid ${p.pid})`);
    }
  }

  /**
   * Starts the gratuitous ARP burst and returns as soon as the first arping runs: the burst
   * lasts seconds, and a takeover must not wait for it. A failure is logged when it ends.
   */
  private async announce(id: IpAddrId, ip: string, prefix: number, link: IpLink, ctx: AgentContext): Promise<void> {
    const { count, intervalS } = this.arp[id];
    this.arps.get(ip)?.kill();
    // One announcement per process, paced by our timer (see ARP_DEFAULTS), for IPv6 too.
    const argv = ip.includes(':') ? [SEND_UA, '-i', '0', '-c', '1', ip, String(prefix), link.ifname] : ['arping', '-U', '-c', '1', '-I', link.ifname, ip];
    ctx.log('info', `${id}: ${argv.join(' ')} (${count} times, every ${Math.round(intervalS * 1000)} ms)`, id);
    const p = new ArpBurst(this.commands, argv, count, intervalS * 1000);
    this.arps.set(ip, p);
    void p.exited.then((o) => {
      if (this.arps.get(ip) === p) this.arps.delete(ip);
      if (o.killed || (o.exitCode === 0 && !o.spawnError)) return;
      const v6 = ip.includes(':');
      const why = o.spawnError ? `${o.spawnError.code ?? o.spawnError.message} (is ${v6 ? 'resource-agents' : 'iputils-arping'} installed?)` : o.signal ? `signal ${o.signal}` : `rc=${o.exitCode}`;
      ctx.log('error', `${id}: Could not send ${v6 ? 'unsolicited neighbour advertisements' : 'gratuitous arps'} for ${ip} on ${link.ifname}: ${why}${o.output.trim() ? `: ${o.output.trim()}` : ''}`, id);
    });
    await p.spawned;
  }
}

/**
 * A series of one-shot arpings paced by our own timer. It looks like one background
 * process to the rest of the agent: it has "exited" once every announcement has, or at the
 * first failure, or when killed.
 */
class ArpBurst implements BackgroundProcess {
  readonly spawned: Promise<NodeJS.ErrnoException | null>;
  readonly exited: Promise<BackgroundOutcome>;
  private readonly live = new Set<BackgroundProcess>();
  private timer: NodeJS.Timeout | null = null;
  private sent = 0;
  private done = false;
  private last: BackgroundProcess | null = null;
  private finish!: (o: BackgroundOutcome) => void;

  constructor(
    private readonly commands: CommandRunner,
    readonly argv: string[],
    private readonly count: number,
    private readonly intervalMs: number,
  ) {
    this.exited = new Promise((resolve) => {
      this.finish = (o) => {
        if (this.done) return;
        this.done = true;
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
        resolve(o);
      };
    });
    this.spawned = this.sendOne().spawned;
  }

  get pid(): number | null {
    return this.last?.pid ?? null;
  }

  private sendOne(): BackgroundProcess {
    const p = this.commands.background(this.argv, { maxRunMs: 5000 });
    this.last = p;
    this.sent += 1;
    this.live.add(p);
    void p.exited.then((o) => {
      this.live.delete(p);
      if (this.done) return;
      if (o.spawnError || (!o.killed && o.exitCode !== 0)) this.finish({ ...o, killed: false });
      else if (this.sent >= this.count && this.live.size === 0) this.finish({ ...o, killed: false });
    });
    if (this.sent < this.count) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.done) this.sendOne();
      }, this.intervalMs);
    }
    return p;
  }

  running(): boolean {
    return !this.done;
  }

  kill(): void {
    if (this.done) return;
    for (const p of this.live) p.kill();
    this.finish({ exitCode: null, signal: null, output: '', spawnError: null, killed: true });
  }
}

function explain(r: CommandOutcome): string {
  if (r.spawnError) return `${r.spawnError.code ?? r.spawnError.message}`;
  if (r.timedOut) return 'timed out';
  const out = r.output.trim();
  return `${r.signal ? `signal ${r.signal}` : `rc=${r.exitCode}`}${out ? `: ${out}` : ''}`;
}
