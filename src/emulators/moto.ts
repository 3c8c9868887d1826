// Where moto's server is on this machine: the virtual environment scripts/install-deps.sh
// makes (/opt/heartbeat-ts/moto), else a python3 that can import it. null: not installed.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const MOTO_VENV = '/opt/heartbeat-ts/moto';

export async function findMoto(): Promise<string[] | null> {
  const candidates = [...(existsSync(`${MOTO_VENV}/bin/python`) ? [`${MOTO_VENV}/bin/python`] : []), 'python3'];
  for (const python of candidates) {
    try {
      await run(python, ['-c', 'import moto.server'], { timeout: 30_000 });
      return [python, '-m', 'moto.server'];
    } catch {
      /* not there */
    }
  }
  return null;
}
