// The address guard: a tiny process that outlives hbd for one purpose. hbd tells it, on its
// stdin, which virtual IPs it holds. If hbd dies without saying goodbye (kill -9, a crash),
// stdin reaches EOF and the guard removes those addresses at once, so a dead daemon never
// leaves a virtual IP configured next to the survivor's (Heartbeat's split brain after
// kill -9). Services are left alone: without their address, clients no longer reach them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findAddress, parseIpAddrJson } from '../agents/iproute.js';

const run = promisify(execFile);
const held = new Set<string>();
let clean = false;
let buf = '';

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  buf += chunk;
  let nl: number;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    try {
      const msg = JSON.parse(line) as { held?: unknown; exit?: unknown };
      if (Array.isArray(msg.held)) {
        held.clear();
        for (const ip of msg.held) if (typeof ip === 'string' && /^[0-9.]{7,15}$/.test(ip)) held.add(ip);
      }
      if (msg.exit === true) clean = true;
    } catch {
      /* not ours: ignore */
    }
  }
});

process.stdin.on('end', () => {
  void release().finally(() => process.exit(0));
});

// hbd's own SIGTERM/SIGINT are not for us: only the pipe closing ends the guard.
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);

async function release(): Promise<void> {
  if (clean || held.size === 0) return;
  let links;
  try {
    links = parseIpAddrJson((await run('ip', ['-json', 'addr', 'show'], { timeout: 5000 })).stdout);
  } catch {
    return;
  }
  for (const ip of held) {
    const here = findAddress(links, ip, null);
    if (!here) continue;
    try {
      await run('ip', ['addr', 'del', `${ip}/${here.addr.prefixlen}`, 'dev', here.link.ifname], { timeout: 5000 });
      process.stderr.write(`hbd guard: hbd died; removed ${ip} from ${here.link.ifname}\n`);
    } catch (err) {
      process.stderr.write(`hbd guard: could not remove ${ip}: ${(err as Error).message}\n`);
    }
  }
}
