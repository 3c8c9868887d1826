#!/usr/bin/env node
// `npm run demo`: the seed tutorial (DigitalOcean's "High Availability Setup with Heartbeat and
// Floating IPs") on this one machine, in network namespaces. Hosts primary and secondary run
// hbd with the example configuration (examples/ha.d) and a web service that answers with the
// host's name; a client runs the tutorial's curl loop against the virtual IP. The primary is
// powered off, the answers switch to secondary; it is powered on again, the answers switch back.
// Everything it creates (namespaces, addresses, processes, files) is removed at the end, on
// Ctrl-C and on any error.
import { execFile, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { request } from '../control/client.js';
import type { StatusSnapshot } from '../daemon/view.js';
import { inNs, World } from './world.js';

const run = promisify(execFile);

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const HBD = join(ROOT, 'dist', 'src', 'cli', 'hbd.js');
const WEB = join(ROOT, 'dist', 'src', 'demo', 'web.js');
const EXAMPLES = join(ROOT, 'examples');
const SUBNET = '10.231.1';
const VIP = `${SUBNET}.100`;
const HOSTS = [
  { name: 'primary', octet: 1 },
  { name: 'secondary', octet: 2 },
  { name: 'client', octet: 10 },
];
const SERVERS = ['primary', 'secondary'];
const LOOP_SLEEP = '0.2';
/** Answers in a row from the expected host that close a phase of the demo. */
const SETTLE_ANSWERS = 10;

const USAGE = `usage: npm run demo [-- --hbd-only]

Runs the seed tutorial's two-node cluster in network namespaces on this machine (needs root).

  --hbd-only   instead of powering the primary off and on, kill -9 only its hbd and start
               only hbd again (its virtual IP and web service stay up meanwhile)
`;

const wall = (): number => performance.timeOrigin + performance.now();
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
function stamp(t: number): string {
  const d = new Date(t);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
function say(who: string, text: string, at = wall()): void {
  process.stdout.write(`${stamp(at)}  ${who.padEnd(9)} ${text}\n`);
}
function headline(text: string): void {
  process.stdout.write(`\n==> ${text}\n`);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function onLines(child: ChildProcess, fn: (line: string, at: number) => void): void {
  for (const s of [child.stdout, child.stderr]) {
    let partial = '';
    s?.setEncoding('utf8');
    s?.on('data', (chunk: string) => {
      const at = wall();
      partial += chunk;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        fn(partial.slice(0, nl), at);
        partial = partial.slice(nl + 1);
      }
    });
  }
}

async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs: number): Promise<T> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch {
      /* not yet */
    }
    if (performance.now() > until) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(25);
  }
}

interface Answer {
  at: number;
  text: string;
  /** Who answered ("primary", "secondary"), or null for an error line. */
  from: string | null;
}

class Demo {
  readonly dir = mkdtempSync(join(tmpdir(), 'hbdemo-'));
  readonly hbd = new Map<string, ChildProcess>();
  readonly web = new Map<string, ChildProcess>();
  readonly answers: Answer[] = [];
  /** hbd's log lines as they arrived, per node. */
  readonly logs = new Map<string, { at: number; text: string }[]>();
  /** When the client's neighbour entry for the VIP changed, and to whose MAC. */
  readonly neighbour: { at: number; owner: string }[] = [];
  private neighStop = false;

  constructor(
    readonly world: World,
    readonly hbdOnly: boolean,
  ) {
    world.dirs.push(this.dir);
  }

  nodeDir(n: string): string {
    return join(this.dir, n);
  }

  socket(n: string): string {
    return join(this.dir, n, 'hbd.sock');
  }

  async createWorld(): Promise<void> {
    headline("The seed tutorial's world: hosts primary, secondary and client on one LAN (network namespaces)");
    await this.world.createLan();
    say('world', `bridge br0 in namespace ${this.world.bridgeNs}`);
    for (const h of HOSTS) {
      const host = await this.world.addHost(h.name, h.octet);
      say('world', `host ${h.name.padEnd(9)} namespace ${host.ns}, eth0 ${host.address}/24, MAC ${host.mac}`);
    }
  }

  writeConfig(): void {
    headline('Configuration: examples/ha.d and examples/init.d, the same files on both nodes');
    for (const n of SERVERS) {
      const ha = join(this.nodeDir(n), 'ha.d');
      mkdirSync(ha, { recursive: true });
      cpSync(join(EXAMPLES, 'ha.d'), ha, { recursive: true });
      cpSync(join(EXAMPLES, 'init.d'), join(this.nodeDir(n), 'init.d'), { recursive: true });
      chmodSync(join(ha, 'authkeys'), 0o600);
      // The demo logs to a file of its own rather than to this machine's syslog.
      const cf = readFileSync(join(ha, 'ha.cf'), 'utf8').replace(/^logfacility\s.*$/m, `logfile ${join(this.nodeDir(n), 'ha-log')}`);
      writeFileSync(join(ha, 'ha.cf'), cf);
    }
    const meaningful = (f: string) =>
      readFileSync(join(EXAMPLES, 'ha.d', f), 'utf8')
        .split('\n')
        .map((l) => l.replace(/#.*/, '').trim().replace(/\s+/g, ' '))
        .filter(Boolean);
    say('config', `ha.cf:       ${meaningful('ha.cf').filter((l) => !l.startsWith('logfacility')).join('; ')}`);
    say('config', `haresources: ${meaningful('haresources').join('; ')}`);
    say('config', 'authkeys:    sha1 (copied with mode 600); logs go to a temp dir instead of syslog');
  }

  async startWeb(n: string): Promise<void> {
    const h = this.world.host(n);
    const child = this.world.spawnIn(n, [process.execPath, WEB, n, h.address, '80']);
    let listening = false;
    onLines(child, (line) => {
      if (line.startsWith('listening')) listening = true;
      else say(n, `web: ${line}`);
    });
    this.web.set(n, child);
    await waitFor(`the web service on ${n}`, () => listening, 10_000);
    say(n, `web service (pid ${child.pid}) answers "Droplet: ${n}, IP Address: ${h.address}" on port 80`);
  }

  startHbd(n: string): ChildProcess {
    const child = this.world.spawnIn(n, [
      process.execPath,
      HBD,
      '-f',
      '--config-dir',
      join(this.nodeDir(n), 'ha.d'),
      '--node',
      n,
      '--state-dir',
      join(this.nodeDir(n), 'state'),
      '--control-socket',
      this.socket(n),
      '--init-dir',
      join(this.nodeDir(n), 'init.d'),
    ]);
    say(n, `hbd -f --node ${n} started (pid ${child.pid})`);
    onLines(child, (line, at) => {
      const m = /^hbd\[\d+\]: \S+ (\w+): (.*)$/.exec(line);
      const text = m ? m[2]! : line;
      const log = this.logs.get(n) ?? [];
      this.logs.set(n, log);
      log.push({ at, text });
      if (/Status update for node|: is late:/.test(text)) return;
      say(n, `hbd: ${text}`, at);
    });
    this.hbd.set(n, child);
    return child;
  }

  async status(n: string): Promise<StatusSnapshot> {
    const r = await request<StatusSnapshot>(this.socket(n), { cmd: 'status' }, 2000);
    if (!r.ok) throw new Error(r.error.message);
    return r.result;
  }

  /** Both daemons see both nodes active, and `owner` running the group, nothing in flight. */
  async settledOn(owner: string): Promise<boolean> {
    for (const n of SERVERS) {
      const s = await this.status(n);
      if (!s.settled || s.nodes.some((x) => x.status !== 'active')) return false;
      const g = s.groups[0];
      if (!g || g.owner !== owner || Object.values(g.phases).some((p) => p !== 'running' && p !== 'stopped')) return false;
    }
    return true;
  }

  startClient(): void {
    headline("The client runs the tutorial's curl loop against the virtual IP");
    const loop = `while true; do curl -sS -m 1 http://${VIP}/; sleep ${LOOP_SLEEP}; done`;
    say('client', `$ ${loop}    (the tutorial sleeps 1 s; ${LOOP_SLEEP} s shows the switch in more detail)`);
    const child = this.world.spawnIn('client', ['sh', '-c', loop]);
    onLines(child, (line, at) => {
      const text = line.trim();
      if (!text) return;
      const from = /^Droplet: (\w+),/.exec(text)?.[1] ?? null;
      this.answers.push({ at, text, from });
      say('client', text, at);
    });
    void this.watchNeighbour();
  }

  /** Prints the client's neighbour entry for the VIP whenever its MAC changes. */
  private async watchNeighbour(): Promise<void> {
    const client = this.world.host('client');
    const owners = new Map(SERVERS.map((n) => [this.world.host(n).mac, n]));
    let last: string | null = null;
    while (!this.neighStop) {
      try {
        const { stdout } = await inNs(client.ns, ['ip', '-json', 'neigh', 'show', VIP]);
        const row = (JSON.parse(stdout || '[]') as { lladdr?: string; state?: string[] }[])[0];
        const mac = row?.lladdr ?? null;
        if (mac && mac !== last) {
          this.neighbour.push({ at: wall(), owner: owners.get(mac) ?? 'unknown' });
          say('client', `ip neigh: ${VIP} is at ${mac} (${owners.get(mac) ?? 'unknown'}'s MAC)${last ? '  <- gratuitous ARP' : ''}`);
          last = mac;
        }
      } catch {
        /* the world is going away */
      }
      await sleep(20);
    }
  }

  stopWatching(): void {
    this.neighStop = true;
  }

  /** Waits for SETTLE_ANSWERS answers in a row from `who` after `after`; returns the first. */
  async answersFrom(who: string, after: number, timeoutMs: number): Promise<Answer> {
    return waitFor(
      `${SETTLE_ANSWERS} answers in a row from ${who}`,
      () => {
        const since = this.answers.filter((a) => a.at >= after);
        const tail = since.slice(-SETTLE_ANSWERS);
        if (tail.length < SETTLE_ANSWERS || tail.some((a) => a.from !== who)) return null;
        return since.find((a) => a.from === who) ?? null;
      },
      timeoutMs,
    );
  }

  /**
   * What the switch of the answers from `from` to `to` after the event at `at` looked like:
   * when `to` had the group running, when the client's neighbour entry followed, the first
   * answer from `to`, and the client-side gap since the last answer from `from`.
   */
  report(what: string, from: string, to: string, at: number, first: Answer): string {
    const ms = (t: number | undefined) => (t === undefined ? '?' : `+${Math.round(t - at)} ms`);
    const running = this.logs.get(to)?.find((l) => l.at >= at && /mach_down takeover complete|Resource group .* is running\./.test(l.text))?.at;
    const neigh = this.neighbour.find((n) => n.at >= at && n.owner === to)?.at;
    const before = this.answers.filter((a) => a.at < first.at);
    const lastFrom = [...before].reverse().find((a) => a.from === from);
    const failed = before.filter((a) => a.at >= at && a.from === null).length;
    const gap = lastFrom ? `${Math.round(first.at - lastFrom.at)} ms` : '?';
    const line = `${what}: ${to} running the group ${ms(running)}, client's neighbour entry on ${to}'s MAC ${ms(neigh)}, first answer from ${to} ${ms(first.at)}`;
    const line2 = `${' '.repeat(what.length + 2)}client-side gap (last "${from}" to first "${to}") ${gap}, ${failed} failed request(s)`;
    say('result', line);
    say('result', line2);
    return `${line}\n  ${line2}`;
  }

  async run(): Promise<void> {
    await this.createWorld();
    this.writeConfig();

    headline('Start the web service and hbd on primary and secondary');
    for (const n of SERVERS) await this.startWeb(n);
    const started = wall();
    for (const n of SERVERS) this.startHbd(n);
    await waitFor('the cluster to form with primary holding the virtual IP', () => this.settledOn('primary'), 30_000);
    say('cluster', `formed ${Math.round(wall() - started)} ms after hbd started: primary holds ${VIP}`);

    this.startClient();
    await this.answersFrom('primary', 0, 15_000);

    let fault: number;
    if (this.hbdOnly) {
      headline("Kill the primary's hbd (kill -9); its virtual IP and web service stay up");
      const pid = this.hbd.get('primary')?.pid;
      fault = wall();
      if (pid) process.kill(pid, 'SIGKILL');
      say('fault', `kill -9 ${pid} (primary's hbd)`, fault);
    } else {
      headline('Power off the primary (the tutorial: "sudo poweroff"): every process on it killed, cable pulled');
      fault = wall();
      await this.world.setCable('primary', false);
      const pids = await this.world.killAllIn('primary');
      say('fault', `primary is off: kill -9 ${pids.join(' ')} (hbd pid ${this.hbd.get('primary')?.pid}, web pid ${this.web.get('primary')?.pid}); cable pulled`, fault);
    }
    const firstSecondary = await this.answersFrom('secondary', fault, 20_000);
    const failover = this.report('failover', 'primary', 'secondary', fault, firstSecondary);

    let back: number;
    if (this.hbdOnly) {
      headline("Start the primary's hbd again (auto_failback on)");
      back = wall();
      this.startHbd('primary');
    } else {
      headline('Power the primary on again (auto_failback on)');
      const h = this.world.host('primary');
      // A rebooted host forgets the virtual IP its hbd had added.
      const { stdout } = await inNs(h.ns, ['ip', '-json', '-4', 'addr', 'show', 'dev', 'eth0']);
      for (const a of (JSON.parse(stdout) as { addr_info?: { local: string; prefixlen: number }[] }[])[0]?.addr_info ?? []) {
        if (a.local !== h.address) await inNs(h.ns, ['ip', 'addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', 'eth0']);
      }
      await this.world.setCable('primary', true);
      say('world', `primary boots: cable in, eth0 ${h.address}/24 only (the virtual IP is gone with the reboot)`);
      await this.startWeb('primary');
      back = wall();
      this.startHbd('primary');
    }
    const firstPrimary = await this.answersFrom('primary', back, this.hbdOnly ? 90_000 : 20_000);
    const failback = this.report('failback', 'secondary', 'primary', back, firstPrimary);
    await waitFor('primary to hold the group in both views', () => this.settledOn('primary'), 10_000);
    this.stopWatching();

    headline('Summary');
    process.stdout.write(`  timers (examples/ha.d/ha.cf): keepalive 100 ms, deadtime 500 ms, auto_failback on\n`);
    process.stdout.write(`  (failover times from the fault; failback times from hbd's start on primary)\n  ${failover}\n  ${failback}\n`);
    process.stdout.write(`  a request in flight when primary died waits for curl's 1 s timeout (-m 1); the next one reaches secondary.\n`);
    process.stdout.write(`  client answers: ${this.answers.filter((a) => a.from).length}, failed requests: ${this.answers.filter((a) => !a.from).length}\n`);
  }
}

async function checkTools(): Promise<string | null> {
  const tools: [string, string[], string][] = [
    ['ip', ['-V'], 'iproute2'],
    ['curl', ['--version'], 'curl'],
    ['arping', ['-V'], 'iputils-arping'],
  ];
  for (const [cmd, args, pkg] of tools) {
    try {
      await run(cmd, args, { timeout: 5000 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return `The demo needs ${cmd} (Debian package ${pkg}): run bash scripts/install-deps.sh first.`;
    }
  }
  return null;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const unknown = argv.filter((a) => a !== '--hbd-only');
  if (unknown.length) {
    process.stderr.write(`demo: unknown argument ${unknown[0]}\n\n${USAGE}`);
    return 2;
  }
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    process.stderr.write('The demo needs root: it creates network namespaces (run it with sudo).\n');
    return 1;
  }
  const missing = await checkTools();
  if (missing) {
    process.stderr.write(`${missing}\n`);
    return 1;
  }

  const world = new World(SUBNET);
  let demo: Demo | null = null;
  let cleaned: Promise<void> | null = null;
  const cleanup = (): Promise<void> =>
    (cleaned ??= (async () => {
      demo?.stopWatching();
      headline('Cleanup');
      const r = await world.destroy();
      say('world', `removed ${r.processes} processes (by PID), ${r.namespaces.length} namespaces with their links and addresses (${r.namespaces.join(', ')}), and the temp files`);
    })());
  const onSignal = (sig: NodeJS.Signals, code: number) => {
    process.stdout.write(`\n(${sig}: stopping the demo)\n`);
    void cleanup().finally(() => process.exit(code));
  };
  process.on('SIGINT', () => onSignal('SIGINT', 130));
  process.on('SIGTERM', () => onSignal('SIGTERM', 143));
  process.on('SIGHUP', () => onSignal('SIGHUP', 129));

  process.stdout.write(`heartbeat-ts demo: the seed tutorial's high-availability setup, on this machine\n`);
  try {
    demo = new Demo(world, argv.includes('--hbd-only'));
    await demo.run();
    await cleanup();
    return 0;
  } catch (err) {
    if (cleaned) return 1; // interrupted: the signal handler finishes
    process.stderr.write(`\ndemo: ${(err as Error).message}\n`);
    await cleanup();
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`demo: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
