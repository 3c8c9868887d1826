// The demo's story, phase by phase: the world, the configuration, the web services and hbd on
// primary and secondary, the client, then the primary's failure and return.
import type { ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from '../control/client.js';
import type { StatusSnapshot } from '../status/snapshot.js';
import { onOutputLines } from '../lib/lines.js';
import { inNs, type Lan } from '../lib/netns.js';
import { waitFor, type Check } from '../lib/wait.js';
import { Client, type Answer } from './client.js';
import { CLIENT_BRIDGE, CLIENT_SUBNET, FLOATING_IP, type CloudSetup } from './cloud.js';
import { headline, say, timedOut, wall } from './output.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const HBD = join(ROOT, 'dist', 'src', 'cli', 'hbd.js');
const WEB = join(ROOT, 'dist', 'src', 'demo', 'web.js');
const EXAMPLES = join(ROOT, 'examples');
export const SUBNET = '10.231.1';
const VIP = `${SUBNET}.100`;
const HOSTS = [
  { name: 'primary', octet: 1 },
  { name: 'secondary', octet: 2 },
  { name: 'client', octet: 10 },
];
const SERVERS = ['primary', 'secondary'];
const STDIO: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe'];

function waitDemo<T>(what: string, check: Check<T>, timeoutMs: number): Promise<T> {
  return waitFor(what, check, { timeoutMs, error: () => timedOut(what, timeoutMs) });
}

export class Demo {
  readonly dir: string;
  readonly hbd = new Map<string, ChildProcess>();
  readonly web = new Map<string, ChildProcess>();
  /** hbd's log lines as they arrived, per node. */
  readonly logs = new Map<string, { at: number; text: string }[]>();
  readonly client: Client;

  /** What the client asks for: the LAN's virtual IP, or the cloud's floating IP. */
  readonly target: string;

  constructor(
    readonly world: Lan,
    readonly hbdOnly: boolean,
    /** --cloud: the floating IP of a cloud (cloud.ts) instead of a virtual IP on the LAN. */
    readonly cloud: CloudSetup | null = null,
  ) {
    this.dir = world.tempDir('hbdemo-');
    this.target = cloud ? FLOATING_IP : VIP;
    // Behind a cloud router there is no neighbour entry for the floating IP to watch.
    this.client = new Client(world, 'client', this.target, SERVERS, !cloud);
  }

  nodeDir(n: string): string {
    return join(this.dir, n);
  }

  socket(n: string): string {
    return join(this.dir, n, 'hbd.sock');
  }

  async createWorld(): Promise<void> {
    headline("The seed tutorial's world: hosts primary, secondary and client on one LAN (network namespaces)");
    await this.world.create();
    say('world', `bridge br0 in namespace ${this.world.bridgeNs}`);
    if (this.cloud) await this.world.addBridge(CLIENT_BRIDGE, CLIENT_SUBNET);
    for (const h of HOSTS) {
      const onInternet = this.cloud && h.name === 'client';
      const host = await this.world.addHost(h.name, h.octet, 'eth0', onInternet ? CLIENT_BRIDGE : 'br0');
      say('world', `host ${h.name.padEnd(9)} namespace ${host.ns}, eth0 ${host.address}/24, MAC ${host.mac}${onInternet ? ' (a network of its own: the internet)' : ''}`);
    }
    if (this.cloud) {
      headline(`The cloud: ${this.cloud.p.title}`);
      await this.cloud.create(this.world, SERVERS);
      const r = this.world.host('cloud');
      say('cloud', `router ${r.ns}: ${r.address} on the ${this.cloud.p.machine}s' LAN and ${this.world.link('cloud', 'eth1').address} on the client's; the API at ${this.cloud.apiUrl}, metadata at http://169.254.169.254`);
      say('cloud', `the ${this.cloud.p.address} ${FLOATING_IP} is assigned to nothing yet; the client reaches it only through the router`);
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
      if (this.cloud) {
        // The seed's `primary floatip`, with hbd's built-in agent instead of assign-ip.
        writeFileSync(join(ha, 'haresources'), this.cloud.haresources(`${SUBNET}.254`));
        this.cloud.writeSecret(ha);
      }
    }
    const meaningful = (f: string) =>
      readFileSync(join(EXAMPLES, 'ha.d', f), 'utf8')
        .split('\n')
        .map((l) => l.replace(/#.*/, '').trim().replace(/\s+/g, ' '))
        .filter(Boolean);
    say('config', `ha.cf:       ${meaningful('ha.cf').filter((l) => !l.startsWith('logfacility')).join('; ')}`);
    if (this.cloud) {
      say('config', `haresources: ${this.cloud.haresources(`${SUBNET}.254`).trim()}`);
      say('config', `${this.cloud.p.file}: a fresh random ${this.cloud.name === 'aws' ? 'key pair' : 'token'} (mode 600; never printed, not in any process's arguments)`);
    } else {
      say('config', `haresources: ${meaningful('haresources').join('; ')}`);
    }
    say('config', 'authkeys:    sha1 (copied with mode 600); logs go to a temp dir instead of syslog');
  }

  async startWeb(n: string): Promise<void> {
    const h = this.world.host(n);
    const child = this.world.spawnIn(n, [process.execPath, WEB, n, h.address, '80'], { stdio: STDIO });
    let listening = false;
    onOutputLines(child, (line) => {
      if (line.startsWith('listening')) listening = true;
      else say(n, `web: ${line}`);
    });
    this.web.set(n, child);
    await waitDemo(`the web service on ${n}`, () => listening, 10_000);
    say(n, `web service (pid ${child.pid}) answers "Droplet: ${n}, IP Address: ${h.address}" on port 80`);
  }

  startHbd(n: string): ChildProcess {
    const child = this.world.spawnIn(
      n,
      [
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
      ],
      { stdio: STDIO },
    );
    say(n, `hbd -f --node ${n} started (pid ${child.pid})`);
    onOutputLines(child, (line) => {
      const at = wall();
      const m = /^[A-Za-z0-9_.-]+\[\d+\]: \S+ (\w+): (.*)$/.exec(line);
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

  /** When `node` logged, after `at`, that it runs the group. */
  runningAt(node: string, at: number): number | undefined {
    return this.logs.get(node)?.find((l) => l.at >= at && /mach_down takeover complete|Resource group .* is running\./.test(l.text))?.at;
  }

  report(what: string, from: string, to: string, at: number, first: Answer): string {
    return this.client.report(what, from, to, at, first, this.runningAt(to, at));
  }

  async run(): Promise<void> {
    await this.createWorld();
    this.writeConfig();

    headline('Start the web service and hbd on primary and secondary');
    for (const n of SERVERS) await this.startWeb(n);
    const started = wall();
    for (const n of SERVERS) this.startHbd(n);
    await waitDemo('the cluster to form with primary holding the virtual IP', () => this.settledOn('primary'), 30_000);
    say('cluster', `formed ${Math.round(wall() - started)} ms after hbd started: primary holds ${this.target}`);

    this.client.start();
    await this.client.answersFrom('primary', 0, 15_000);

    const fault = await this.fail();
    const firstSecondary = await this.client.answersFrom('secondary', fault, 20_000);
    const failover = this.report('failover', 'primary', 'secondary', fault, firstSecondary);

    const back = await this.comeBack();
    const firstPrimary = await this.client.answersFrom('primary', back, this.hbdOnly ? 90_000 : 20_000);
    const failback = this.report('failback', 'secondary', 'primary', back, firstPrimary);
    await waitDemo('primary to hold the group in both views', () => this.settledOn('primary'), 10_000);
    this.client.stopWatching();

    headline('Summary');
    process.stdout.write(`  timers (examples/ha.d/ha.cf): keepalive 100 ms, deadtime 500 ms, auto_failback on\n`);
    process.stdout.write(`  (failover times from the fault; failback times from hbd's start on primary)\n  ${failover}\n  ${failback}\n`);
    process.stdout.write(`  a request in flight when primary died waits for curl's 1 s timeout (-m 1); the next one reaches secondary.\n`);
    process.stdout.write(`  ${this.client.summary()}\n`);
  }

  /** The primary fails; returns when. */
  private async fail(): Promise<number> {
    if (this.hbdOnly) {
      headline("Kill the primary's hbd (kill -9); its virtual IP and web service stay up");
      const pid = this.hbd.get('primary')?.pid;
      const fault = wall();
      if (pid) process.kill(pid, 'SIGKILL');
      say('fault', `kill -9 ${pid} (primary's hbd)`, fault);
      return fault;
    }
    headline('Power off the primary (the tutorial: "sudo poweroff"): every process on it killed, cable pulled');
    const fault = wall();
    await this.world.setCable('primary', false);
    const pids = await this.world.killAllIn('primary');
    say('fault', `primary is off: kill -9 ${pids.join(' ')} (hbd pid ${this.hbd.get('primary')?.pid}, web pid ${this.web.get('primary')?.pid}); cable pulled`, fault);
    return fault;
  }

  /** The primary comes back (auto_failback on); returns when its hbd started. */
  private async comeBack(): Promise<number> {
    if (this.hbdOnly) {
      headline("Start the primary's hbd again (auto_failback on)");
      const back = wall();
      this.startHbd('primary');
      return back;
    }
    headline('Power the primary on again (auto_failback on)');
    const h = this.world.host('primary');
    // A rebooted host forgets the virtual IP its hbd had added.
    const { stdout } = await inNs(h.ns, ['ip', '-json', '-4', 'addr', 'show', 'dev', 'eth0']);
    for (const a of (JSON.parse(stdout) as { addr_info?: { local: string; prefixlen: number }[] }[])[0]?.addr_info ?? []) {
      if (a.local !== h.address) await inNs(h.ns, ['ip', 'addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', 'eth0']);
    }
    await this.world.setCable('primary', true);
    say('world', `primary boots: cable in, eth0 ${h.address}/24 only${this.cloud ? '' : ' (the virtual IP is gone with the reboot)'}`);
    await this.startWeb('primary');
    const back = wall();
    this.startHbd('primary');
    return back;
  }
}
