// A real cluster of hbd child processes on 127.0.0.x with the HTTP API on: each node's config
// dir, token file and state dir in one temp dir; HTTP on port 0 (the daemon logs the port it
// got). Every process is killed by PID and the temp dir removed in cleanup().
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onOutputLines } from '../../src/lib/lines.js';
import { waitFor, type Check } from '../../src/lib/wait.js';
import { killTree } from '../../src/lib/proc-tree.js';
import { fromRoot } from '../helpers/repo.js';

export const HBD = fromRoot('dist', 'src', 'cli', 'hbd.js');
export const TOKEN = 'test-token-0123456789abcdef';

export interface HttpClusterOptions {
  nodes?: string[];
  /** haresources text per node (default: one group "svc::web" preferred by the first node, on every node). */
  haresources?: Record<string, string>;
  keepalive?: string;
  warntime?: string;
  deadtime?: string;
  /** Start without --http-token-file. */
  noToken?: boolean;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export class HttpCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'hbts-http-'));
  readonly nodes: string[];
  readonly port = 30000 + Math.floor(Math.random() * 20000);
  readonly procs = new Map<string, ChildProcess>();
  readonly logs = new Map<string, string[]>();
  readonly urls = new Map<string, string>();
  readonly tokenFile: string;

  constructor(readonly opts: HttpClusterOptions = {}) {
    this.nodes = opts.nodes ?? ['alpha', 'beta'];
    this.tokenFile = join(this.dir, 'http.token');
    writeFileSync(this.tokenFile, `${TOKEN}\n`);
    chmodSync(this.tokenFile, 0o600);
    for (const n of this.nodes) this.writeConfig(n);
  }

  addr(node: string): string {
    return `127.0.0.${this.nodes.indexOf(node) + 1}`;
  }

  configDir(node: string): string {
    return join(this.dir, node, 'ha.d');
  }

  private writeConfig(node: string): void {
    const dir = this.configDir(node);
    mkdirSync(join(dir, 'resource.d'), { recursive: true });
    writeFileSync(
      join(dir, 'ha.cf'),
      [
        `keepalive ${this.opts.keepalive ?? '100ms'}`,
        `warntime ${this.opts.warntime ?? '500ms'}`,
        `deadtime ${this.opts.deadtime ?? '1'}`,
        'initdead 3',
        `udpport ${this.port}`,
        ...this.nodes.map((n) => `ucast lo ${this.addr(n)}`),
        `node ${this.nodes.join(' ')}`,
        'auto_failback on',
        // Without a log line hbd would fall back to the host's syslog (as Heartbeat does).
        `logfile ${join(this.dir, node, 'ha-log')}`,
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'authkeys'), 'auth 1\n1 sha256 http-api-test-secret\n');
    chmodSync(join(dir, 'authkeys'), 0o600);
    writeFileSync(join(dir, 'haresources'), this.opts.haresources?.[node] ?? `${this.nodes[0]} svc::web\n`);
    // A tiny resource: a state file per node and instance; status says running when it exists.
    const state = join(this.dir, node);
    const script = join(dir, 'resource.d', 'svc');
    writeFileSync(
      script,
      `#!/bin/sh\nf="${state}/svc-$1.running"\ncase "$2" in\n  start) touch "$f" ;;\n  stop) rm -f "$f" ;;\n  status) if [ -e "$f" ]; then echo running; else echo stopped; fi ;;\nesac\nexit 0\n`,
    );
    chmodSync(script, 0o755);
  }

  start(node: string): ChildProcess {
    const args = [
      HBD,
      '-f',
      '--config-dir',
      this.configDir(node),
      '--node',
      node,
      '--state-dir',
      join(this.dir, node, 'state'),
      '--control-socket',
      join(this.dir, node, 'hbd.sock'),
      '--local-address',
      this.addr(node),
      '--init-dir',
      join(this.dir, node, 'init.d'),
      '--http-listen',
      `${this.addr(node)}:0`,
      ...(this.opts.noToken ? [] : ['--http-token-file', this.tokenFile]),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.procs.set(node, child);
    this.urls.delete(node);
    const lines = this.logs.get(node) ?? [];
    this.logs.set(node, lines);
    onOutputLines(child, (line) => {
      lines.push(line);
      const m = /HTTP API listening on (http:\/\/[^/ ]+)\//.exec(line);
      if (m?.[1]) this.urls.set(node, m[1]);
    });
    return child;
  }

  startAll(): void {
    for (const n of this.nodes) this.start(n);
  }

  url(node: string): string {
    const u = this.urls.get(node);
    if (!u) throw new Error(`${node}: HTTP API not up yet\n${this.dump()}`);
    return u;
  }

  /** Waits until every node's API answers and sees all nodes active, each group with an owner. */
  async settled(timeoutMs = 15_000, owners = true): Promise<void> {
    await this.waitFor('the cluster to settle', async () => {
      for (const n of this.nodes) {
        if (!this.urls.has(n)) return false;
        const s = (await this.get(n, '/status')).json;
        if (!s.nodes.every((x: { status: string }) => x.status === 'active')) return false;
        if (owners && !s.groups.every((g: { owner: string | null }) => g.owner)) return false;
      }
      return true;
    }, timeoutMs);
  }

  kill9(node: string): void {
    const p = this.procs.get(node);
    if (p?.pid && p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }

  /** kill -9 of hbd and everything it started, its address guard included: to the peers, plain silence. */
  kill9WithGuard(node: string): void {
    const p = this.procs.get(node);
    if (p?.pid && p.exitCode === null && p.signalCode === null) killTree(p.pid);
  }

  alive(node: string): boolean {
    const p = this.procs.get(node);
    return !!p && p.exitCode === null && p.signalCode === null;
  }

  /** One HTTP request with node:http (fetch would refuse some of the odd requests tests send). */
  request(node: string, method: string, path: string, opts: { headers?: Record<string, string | number>; body?: string | Buffer } = {}): Promise<Reply> {
    const base = new URL(this.url(node));
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: base.hostname, port: base.port, method, path, headers: opts.headers ?? {}, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = null;
          try {
            json = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      });
      req.setTimeout(5000, () => req.destroy(new Error(`${method} ${path}: no answer in 5 s`)));
      req.on('error', reject);
      if (opts.body !== undefined) req.write(opts.body);
      req.end();
    });
  }

  get(node: string, path: string): Promise<Reply> {
    return this.request(node, 'GET', path);
  }

  async metric(node: string, name: string, labels: Record<string, string> = {}): Promise<number | null> {
    return metricValue((await this.get(node, '/metrics')).text, name, labels);
  }

  async waitFor<T>(what: string, check: Check<T>, timeoutMs = 15_000): Promise<T> {
    return waitFor(what, check, { timeoutMs, pollMs: 50, detail: () => this.dump() });
  }

  count(node: string, re: RegExp): number {
    return (this.logs.get(node) ?? []).filter((l) => re.test(l)).length;
  }

  dump(): string {
    return [...this.logs.entries()].map(([n, lines]) => `--- ${n}\n${lines.slice(-30).join('\n')}`).join('\n');
  }

  async cleanup(): Promise<void> {
    const waits: Promise<unknown>[] = [];
    for (const p of this.procs.values()) {
      if (p.pid && p.exitCode === null && p.signalCode === null) {
        waits.push(new Promise((r) => p.once('exit', r)));
        p.kill('SIGKILL');
      }
    }
    await Promise.all(waits);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The value of one sample of a Prometheus text exposition, or null when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have: Record<string, string> = {};
    for (const lm of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) have[lm[1]!] = lm[2]!;
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return null;
}

