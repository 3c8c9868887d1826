// An ext4 file system on a loop device, for the tests of resource-agents' Filesystem: made in a
// directory of the test's, released (losetup -d) when the test ends.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What making one needs, as the tools helper checks them. */
export const LOOP_DEVICE_TOOLS = [
  { cmd: 'losetup', pkg: 'mount' },
  { cmd: 'mkfs.ext4', pkg: 'e2fsprogs' },
  { cmd: 'modprobe', pkg: 'kmod' },
];

/** A 16 MB ext4 image in `dir` on the first free loop device; returns the device. */
export async function ext4LoopDevice(dir: string): Promise<string> {
  const image = join(dir, 'disk.img');
  await run('truncate', ['-s', '16M', image]);
  await run('mkfs.ext4', ['-q', '-F', image]);
  return (await run('losetup', ['--find', '--show', image])).stdout.trim();
}

export async function releaseLoopDevice(loop: string | null): Promise<void> {
  if (loop) await run('losetup', ['-d', loop]).catch((err: unknown) => console.log(`# losetup -d ${loop}: ${String(err)}`));
}
