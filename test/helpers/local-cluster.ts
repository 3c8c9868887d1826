// Real hbd daemons as child processes on loopback addresses 127.0.0.x, one UDP port per test.
// Every process is killed by PID and every temp dir removed in cleanup(), also after a failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { request } from '../../src/control/client.js';
import { onOutputLines } from '../../src/lib/lines.js';
import { waitFor, type Check } from '../../src/lib/wait.js';
import { killTree } from '../../src/lib/proc-tree.js';
import type { StatusSnapshot } from '../../src/status/snapshot.js';
import { fromRoot } from './repo.js';

export const HBD = fromRoot('dist', 'src', 'cli', 'hbd.js');

export interface LogLine {
  at: number;
  text: string;
}

export interface ClusterOptions {
  nodes: string[];
  keepalive?: string;
  warntime?: string;
  deadtime?: string;
  initdead?: string;
  autoFailback?: 'on' | 'off';
  /** haresources text; default: one group of the first node (`svc`). An empty text is a membership-only cluster. */
  haresources?: string;
  /** Per-node authkeys text (default: the same sha1 key everywhere). */
  authkeys?: Record<string, string>;
  /** Extra ucast addresses every node also sends to (a test listener recording packets). */
  extraUcast?: string[];
  /** Extra ha.cf lines. */
  extra?: string;
  /** Share a port with another cluster (default: a random one). */
  port?: number;
  /** Last octet of the first node's 127.0.0.x address (default 1). */
  firstOctet?: number;
}

export function randomPort(): number {
  return 20000 + Math.floor(Math.random() * 20000);
}

/**
 * Clusters not cleaned up yet: a test file ended by a signal (node:test exits without running
 * finally blocks) still kills their daemons and removes their dirs as it exits.
 */
const live = new Set<LocalCluster>();
process.on('exit', () => {
  for (const c of live) c.cleanupNow();
});

export class LocalCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'hbts-cluster-'));
  readonly port: number;
  readonly procs = new Map<string, ChildProcess>();
  readonly logs = new Map<string, LogLine[]>();
  readonly addr = new Map<string, string>();

  constructor(readonly opts: ClusterOptions) {
    this.port = opts.port ?? randomPort();
    opts.nodes.forEach((n, i) => this.addr.set(n, `127.0.0.${i + (opts.firstOctet ?? 1)}`));
    for (const n of opts.nodes) this.writeConfig(n);
    live.add(this);
  }

  configDir(node: string): string {
    return join(this.dir, node, 'ha.d');
  }

  socket(node: string): string {
    return join(this.dir, node, 'hbd.sock');
  }

  writeConfig(node: string, overrides: Partial<ClusterOptions> = {}): void {
    const o = { ...this.opts, ...overrides };
    const dir = this.configDir(node);
    mkdirSync(join(dir, 'resource.d'), { recursive: true });
    const ucast = [...o.nodes.map((n) => this.addr.get(n) ?? ''), ...(o.extraUcast ?? [])].map((a) => `ucast lo ${a}`);
    writeFileSync(
      join(dir, 'ha.cf'),
      [
        `keepalive ${o.keepalive ?? '100ms'}`,
        `warntime ${o.warntime ?? '500ms'}`,
        `deadtime ${o.deadtime ?? '1'}`,
        `initdead ${o.initdead ?? '3'}`,
        `udpport ${this.port}`,
        ...ucast,
        `node ${o.nodes.join(' ')}`,
        `auto_failback ${o.autoFailback ?? 'on'}`,
        // A log line of their own, unless the test sets logging itself: without one hbd falls
        // back to the host's syslog (as Heartbeat does), which tests must not write to.
        /^\s*(logfile|debugfile|logfacility|use_logd)\b/m.test(o.extra ?? '') ? '' : `logfile ${join(this.dir, node, 'ha-log')}`,
        o.extra ?? '',
        '',
      ].join('\n'),
    );
    const auth = join(dir, 'authkeys');
    writeFileSync(auth, o.authkeys?.[node] ?? 'auth 1\n1 sha1 loopback-test-secret\n');
    chmodSync(auth, 0o600);
    writeFileSync(join(dir, 'haresources'), o.haresources ?? `${o.nodes[0]} svc\n`);
    const script = join(dir, 'resource.d', 'svc');
    writeFileSync(script, `#!/bin/sh\necho "$*" >> ${join(this.dir, node, 'svc.log')}\n[ "$1" = status ] && exit 0\nexit 0\n`);
    chmodSync(script, 0o755);
  }

  /** `env`: more environment for this node's hbd (NOTIFY_SOCKET, as under systemd). */
  start(node: string, extraArgs: string[] = [], env: Record<string, string> = {}): ChildProcess {
    const child = spawn(
      process.execPath,
      [
        HBD,
        '-f',
        '--config-dir',
        this.configDir(node),
        '--node',
        node,
        '--state-dir',
        join(this.dir, node, 'state'),
        '--control-socket',
        this.socket(node),
        '--local-address',
        this.addr.get(node) ?? '127.0.0.1',
        '--init-dir',
        join(this.dir, node, 'init.d'),
        ...extraArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
    );
    this.procs.set(node, child);
    const lines = this.logs.get(node) ?? [];
    this.logs.set(node, lines);
    onOutputLines(child, (text) => lines.push({ at: performance.now(), text }));
    return child;
  }

  startAll(): void {
    for (const n of this.opts.nodes) this.start(n);
  }

  /** kill -9 of hbd alone: its address guard lives on and says hbd's last words. */
  kill9(node: string): number {
    const p = this.procs.get(node);
    if (p?.pid && p.exitCode === null) p.kill('SIGKILL');
    return performance.now();
  }

  /** kill -9 of hbd and everything it started, its address guard included: to the peers, plain silence. */
  kill9WithGuard(node: string): number {
    const p = this.procs.get(node);
    // The silence begins when the tree is stopped, before the walk over /proc ends.
    const at = performance.now();
    if (p?.pid && p.exitCode === null) killTree(p.pid);
    return at;
  }

  term(node: string): number {
    const p = this.procs.get(node);
    if (p?.pid && p.exitCode === null) p.kill('SIGTERM');
    return performance.now();
  }

  async exited(node: string, timeoutMs = 10_000): Promise<number | null> {
    const p = this.procs.get(node);
    if (!p || p.exitCode !== null || p.signalCode !== null) return p?.exitCode ?? null;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${node} did not exit within ${timeoutMs} ms`)), timeoutMs);
      p.once('exit', (code) => {
        clearTimeout(t);
        resolve(code);
      });
    });
  }

  async status(node: string): Promise<StatusSnapshot> {
    const r = await request<StatusSnapshot>(this.socket(node), { cmd: 'status' }, 2000);
    if (!r.ok) throw new Error(r.error.message);
    return r.result;
  }

  /** Polls until `check` returns a truthy value; returns it. */
  async waitFor<T>(what: string, check: Check<T>, timeoutMs = 15_000): Promise<T> {
    return waitFor(what, check, { timeoutMs, pollMs: 50, detail: () => this.dump() });
  }

  logText(node: string): string {
    return (this.logs.get(node) ?? []).map((l) => l.text).join('\n');
  }

  firstLog(node: string, re: RegExp, after = 0): LogLine | undefined {
    return (this.logs.get(node) ?? []).find((l) => l.at >= after && re.test(l.text));
  }

  countLog(node: string, re: RegExp): number {
    return (this.logs.get(node) ?? []).filter((l) => re.test(l.text)).length;
  }

  async allActive(node: string): Promise<boolean> {
    const s = await this.status(node);
    return s.nodes.every((n) => n.self || n.status === 'active');
  }

  dump(): string {
    return [...this.logs.entries()].map(([n, lines]) => `--- ${n}\n${lines.slice(-40).map((l) => l.text).join('\n')}`).join('\n');
  }

  /** cleanup() for the exit event, where nothing can be awaited. */
  cleanupNow(): void {
    live.delete(this);
    for (const p of this.procs.values()) if (p.pid && p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  async cleanup(): Promise<void> {
    live.delete(this);
    for (const p of this.procs.values()) {
      if (p.pid && p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    }
    await Promise.all(
      [...this.procs.values()].map((p) => (p.exitCode === null && p.signalCode === null ? new Promise((r) => p.once('exit', r)) : null)),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

