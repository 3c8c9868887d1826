// The nemesis's world: N real hbd nodes and a client on a namespace LAN, the seed tutorial's
// group (a VIP and the web service, started and stopped by hbd through an init script), every
// node's heartbeats through a link emulator, and the recorders the checker reads: the
// kernel's address events on every node, the client's every request, every daemon's log.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, NsCluster, type ScriptSpec } from '../helpers/cluster.js';
import { inNs, type Lan } from '../../src/lib/netns.js';
import { processTree, killTree } from '../../src/lib/proc-tree.js';
import { signalPid } from '../../src/lib/signal.js';
import { AddressMonitor } from '../helpers/address-monitor.js';
import type { ClientAnswer, Holding, LogLine } from './checker.js';
import type { Schedule } from './schedule.js';

export const SUBNET = '10.231.40';
export const MEDIUM2_SUBNET = '10.231.41';
export const VIP = `${SUBNET}.200`;
const CLIENT_OCTET = 100;

/** The web service as a resource: its script, run by hbd. agent-mode makes it fail or hang. */
function webScript(node: string, address: string): ScriptSpec {
  const body = `#!/bin/sh
# The seed tutorial's web service as a resource of the group (nginx's place): hbd starts it
# after the VIP and stops it before. The nemesis writes agent-mode to make a start fail or hang.
dir="$(dirname "$HA_DIR")"
pidf="$dir/web.pid"
alive() { [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; }
# Running means serving: a server caught half-way through a graceful stop (its stop script
# killed with hbd) is alive but no longer listens.
serving() { alive && [ -n "$(ss -Hltn 'sport = :80')" ]; }
case "$1" in
  start)
    mode="$(cat "$dir/agent-mode" 2>/dev/null)"
    [ "$mode" = fail ] && { echo "web: start fails (nemesis agent-fail)"; exit 1; }
    [ "$mode" = hang ] && exec sleep 3600
    serving && exit 0
    if alive; then
      echo "web: pid $(cat "$pidf") is alive but not listening: killing it"
      kill -9 "$(cat "$pidf")"
      while alive; do sleep 0.02; done
    fi
    : > "$dir/web.out"
    setsid ${process.execPath} ${BIN.web} ${node} ${address} 80 >> "$dir/web.out" 2>&1 < /dev/null &
    echo $! > "$pidf"
    i=0
    until grep -q listening "$dir/web.out"; do
      i=$((i+1))
      [ $i -gt 250 ] && { echo "web: did not listen within 5 s"; exit 1; }
      alive || { echo "web: exited: $(cat "$dir/web.out")"; exit 1; }
      sleep 0.02
    done
    exit 0 ;;
  stop)
    if alive; then
      pid="$(cat "$pidf")"; kill "$pid"; i=0
      while kill -0 "$pid" 2>/dev/null; do i=$((i+1)); [ $i -gt 250 ] && kill -9 "$pid"; sleep 0.02; done
    fi
    rm -f "$pidf"; exit 0 ;;
  status)
    if serving; then echo "web is running"; exit 0; else echo "web is stopped"; exit 3; fi ;;
  *) echo "usage: $0 {start|stop|status}"; exit 1 ;;
esac
`;
  return { name: 'web', dir: 'init.d', body };
}

export interface WorldOptions {
  /** A copy of hbd to run instead of this build's (the broken-daemon test). */
  hbd?: string;
}

export class World {
  readonly monitors = new Map<string, AddressMonitor>();
  readonly hbdLogs = new Map<string, LogLine[]>();
  /** hbd exits the nemesis did not cause. */
  readonly unexpectedExits: { node: string; at: number; how: string }[] = [];
  private readonly expecting = new Set<string>();
  answers: ClientAnswer[] = [];

  private constructor(
    readonly lan: Lan,
    readonly cluster: NsCluster,
    readonly schedule: Schedule,
  ) {}

  static async create(lan: Lan, s: Schedule, opts: WorldOptions = {}): Promise<World> {
    const t = s.timers;
    const nodes = s.nodes.map((name, i) => ({ name, octet: i + 1 }));
    const media = s.redundantMedia ? ['bcast eth0', ...nodes.map((n) => `ucast eth1 ${MEDIUM2_SUBNET}.${n.octet}`)] : undefined;
    const cluster = await NsCluster.create(lan, {
      nodes,
      client: { name: 'client', octet: CLIENT_OCTET },
      keepalive: `${t.keepaliveMs}ms`,
      warntime: `${t.warntimeMs}ms`,
      deadtime: `${t.deadtimeMs}ms`,
      initdead: `${t.initdeadMs}ms`,
      autoFailback: 'on',
      haresources: `${s.nodes[0]} IPaddr::${VIP}/24/eth0 web`,
      scripts: [],
      web: false,
      ...(media ? { media } : {}),
      ...(opts.hbd ? { hbd: opts.hbd } : {}),
      hbdArgs: ['--agent-timeout', `start=${s.startTimeoutMs}ms,stop=${s.stopTimeoutMs}ms,status=5s`],
    });
    if (s.redundantMedia) {
      await lan.addBridge('br1', MEDIUM2_SUBNET);
      for (const n of nodes) await lan.attach(n.name, 'br1', n.octet, 'eth1');
    }
    const w = new World(lan, cluster, s);
    for (const n of nodes) {
      const spec = webScript(n.name, `${SUBNET}.${n.octet}`);
      const path = join(cluster.nodeDir(n.name), 'init.d', spec.name);
      mkdirSync(join(cluster.nodeDir(n.name), 'init.d'), { recursive: true });
      writeFileSync(path, spec.body);
      chmodSync(path, 0o755);
      const monitor = new AddressMonitor(lan, n.name, VIP);
      w.monitors.set(n.name, monitor);
      await monitor.ready();
    }
    return w;
  }

  get nodes(): string[] {
    return this.schedule.nodes;
  }

  start(node: string): void {
    const child = this.cluster.start(node);
    this.expecting.delete(node);
    child.once('exit', (code, signal) => {
      if (this.expecting.has(node)) return;
      this.unexpectedExits.push({ node, at: Date.now(), how: signal ? `signal ${signal}` : `exit code ${code}` });
    });
  }

  startAll(): void {
    for (const n of this.nodes) this.start(n);
  }

  private hbdPid(node: string): number {
    const p = this.cluster.hbd.get(node);
    if (!p?.pid || !this.cluster.running(node)) throw new Error(`hbd on ${node} is not running`);
    return p.pid;
  }

  /** kill -9 of hbd alone: its guard stays and says the last words. */
  async killHbd(node: string): Promise<void> {
    this.expecting.add(node);
    await this.cluster.kill9(node);
  }

  /** kill -9 of hbd and every process it started (its guard, agent calls in flight). */
  killHbdAndGuard(node: string): void {
    this.expecting.add(node);
    killTree(this.hbdPid(node));
  }

  async terminate(node: string): Promise<void> {
    this.expecting.add(node);
    await this.cluster.term(node, 30_000);
  }

  /** hbd, its guard and agents, and the web service: everything of the service stops. */
  private servicePids(node: string): number[] {
    const pids = processTree(this.hbdPid(node));
    try {
      const web = Number(readFileSync(join(this.cluster.nodeDir(node), 'web.pid'), 'utf8').trim());
      if (web > 0) pids.push(web);
    } catch {
      /* no web service running here */
    }
    return pids;
  }

  freeze(node: string): number[] {
    const pids = this.servicePids(node);
    for (const pid of pids) signalPid(pid, 'SIGSTOP');
    return pids;
  }

  thaw(pids: number[]): void {
    for (const pid of pids) signalPid(pid, 'SIGCONT');
  }

  setAgentMode(node: string, mode: 'fail' | 'hang' | null): void {
    const file = join(this.cluster.nodeDir(node), 'agent-mode');
    if (mode) writeFileSync(file, mode);
    else rmSync(file, { force: true });
  }

  async switchCommand(node: string, kind: 'standby' | 'takeover'): Promise<void> {
    const r = await this.cluster.cli(node, kind === 'standby' ? 'hb_standby' : 'hb_takeover');
    if (r.code !== 0) throw new Error(`${kind} on ${node} exited ${r.code}: ${r.stderr.trim()}`);
  }

  /** stress-ng in the node's namespace (CPU is shared: it loads the whole machine). */
  stress(node: string, ms: number): number {
    const child = this.lan.spawnIn(node, ['stress-ng', '--cpu', '2', '--timeout', `${Math.ceil(ms / 1000) + 1}s`, '--quiet'], { stdio: 'ignore' });
    return child.pid ?? 0;
  }

  /** Every cable of the node: all media and the client's path. */
  async cables(node: string, up: boolean): Promise<void> {
    for (const l of this.lan.host(node).links) await this.lan.setCable(node, up, l.iface);
  }

  /** Every VIP holding, from the address events (open ones end at `end`). */
  holdings(end: number): Holding[] {
    return [...this.monitors.values()].flatMap((m) => m.holdings(end));
  }

  /** The VIP's holders as `ip addr` shows them now: the monitors' final state must agree. */
  async holdersNow(): Promise<string[]> {
    const out: string[] = [];
    for (const n of this.nodes) {
      const { stdout } = await inNs(this.lan.host(n).ns, ['ip', '-json', '-4', 'addr', 'show']);
      if (stdout.includes(`"${VIP}"`)) out.push(n);
    }
    return out;
  }

  logs(): Record<string, LogLine[]> {
    const out: Record<string, LogLine[]> = {};
    for (const n of this.nodes) out[n] = (this.cluster.logs.get(n) ?? []).map((l) => ({ at: l.at, text: l.text }));
    return out;
  }
}
