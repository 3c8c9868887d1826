// The address guard: a tiny process that outlives hbd for one purpose. hbd tells it, on its
// stdin, which virtual IPs it holds, and gives it its last words: a goodbye signed in
// advance (`hts_why=crash`) and the routes its IP media send on. If hbd dies without saying
// goodbye (kill -9, a crash, the OOM killer), stdin reaches EOF and the guard
//   1. removes those addresses at once, so a dead daemon never leaves a virtual IP
//      configured next to the survivor's (Heartbeat's split brain after kill -9), then
//   2. sends the last words, so the peers take the group over now instead of after deadtime.
// The order matters: a peer may add the address the moment it reads the goodbye.
// Services are left alone, as after a silence: without their address, clients no longer
// reach them. If the guard dies with hbd (the host lost power), peers wait for deadtime.
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { promisify } from 'node:util';
import { findAddress, parseIpAddrJson } from '../agents/iproute.js';
import { onLines } from '../lib/lines.js';
import { prepareSendSocket, readSendRoute, type SendRoute } from '../media/send-route.js';

const run = promisify(execFile);
const held = new Set<string>();
let lastWords: { packet: Buffer; routes: SendRoute[] } | null = null;
let clean = false;

process.stdin.setEncoding('utf8');
onLines(process.stdin, (line) => {
  try {
    const msg = JSON.parse(line) as { held?: unknown; exit?: unknown; lastWords?: { packet?: unknown; routes?: unknown } };
    if (Array.isArray(msg.held)) {
      held.clear();
      for (const ip of msg.held) if (typeof ip === 'string' && /^[0-9.]{7,15}$/.test(ip)) held.add(ip);
    }
    const lw = msg.lastWords;
    if (lw && typeof lw.packet === 'string' && Array.isArray(lw.routes)) {
      const routes = lw.routes.map(readSendRoute).filter((r): r is SendRoute => r !== null);
      lastWords = { packet: Buffer.from(lw.packet, 'base64'), routes };
    }
    if (msg.exit === true) clean = true;
  } catch {
    /* not ours: ignore */
  }
});

process.stdin.on('end', () => {
  void (async () => {
    if (clean) return;
    await release();
    await sayLastWords();
  })().finally(() => process.exit(0));
});

// hbd's own SIGTERM/SIGINT are not for us: only the pipe closing ends the guard.
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);

async function release(): Promise<void> {
  if (held.size === 0) return;
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

/** Twice on every route, as hbd sends its goodbye: one lost copy must not cost a deadtime. */
async function sayLastWords(): Promise<void> {
  if (!lastWords || lastWords.routes.length === 0) return;
  const { packet, routes } = lastWords;
  let sent = 0;
  await Promise.all(
    routes.map(async (route) => {
      const socket = dgram.createSocket('udp4');
      socket.on('error', () => undefined);
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind(0, route.local, () => resolve());
        });
        prepareSendSocket(socket, route);
        for (let copy = 0; copy < 2; copy++) {
          for (const d of route.destinations) {
            await new Promise<void>((resolve) =>
              socket.send(packet, d.port, d.address, (err) => {
                if (!err) sent++;
                resolve();
              }),
            );
          }
        }
      } catch (err) {
        process.stderr.write(`hbd guard: could not send from ${route.local}: ${(err as Error).message}\n`);
      } finally {
        socket.close();
      }
    }),
  );
  if (sent > 0) process.stderr.write(`hbd guard: told the peers that hbd died (${sent} packets)\n`);
}
