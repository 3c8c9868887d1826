// A real 3-member etcd cluster (Debian's etcd-server) for the arbiter's tests: the members run
// in one host namespace of a test LAN (src/lib/netns.ts), each with its own client and peer
// port on that host's address and its own data dir in a temp dir of the LAN. The LAN's
// destroy() kills them (by PID, as every process in its namespaces) and removes the dirs; stop()
// here does the same earlier. A member can be killed and started again on its data dir.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { inNs, type Lan } from '../../src/lib/netns.js';
import { onOutputLines } from '../../src/lib/lines.js';
import { signalPid } from '../../src/lib/signal.js';
import { waitGone } from '../../src/lib/proc-stat.js';
import { waitFor } from '../../src/lib/wait.js';

export const ETCD_BIN = '/usr/bin/etcd';

/** Why real etcd cannot run here, or null. */
export function etcdMissing(): string | null {
  return existsSync(ETCD_BIN) ? null : `needs Debian's etcd-server (${ETCD_BIN}): scripts/install-deps.sh installs it`;
}

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  proc: ChildProcess | null;
  log: string[];
}

export class EtcdCluster {
  readonly members: EtcdMember[];
  private readonly token: string;

  /** Three members on `host` (a host of `lan`, already added), client ports 2379/2479/2579, peer ports +1. */
  constructor(
    private readonly lan: Lan,
    readonly host: string,
  ) {
    const ip = lan.host(host).address;
    const dir = lan.tempDir('ea-etcd-');
    this.token = `ea-${lan.tag}`;
    this.members = [0, 1, 2].map((i) => ({ name: `m${i + 1}`, clientUrl: `http://${ip}:${2379 + 100 * i}`, peerUrl: `http://${ip}:${2380 + 100 * i}`, dataDir: join(dir, `m${i + 1}`), proc: null, log: [] }));
  }

  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  get address(): string {
    return this.lan.host(this.host).address;
  }

  /** Starts every member and waits until each says it is healthy. */
  async start(): Promise<void> {
    for (const m of this.members) this.startMember(m);
    for (const m of this.members) await this.waitHealthy(m);
  }

  /** Starts one member (again, on its data dir after a kill). */
  startMember(m: EtcdMember): void {
    const cluster = this.members.map((x) => `${x.name}=${x.peerUrl}`).join(',');
    const argv = [
      ETCD_BIN, '--name', m.name, '--data-dir', m.dataDir,
      '--listen-client-urls', m.clientUrl, '--advertise-client-urls', m.clientUrl,
      '--listen-peer-urls', m.peerUrl, '--initial-advertise-peer-urls', m.peerUrl,
      '--initial-cluster', cluster, '--initial-cluster-state', 'new', '--initial-cluster-token', this.token,
      '--heartbeat-interval', '100', '--election-timeout', '1000', '--logger', 'zap', '--log-level', 'warn',
    ];
    const p = this.lan.spawnIn(this.host, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    m.proc = p;
    onOutputLines(p, (line) => m.log.push(line));
  }

  /** The member's own word (its /health through the gRPC gateway, asked with curl in its namespace). */
  async healthy(m: EtcdMember): Promise<boolean> {
    try {
      const { stdout } = await inNs(this.lan.host(this.host).ns, ['curl', '-s', '-m', '1', `${m.clientUrl}/health`], 3000);
      return /"health":\s*"true"/.test(stdout);
    } catch {
      return false;
    }
  }

  async waitHealthy(m: EtcdMember, timeoutMs = 30_000): Promise<void> {
    await waitFor(`etcd member ${m.name} to be healthy`, async () => (await this.healthy(m)) || null, { timeoutMs, pollMs: 200 });
  }

  /** The member that is the leader now, by the members' own status (v3 JSON gateway). */
  async leader(): Promise<EtcdMember | null> {
    for (const m of this.members) {
      if (!m.proc) continue;
      try {
        const { stdout } = await inNs(this.lan.host(this.host).ns, ['curl', '-s', '-m', '1', '-X', 'POST', '-d', '{}', `${m.clientUrl}/v3/maintenance/status`], 3000);
        const st = JSON.parse(stdout) as { header?: { member_id?: string }; leader?: string };
        if (st.leader && st.header?.member_id === st.leader) return m;
      } catch {
        /* not answering */
      }
    }
    return null;
  }

  /** kill -9 of one member, by PID; waits until it is gone. */
  async kill(m: EtcdMember): Promise<void> {
    const pid = m.proc?.pid;
    m.proc = null;
    if (!pid) return;
    signalPid(pid);
    await waitGone([pid], 5000);
  }

  /** Every member killed (the LAN's destroy() would do it too). */
  async stop(): Promise<void> {
    for (const m of this.members) await this.kill(m);
  }

  dump(): string {
    return this.members.map((m) => `--- etcd ${m.name}\n${m.log.slice(-10).join('\n')}`).join('\n');
  }
}
