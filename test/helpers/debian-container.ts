// Debian 13 containers with a real systemd as PID 1, for the package and service tests: a
// minbase image made by mmdebstrap (cached per machine), a package installed the way an image
// build does (apt-get inside the root, before boot: the container's own network has no way out),
// then booted by systemd-nspawn inside a network namespace of the test's LAN. Commands run in
// the container with nsenter into its systemd's namespaces. Stopped by the nspawn PID we
// started; its root is removed. See ../shared/PLATFORM.md "A real systemd".
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync, chmodSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { signalPid } from '../../src/lib/signal.js';
import { sleep } from '../../src/lib/wait.js';

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(argv: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 << 20, env: opts.env ?? process.env }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function must(argv: string[], timeoutMs = 600_000): Promise<string> {
  const r = await run(argv, { timeoutMs });
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).slice(-2000)}`);
  return r.stdout;
}

const TOOLS = ['/usr/bin/mmdebstrap', '/usr/bin/systemd-nspawn', '/usr/bin/nsenter', '/usr/bin/dpkg-deb'];

/** Why these containers cannot run here (Debian packages mmdebstrap, systemd-container), or null. */
export function containerToolsMissing(): string | null {
  const missing = TOOLS.filter((t) => !existsSync(t));
  return missing.length ? `not installed: ${missing.join(', ')} (Debian packages mmdebstrap, systemd-container, util-linux, dpkg)` : null;
}

const CACHE = '/var/cache/heartbeat-ts-test';
const IMAGE_MAX_AGE_MS = 7 * 24 * 3600_000;

/**
 * A Debian 13 (trixie) minbase tarball with systemd, made once a week per machine: the
 * download is most of a minute, and Debian's point releases do not change what is tested.
 */
export async function debianImage(): Promise<string> {
  const tar = join(CACHE, 'trixie-systemd-man.tar');
  if (existsSync(tar) && Date.now() - statSync(tar).mtimeMs < IMAGE_MAX_AGE_MS) return tar;
  mkdirSync(CACHE, { recursive: true });
  // mmdebstrap picks its output format by the name's extension: .tar makes a tarball.
  const partial = join(CACHE, `partial-${process.pid}.tar`);
  try {
    await must(['mmdebstrap', '--variant=minbase', '--include=systemd,systemd-sysv,dbus,iproute2,procps,man-db,ca-certificates', 'trixie', partial]);
    renameSync(partial, tar);
  } finally {
    rmSync(partial, { force: true });
  }
  return tar;
}

/** Unpacks the image to `root` and installs the .deb files in it with apt-get (which pulls their dependencies from Debian). */
export async function installedRoot(image: string, root: string, debs: string[]): Promise<void> {
  mkdirSync(root, { recursive: true });
  await must(['tar', '-C', root, '-xf', image]);
  writeFileSync(join(root, 'etc/resolv.conf'), readFileSync('/etc/resolv.conf'));
  const inRoot = debs.map((d, i) => {
    const name = `/root/pkg-${i}-${d.split('/').pop()}`;
    writeFileSync(join(root, name), readFileSync(d));
    return name;
  });
  // nspawn without -b is a chroot with /proc and /sys mounted, and the host's network.
  mkdirSync('/run/systemd/nspawn', { recursive: true });
  const nspawn = ['systemd-nspawn', '-q', '-D', root, '--register=no', '--keep-unit', '-E', 'DEBIAN_FRONTEND=noninteractive'];
  await must([...nspawn, 'apt-get', 'update', '-q']);
  await must([...nspawn, 'apt-get', 'install', '-y', '-q', ...inRoot]);
  for (const f of inRoot) rmSync(join(root, f));
}

export class Container {
  private nspawn: ChildProcess | null = null;
  private systemdPid = 0;
  readonly output: string[] = [];

  constructor(
    readonly name: string,
    readonly root: string,
  ) {}

  /** Writes a file into the container's file system (before or after boot). */
  write(path: string, text: string, mode = 0o644): void {
    const p = join(this.root, path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
    chmodSync(p, mode);
  }

  exists(path: string): boolean {
    return existsSync(join(this.root, path));
  }

  /** Boots the container's systemd inside the network namespace `netns`; resolves once it runs. */
  async boot(netns: string, timeoutMs = 60_000): Promise<void> {
    mkdirSync('/run/systemd/nspawn', { recursive: true });
    const child = spawn(
      'systemd-nspawn',
      ['-D', this.root, '--register=no', '--keep-unit', '--capability=CAP_NET_ADMIN', `--network-namespace-path=/run/netns/${netns}`, `--hostname=${this.name}`, '--console=pipe', '-b'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: '1' } },
    );
    this.nspawn = child;
    const keep = (b: Buffer) => {
      this.output.push(b.toString());
      if (this.output.length > 400) this.output.splice(0, 100);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (child.exitCode !== null) throw new Error(`systemd-nspawn for ${this.name} exited ${child.exitCode}: ${this.output.join('').slice(-2000)}`);
      const kids = await run(['ps', '--ppid', String(child.pid), '-o', 'pid=,comm=']);
      const sd = /^\s*(\d+)\s+systemd$/m.exec(kids.stdout);
      if (sd) {
        this.systemdPid = Number(sd[1]);
        const state = await this.exec(['systemctl', 'is-system-running'], 5000);
        if (/^(running|degraded)/.test(state.stdout)) return;
      }
      await sleep(300);
    }
    throw new Error(`${this.name} did not boot within ${timeoutMs} ms: ${this.output.join('').slice(-2000)}`);
  }

  /** Runs a command inside the container (all its namespaces), as root. */
  exec(argv: string[], timeoutMs = 60_000): Promise<Ran> {
    if (!this.systemdPid) throw new Error(`${this.name} is not booted`);
    return run(['nsenter', '-t', String(this.systemdPid), '-a', '--', ...argv], { timeoutMs, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } });
  }

  /** Like exec, but a non-zero exit is an error with its output. */
  async sh(argv: string[], timeoutMs = 60_000): Promise<string> {
    const r = await this.exec(argv, timeoutMs);
    if (r.code !== 0) throw new Error(`${this.name}: ${argv.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).slice(-2000)}`);
    return r.stdout;
  }

  /** The unit's journal, for failure messages. */
  async journal(unit = 'heartbeat.service'): Promise<string> {
    const r = await this.exec(['journalctl', '-u', unit, '--no-pager', '-o', 'short-precise', '-n', '300'], 20_000).catch(() => null);
    return r ? r.stdout : '';
  }

  /** Stops the container (the nspawn we started, by PID) and removes its root. */
  async destroy(): Promise<void> {
    const child = this.nspawn;
    if (child?.pid && child.exitCode === null) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      // SIGTERM to nspawn is a clean container shutdown; SIGKILL if it hangs.
      signalPid(child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.pid && signalPid(child.pid, 'SIGKILL'), 20_000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Polls a container-side `check` every 200 ms; the error carries `dump()` (the journals, say). */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, dump: () => Promise<string>): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${await dump()}`);
}
