// A Heartbeat cluster on a namespace LAN (src/lib/netns.ts): the seed tutorial's world,
// hosts `primary` and `secondary` running real `hbd -f` daemons and a small web service that
// answers with the host's name, and a `client` host that talks to the virtual IPs.
//
// Every process is started in the foreground and held by PID (never daemonised), every file
// lives in one temp dir, and `withCluster` removes processes, namespaces (and with them every
// address) and files in a `finally`, then checks that nothing of the run is left.
import { execFile, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import type { TestContext } from 'node:test';
import { request } from '../../src/control/client.js';
import type { StatusSnapshot } from '../../src/status/snapshot.js';
import { onOutputLines } from '../../src/lib/lines.js';
import { inNs, Lan, namespacesStartingWith, nsPids, type Host } from '../../src/lib/netns.js';
import { liveOf, waitGone } from '../../src/lib/proc-stat.js';
import { signalPid } from '../../src/lib/signal.js';
import { waitFor, type Check } from '../../src/lib/wait.js';
import { fromRoot } from './repo.js';

const run = promisify(execFile);

export const BIN = {
  hbd: fromRoot('dist', 'src', 'cli', 'hbd.js'),
  hbctl: fromRoot('dist', 'src', 'cli', 'hbctl.js'),
  hb_standby: fromRoot('dist', 'src', 'cli', 'hb_standby.js'),
  hb_takeover: fromRoot('dist', 'src', 'cli', 'hb_takeover.js'),
  cl_status: fromRoot('dist', 'src', 'cli', 'cl_status.js'),
  web: fromRoot('dist', 'src', 'demo', 'web.js'),
  probe: fromRoot('dist', 'src', 'lib', 'http-probe.js'),
};

/** Wall-clock milliseconds with sub-ms resolution; comparable with http-probe's times. */
export const wall = (): number => performance.timeOrigin + performance.now();

export interface LogLine {
  /** wall() when the line arrived. */
  at: number;
  text: string;
}

export interface ScriptSpec {
  name: string;
  dir: 'init.d' | 'resource.d';
  /**
   * Shell script text. It sees only hbd's script environment: $HA_CURHOST, and $HA_DIR, the
   * node's config dir, whose parent is the node's scratch dir (nodeDir).
   */
  body: string;
}

export interface NsClusterOptions {
  subnet?: string;
  /** Prefix of the LAN's namespace names (default hbt): a test's own, so its leftovers are recognisable. */
  label?: string;
  /** Server hosts running hbd and the web service; default primary .1 and secondary .2. */
  nodes?: { name: string; octet: number }[];
  /** The client host (curl, neighbour table); default client .10; null for none. */
  client?: { name: string; octet: number } | null;
  /**
   * Put the client on a LAN of its own (a bridge made here, with this subnet) instead of the
   * servers' LAN: the cloud tests' "internet", reached only through their cloud router.
   */
  clientNet?: { bridge: string; subnet: string };
  keepalive?: string;
  warntime?: string;
  deadtime?: string;
  initdead?: string;
  autoFailback?: 'on' | 'off' | 'legacy';
  /** haresources text, identical on every node. */
  haresources: string;
  scripts?: ScriptSpec[];
  /** Start the web service on every server host (default true). */
  web?: boolean;
  extraHaCf?: string;
  /** Media lines of ha.cf (default: `ucast eth0 ADDR` for every node). */
  media?: string[];
  /** The hbd to run (default: this build's) and extra arguments for it. */
  hbd?: string;
  hbdArgs?: string[];
}

export interface Answer {
  sent: number;
  t: number;
  body?: string;
  err?: string;
}

const alive = (p: ChildProcess): boolean => p.exitCode === null && p.signalCode === null;

function waitExit(p: ChildProcess, timeoutMs: number): Promise<void> {
  if (!alive(p)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`pid ${p.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
    p.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** The client's loop against a URL: every answer with its time, as http-probe prints them. */
export class Probe {
  readonly answers: Answer[] = [];
  constructor(
    readonly url: string,
    readonly child: ChildProcess,
  ) {
    onOutputLines(child, (text) => {
      if (!text.startsWith('{')) return;
      try {
        this.answers.push(JSON.parse(text) as Answer);
      } catch {
        /* a torn line: ignore */
      }
    });
  }

  /** The first answer after `after` (wall ms) that satisfies `pred`. */
  async waitFor(what: string, pred: (a: Answer) => boolean, after: number, timeoutMs = 15_000): Promise<Answer> {
    return waitFor(what, () => this.answers.find((x) => x.sent >= after && pred(x)), {
      timeoutMs,
      pollMs: 20,
      error: () => {
        const tail = this.answers.slice(-8).map((x) => `${new Date(x.t).toISOString().slice(11, 23)} ${x.body ?? `(${x.err})`}`);
        return new Error(`timed out after ${timeoutMs} ms waiting for the client to see ${what} at ${this.url}; last answers:\n  ${tail.join('\n  ')}`);
      },
    });
  }

  /** The last answer sent before `t` that satisfies `pred`. */
  lastBefore(pred: (a: Answer) => boolean, t: number): Answer | undefined {
    return [...this.answers].reverse().find((x) => x.t < t && pred(x));
  }

  since(t: number): Answer[] {
    return this.answers.filter((x) => x.sent >= t);
  }

  stop(): void {
    if (this.child.pid && alive(this.child)) process.kill(this.child.pid, 'SIGKILL');
  }
}

export const says = (name: string) => (a: Answer): boolean => a.body?.startsWith(`Droplet: ${name},`) === true;

export class NsCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'hbt-ns-'));
  readonly nodes: { name: string; octet: number }[];
  readonly clientName: string | null;
  readonly hbd = new Map<string, ChildProcess>();
  readonly logs = new Map<string, LogLine[]>();
  /** Everything this cluster started, for cleanup and the leftover check. */
  readonly spawned: ChildProcess[] = [];
  /** Servers from their power-off to their boot. */
  private readonly poweredOff = new Set<string>();
  private readonly opts: Required<Omit<NsClusterOptions, 'client' | 'clientNet' | 'subnet' | 'label' | 'nodes' | 'scripts' | 'extraHaCf' | 'media' | 'hbd' | 'hbdArgs'>> & NsClusterOptions;

  private constructor(
    readonly lan: Lan,
    opts: NsClusterOptions,
  ) {
    this.opts = {
      keepalive: '100ms',
      warntime: '500ms',
      deadtime: '1',
      initdead: '3',
      autoFailback: 'on',
      web: true,
      ...opts,
    };
    this.nodes = opts.nodes ?? [
      { name: 'primary', octet: 1 },
      { name: 'secondary', octet: 2 },
    ];
    this.clientName = opts.client === null ? null : (opts.client?.name ?? 'client');
  }

  /** Adds the hosts to the LAN, writes every node's configuration, starts the web services. */
  static async create(lan: Lan, opts: NsClusterOptions): Promise<NsCluster> {
    const c = new NsCluster(lan, opts);
    for (const n of c.nodes) await lan.addHost(n.name, n.octet);
    if (c.clientName && opts.clientNet) await lan.addBridge(opts.clientNet.bridge, opts.clientNet.subnet);
    if (c.clientName) await lan.addHost(c.clientName, opts.client?.octet ?? 10, 'eth0', opts.clientNet?.bridge ?? 'br0');
    for (const n of c.nodes) c.writeConfig(n.name);
    if (c.opts.web) for (const n of c.nodes) await c.startWeb(n.name);
    return c;
  }

  get names(): string[] {
    return this.nodes.map((n) => n.name);
  }

  host(name: string): Host {
    return this.lan.host(name);
  }

  get client(): Host {
    if (!this.clientName) throw new Error('this cluster has no client host');
    return this.lan.host(this.clientName);
  }

  nodeDir(node: string): string {
    return join(this.dir, node);
  }

  configDir(node: string): string {
    return join(this.dir, node, 'ha.d');
  }

  socket(node: string): string {
    return join(this.dir, node, 'hbd.sock');
  }

  writeConfig(node: string): void {
    const o = this.opts;
    const dir = this.configDir(node);
    mkdirSync(join(dir, 'resource.d'), { recursive: true });
    mkdirSync(join(this.nodeDir(node), 'init.d'), { recursive: true });
    const subnet = this.lan.subnet;
    writeFileSync(
      join(dir, 'ha.cf'),
      [
        `# written by test/helpers/cluster.ts for node ${node}`,
        `logfile ${join(this.nodeDir(node), 'ha-log')}`,
        `keepalive ${o.keepalive}`,
        `warntime ${o.warntime}`,
        `deadtime ${o.deadtime}`,
        `initdead ${o.initdead}`,
        'udpport 694',
        ...(o.media ?? this.nodes.map((n) => `ucast eth0 ${subnet}.${n.octet}`)),
        `node ${this.names.join(' ')}`,
        `auto_failback ${o.autoFailback}`,
        o.extraHaCf ?? '',
        '',
      ].join('\n'),
    );
    const auth = join(dir, 'authkeys');
    writeFileSync(auth, 'auth 1\n1 sha1 namespace-test-secret\n');
    chmodSync(auth, 0o600);
    writeFileSync(join(dir, 'haresources'), o.haresources.endsWith('\n') ? o.haresources : `${o.haresources}\n`);
    for (const s of o.scripts ?? []) {
      const path = s.dir === 'init.d' ? join(this.nodeDir(node), 'init.d', s.name) : join(dir, 'resource.d', s.name);
      writeFileSync(path, s.body);
      chmodSync(path, 0o755);
    }
  }

  private track(name: string, child: ChildProcess): void {
    this.spawned.push(child);
    const log = this.logs.get(name) ?? [];
    this.logs.set(name, log);
    onOutputLines(child, (text) => log.push({ at: wall(), text }));
    // A process that ends on its own leaves no line of its own; the failure report should say how it ended.
    child.once('exit', (code, signal) => log.push({ at: wall(), text: `--- test: pid ${child.pid} exited (code ${code}, signal ${signal})` }));
  }

  async startWeb(node: string): Promise<ChildProcess> {
    const h = this.host(node);
    const child = this.lan.spawnIn(node, [process.execPath, BIN.web, node, h.address, '80'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.track(`web:${node}`, child);
    await this.waitFor(`the web service on ${node} to listen`, () => (this.logs.get(`web:${node}`) ?? []).some((l) => l.text.startsWith('listening')), 30_000);
    return child;
  }

  /** Starts `hbd -f` in the node's namespace; returns at once (see waitFormed). */
  start(node: string, extraArgs: string[] = []): ChildProcess {
    const prev = this.hbd.get(node);
    if (prev && alive(prev)) throw new Error(`hbd on ${node} is already running (pid ${prev.pid})`);
    const child = this.lan.spawnIn(
      node,
      [
        process.execPath,
        this.opts.hbd ?? BIN.hbd,
        '-f',
        '--config-dir',
        this.configDir(node),
        '--node',
        node,
        '--state-dir',
        join(this.nodeDir(node), 'state'),
        '--control-socket',
        this.socket(node),
        '--init-dir',
        join(this.nodeDir(node), 'init.d'),
        ...(this.opts.hbdArgs ?? []),
        ...extraArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.hbd.set(node, child);
    this.track(node, child);
    this.logs.get(node)?.push({ at: wall(), text: `--- test: hbd started, pid ${child.pid}` });
    return child;
  }

  startAll(): void {
    for (const n of this.names) this.start(n);
  }

  running(node: string): boolean {
    const p = this.hbd.get(node);
    return !!p && alive(p);
  }

  /** The PID of the node's running hbd (its /proc/PID/mounts: what its agents mounted), or null. */
  hbdPid(node: string): number | null {
    const p = this.hbd.get(node);
    return p?.pid && alive(p) ? p.pid : null;
  }

  /** kill -9 of the node's hbd, by PID; returns the wall time of the kill, after it exited. */
  async kill9(node: string): Promise<number> {
    const p = this.hbd.get(node);
    if (!p?.pid || !alive(p)) throw new Error(`hbd on ${node} is not running`);
    const at = wall();
    process.kill(p.pid, 'SIGKILL');
    this.logs.get(node)?.push({ at, text: `--- test: kill -9 ${p.pid}` });
    await waitExit(p, 5000);
    return at;
  }

  /** SIGTERM (graceful: resources released, goodbye sent); waits for the exit. */
  async term(node: string, timeoutMs = 15_000): Promise<number | null> {
    const p = this.hbd.get(node);
    if (!p?.pid || !alive(p)) throw new Error(`hbd on ${node} is not running`);
    process.kill(p.pid, 'SIGTERM');
    await waitExit(p, timeoutMs);
    return p.exitCode;
  }

  async status(node: string): Promise<StatusSnapshot> {
    const r = await request<StatusSnapshot>(this.socket(node), { cmd: 'status' }, 2000);
    if (!r.ok) throw new Error(`${node}: ${r.error.message}`);
    return r.result;
  }

  /** The same snapshot through the real command: `hbctl status --json --socket PATH`. */
  async hbctlStatus(node: string): Promise<StatusSnapshot> {
    const { stdout } = await run(process.execPath, [BIN.hbctl, 'status', '--json', '--socket', this.socket(node)], { timeout: 10_000 });
    return JSON.parse(stdout) as StatusSnapshot;
  }

  /** Runs a classic command (hb_standby, hb_takeover, cl_status) on a node, as its operator would. */
  async cli(node: string, tool: 'hb_standby' | 'hb_takeover' | 'cl_status', args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
    const h = this.host(node);
    return new Promise((resolve) => {
      execFile(
        'ip',
        ['netns', 'exec', h.ns, process.execPath, BIN[tool], ...args],
        { timeout: 10_000, env: { ...process.env, HBD_CONTROL_SOCKET: this.socket(node) } },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  /** Polls `check` until it returns something truthy; the error names what and shows the logs. */
  async waitFor<T>(what: string, check: Check<T>, timeoutMs = 15_000, pollMs = 25): Promise<T> {
    return waitFor(what, check, { timeoutMs, pollMs, detail: () => this.dump() });
  }

  /**
   * Every running daemon sees every running daemon active, its startup settled, and for each
   * group listed in `owners` (by index) the owner given (null: nobody), with no start or stop
   * under way anywhere.
   */
  async stable(owners: Record<number, string | null>): Promise<boolean> {
    const up = this.names.filter((n) => this.running(n));
    for (const n of up) {
      const s = await this.status(n);
      if (!s.settled) return false;
      for (const v of s.nodes) if (up.includes(v.name) && v.status !== 'active') return false;
      for (const [g, want] of Object.entries(owners)) {
        const gv = s.groups[Number(g)];
        if (!gv) throw new Error(`no group ${g}`);
        if (gv.owner !== want) return false;
        if (Object.values(gv.phases).some((p) => p !== 'running' && p !== 'stopped')) return false;
      }
    }
    return up.length > 0;
  }

  async waitStable(what: string, owners: Record<number, string | null>, timeoutMs = 15_000): Promise<void> {
    await this.waitFor(what, () => this.stable(owners), timeoutMs);
  }

  /**
   * A command of the test's own in a server's namespace (a look at its addresses). A power-off
   * kills every process in the namespace by PID, this one too if it runs at that moment; the
   * test only looked, so on a host powered off meanwhile it runs once more, after the sweep.
   */
  async inHost(host: string, argv: string[]): Promise<{ stdout: string }> {
    try {
      return await inNs(this.host(host).ns, argv);
    } catch (err) {
      if (!this.poweredOff.has(host)) throw err;
      return inNs(this.host(host).ns, argv);
    }
  }

  /** IPv4 addresses configured in a host's namespace (lo excluded). */
  async addresses(host: string): Promise<string[]> {
    const { stdout } = await this.inHost(host, ['ip', '-json', '-4', 'addr', 'show']);
    const links = JSON.parse(stdout) as { ifname: string; addr_info?: { local: string; label?: string }[] }[];
    return links.filter((l) => l.ifname !== 'lo').flatMap((l) => (l.addr_info ?? []).map((a) => a.local));
  }

  /** The server hosts on which `ip` is configured. */
  async holders(ip: string): Promise<string[]> {
    const out: string[] = [];
    for (const n of this.names) if ((await this.addresses(n)).includes(ip)) out.push(n);
    return out;
  }

  /** The client's neighbour entry for `ip` (`ip neigh show IP`), or null. */
  async neigh(ip: string): Promise<{ lladdr: string | null; state: string[] } | null> {
    const { stdout } = await inNs(this.client.ns, ['ip', '-json', 'neigh', 'show', ip]);
    const rows = JSON.parse(stdout || '[]') as { dst: string; lladdr?: string; state?: string[] }[];
    const r = rows.find((x) => x.dst === ip);
    return r ? { lladdr: r.lladdr ?? null, state: r.state ?? [] } : null;
  }

  /** One request with the real curl from the client, as in the seed tutorial. */
  async curl(ip: string, timeoutS = 1): Promise<string | null> {
    try {
      const { stdout } = await inNs(this.client.ns, ['curl', '-s', '-m', String(timeoutS), `http://${ip}/`], (timeoutS + 5) * 1000);
      return stdout.trim();
    } catch {
      return null;
    }
  }

  /** Starts the client's request loop against http://IP/ (one fresh connection per attempt; with overlap, one every interval whatever the answers before: see lib/http-probe.ts). */
  probe(ip: string, intervalMs = 50, timeoutMs = 300, opts: { overlap?: boolean } = {}): Probe {
    const argv = [process.execPath, BIN.probe, `http://${ip}/`, String(intervalMs), String(timeoutMs), ...(opts.overlap ? ['--overlap'] : [])];
    const child = this.lan.spawnIn(this.client.name, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.spawned.push(child);
    return new Probe(`http://${ip}/`, child);
  }

  /** Processes in a host's namespace (`ip netns pids`): ours, since we made the namespace. */
  async pidsIn(host: string): Promise<number[]> {
    return this.lan.pids(host);
  }

  /** Whether an arping (a gratuitous ARP burst of IPaddr/IPaddr2) still runs on the host. */
  async arpingRunning(host: string): Promise<boolean> {
    for (const pid of await this.pidsIn(host)) {
      try {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'arping') return true;
      } catch {
        /* gone */
      }
    }
    return false;
  }

  /**
   * Waits until the host's ARP bursts are over. A kill -9 of hbd leaves its arping running
   * (as Heartbeat's send_arp would be); tests that watch the client's neighbour entry wait
   * for it so that only the survivor's announcements can move the entry.
   */
  async waitArpQuiet(host: string, timeoutMs = 15_000): Promise<void> {
    await this.waitFor(`the gratuitous ARP burst on ${host} to end`, async () => !(await this.arpingRunning(host)), timeoutMs, 100);
  }

  /** Polls the client's neighbour entry for `ip` until it names `mac`; returns that wall time. */
  async waitNeighMac(ip: string, mac: string, timeoutMs = 5000): Promise<number> {
    return this.waitFor(`the client's neighbour entry for ${ip} to become ${mac}`, async () => ((await this.neigh(ip))?.lladdr === mac ? wall() : null), timeoutMs, 5);
  }

  /**
   * The host goes away as in the tutorial's `sudo poweroff`: every process in its namespace is
   * killed (by PID) and its cable pulled. Returns the wall time it happened.
   */
  async powerOff(host: string): Promise<number> {
    const at = wall();
    this.poweredOff.add(host);
    await this.lan.setCable(host, false);
    await this.lan.killAllIn(host);
    this.logs.get(host)?.push({ at, text: '--- test: power off (every process killed, cable pulled)' });
    await this.waitFor(`every process on ${host} to end`, async () => liveOf(await this.pidsIn(host)).length === 0, 5000, 20);
    return at;
  }

  /**
   * The host comes back as after a boot: only its own address configured (a reboot forgets
   * the virtual IPs), cable in, web service and hbd started.
   */
  async boot(host: string): Promise<number> {
    const h = this.host(host);
    this.poweredOff.delete(host);
    const { stdout } = await inNs(h.ns, ['ip', '-json', '-4', 'addr', 'show', 'dev', h.iface]);
    const addrs = (JSON.parse(stdout) as { addr_info?: { local: string; prefixlen: number }[] }[])[0]?.addr_info ?? [];
    for (const a of addrs) if (a.local !== h.address) await inNs(h.ns, ['ip', 'addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', h.iface]);
    await this.lan.setCable(host, true);
    const at = wall();
    if (this.opts.web) await this.startWeb(host);
    this.start(host);
    return at;
  }

  logText(node: string): string {
    return (this.logs.get(node) ?? []).map((l) => l.text).join('\n');
  }

  firstLog(node: string, re: RegExp, after = 0): LogLine | undefined {
    return (this.logs.get(node) ?? []).find((l) => l.at >= after && re.test(l.text));
  }

  readFile(node: string, name: string): string {
    const p = join(this.nodeDir(node), name);
    return existsSync(p) ? readFileSync(p, 'utf8') : '';
  }

  dump(lines = 40): string {
    return [...this.logs.entries()]
      .filter(([n]) => !n.startsWith('web:'))
      .map(([n, l]) => `--- ${n} (last ${lines} lines)\n${l.slice(-lines).map((x) => `${new Date(x.at).toISOString().slice(11, 23)} ${x.text}`).join('\n')}`)
      .join('\n');
  }

  /** Kills everything this cluster started (by PID) and removes its files. */
  async cleanup(): Promise<void> {
    for (const p of this.spawned) if (p.pid && alive(p)) signalPid(p.pid);
    await Promise.all(this.spawned.map((p) => waitExit(p, 5000).catch(() => undefined)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Runs `fn` with a fresh LAN and cluster; always kills every process, deletes every namespace
 * (so every address), removes every file, then checks that no namespace of this LAN and no
 * process it started is left. A leftover fails the test (or is reported, when `fn` failed).
 */
export async function withCluster<T>(opts: NsClusterOptions, fn: (c: NsCluster) => Promise<T>): Promise<T> {
  const lan = new Lan({ subnet: opts.subnet ?? '10.231.1', ...(opts.label ? { label: opts.label } : {}) });
  let cluster: NsCluster | null = null;
  let failure: unknown = null;
  try {
    await lan.create();
    cluster = await NsCluster.create(lan, opts);
    return await fn(cluster);
  } catch (err) {
    failure = err;
    if (cluster && err instanceof Error && !err.message.includes('\n--- ')) err.message += `\n${cluster.dump()}`;
    throw err;
  } finally {
    const pids = new Set<number>(cluster?.spawned.flatMap((p) => (p.pid ? [p.pid] : [])) ?? []);
    for (const h of lan.hosts.values()) for (const pid of await nsPids(h.ns)) pids.add(pid);
    for (const pid of await nsPids(lan.bridgeNs)) pids.add(pid);
    await cluster?.cleanup();
    await lan.destroy();
    // SIGKILL is asynchronous: give the kernel a moment before calling anything a leftover.
    const left = await waitGone([...pids], 3000);
    const ns = await namespacesStartingWith(lan.nsPrefix);
    const dirLeft = cluster && existsSync(cluster.dir) ? [cluster.dir] : [];
    if (left.length || ns.length || dirLeft.length) {
      const msg = `left behind: processes ${left.join(' ') || 'none'}; namespaces ${ns.join(' ') || 'none'}; files ${dirLeft.join(' ') || 'none'}`;
      if (failure === null) throw new Error(msg);
      console.log(`# ${msg}`);
    }
  }
}

/**
 * Steps of one scenario sharing a cluster, as subtests: once a step fails, the later ones are
 * skipped (they would only fail for the same reason).
 */
export function stepper(t: TestContext): (name: string, fn: () => Promise<void>, opts?: { todo?: string }) => Promise<void> {
  let broken: string | null = null;
  return async (name, fn, opts = {}) => {
    if (broken) {
      await t.test(name, { skip: `an earlier step failed: ${broken}` }, () => undefined);
      return;
    }
    // A `todo` step states the behaviour we want and a known bug that breaks it: it runs and
    // reports, but does not fail the suite and does not stop the steps after it.
    await t.test(name, opts.todo ? { todo: opts.todo } : {}, async () => {
      try {
        await fn();
      } catch (err) {
        if (!opts.todo) broken = name;
        throw err;
      }
    });
  };
}

/** hh:mm:ss.mmm of a wall time, for diagnostics. */
export const clock = (t: number): string => new Date(t).toISOString().slice(11, 23);
