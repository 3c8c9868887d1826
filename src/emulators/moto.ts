// Where moto's server is on this machine: Debian 13's python3-moto in the root that
// scripts/install-deps.sh makes with mmdebstrap (entered with chroot: it needs root, as the
// namespace tests and the demo do anyway), else a moto_server on PATH. null: not installed.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { waitFor } from '../lib/wait.js';

const run = promisify(execFile);
export const MOTO_ROOT = '/var/cache/heartbeat-ts-test/moto-trixie';

export async function findMoto(): Promise<string[] | null> {
  if (existsSync(`${MOTO_ROOT}/usr/bin/moto_server`)) return ['chroot', MOTO_ROOT, 'moto_server'];
  try {
    await run('moto_server', ['--help'], { timeout: 30_000 });
    return ['moto_server'];
  } catch {
    return null;
  }
}

export interface RunningMoto {
  url: string;
  stop(): void;
}

/** Starts moto's server on 127.0.0.1:port (of the namespace it runs in) and waits until it answers. */
export async function startMoto(argv: string[], port: number): Promise<RunningMoto> {
  const [cmd = 'moto_server', ...args] = argv;
  const moto = spawn(cmd, [...args, '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let motoErr = '';
  moto.stderr?.on('data', (d: Buffer) => (motoErr = (motoErr + String(d)).slice(-2000)));
  const stop = (): void => void moto.kill('SIGKILL');
  process.on('exit', stop);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor('moto to answer', async () => {
      if (moto.exitCode !== null) throw new Error(`moto exited (${moto.exitCode}): ${motoErr.trim().split('\n').pop() ?? ''}`);
      return fetch(`${url}/moto-api/`).then((r) => r.ok, () => false);
    }, { timeoutMs: 30_000, pollMs: 200 });
  } catch (err) {
    stop();
    throw err;
  }
  return { url, stop };
}
