// The address guard: a tiny process that outlives hbd for one purpose. hbd tells it, on its
// stdin, exactly which copies of virtual IPs it holds (address, prefix, device), and gives it
// its last words: packets signed in advance, sent in order, that end in a goodbye
// (`hts_why=crash`; wire/messages.ts says why there are several), and the routes its IP
// media send on. If hbd dies without saying goodbye (kill -9, a crash, the OOM killer), stdin
// reaches EOF and the guard
//   1. removes those copies at once, and checks that they are gone, so a dead daemon never
//      leaves a virtual IP configured next to the survivor's (Heartbeat's split brain after
//      kill -9), then
//   2. sends the last words, so the peers take the group over now instead of after deadtime.
// The order matters: a peer may add the address the moment it reads the goodbye. If a copy
// cannot be removed, the guard says so loudly and sends nothing: the peers then wait for
// deadtime, and the operator has that long to act, rather than two hosts answering at once.
// Services are left alone, as after a silence: without their address, clients no longer
// reach them. If the guard dies with hbd (the host lost power), peers wait for deadtime.
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { promisify } from 'node:util';
import { isIP } from 'node:net';
import { parseIpAddrJson, type IpLink } from '../agents/iproute.js';
import type { HeldAddress } from '../agents/types.js';
import { onLines } from '../lib/lines.js';
import { setProcessTitle } from '../lib/proc-title.js';
import { isJournalStream, journalPrefix } from '../lib/journal.js';
import { prepareSendSocket, readSendRoute, type SendRoute } from '../media/send-route.js';

// Among Heartbeat's own processes (`heartbeat: FIFO reader`, ...), under its command name.
setProcessTitle(['heartbeat: address guard'], 'heartbeat');
const JOURNAL = isJournalStream();
/** A line on stderr (inherited from hbd), with its journald priority when that is where it goes. */
const say = (severity: 2 | 3 | 6, text: string): void => void process.stderr.write(journalPrefix(JOURNAL, severity) + text);

const run = promisify(execFile);
/** What hbd holds, by "ip/prefix dev": exactly the copies to remove. */
const held = new Map<string, HeldAddress>();
const DEVICE = /^[A-Za-z0-9_.:@-]{1,15}$/;

function readHeld(x: unknown): HeldAddress | null {
  const a = x as Partial<HeldAddress> | null;
  if (!a || typeof a.ip !== 'string' || !isIP(a.ip) || typeof a.dev !== 'string' || !DEVICE.test(a.dev)) return null;
  if (typeof a.prefix !== 'number' || !Number.isInteger(a.prefix) || a.prefix < 0 || a.prefix > 128) return null;
  return { ip: a.ip, prefix: a.prefix, dev: a.dev };
}
let lastWords: { packets: Buffer[]; routes: SendRoute[] } | null = null;
let clean = false;

process.stdin.setEncoding('utf8');
onLines(process.stdin, (line) => {
  try {
    const msg = JSON.parse(line) as { held?: unknown; exit?: unknown; lastWords?: { packets?: unknown; routes?: unknown } };
    if (Array.isArray(msg.held)) {
      held.clear();
      for (const x of msg.held) {
        const a = readHeld(x);
        if (a) held.set(`${a.ip}/${a.prefix} ${a.dev}`, a);
      }
    }
    const lw = msg.lastWords;
    if (lw && Array.isArray(lw.packets) && lw.packets.every((p) => typeof p === 'string') && Array.isArray(lw.routes)) {
      const routes = lw.routes.map(readSendRoute).filter((r): r is SendRoute => r !== null);
      lastWords = { packets: (lw.packets as string[]).map((p) => Buffer.from(p, 'base64')), routes };
    }
    if (msg.exit === true) clean = true;
  } catch {
    /* not ours: ignore */
  }
});

process.stdin.on('end', () => {
  void (async () => {
    if (clean) return;
    if (await release()) await sayLastWords();
  })().finally(() => process.exit(0));
});

// Signals are not for us: only the pipe closing ends the guard. hbd's own SIGTERM (a clean
// stop) must not make us remove addresses hbd is still stopping in order; and when hbd dies
// under systemd, the unit's stop sends SIGTERM to every process left in its control group,
// the guard included, at the very moment the guard has its work to do. hbd's EOF tells us
// which case it is; systemd sends SIGKILL only after TimeoutStopSec.
process.on('SIGTERM', () => undefined);
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);
// hbd waits for this before it starts any resource: from here on, only EOF ends the guard.
process.stdout.write('ready\n');

async function addresses(): Promise<IpLink[]> {
  return parseIpAddrJson((await run('ip', ['-json', 'addr', 'show'], { timeout: 5000 })).stdout);
}

const stillThere = (links: IpLink[], a: HeldAddress): boolean => links.some((l) => l.ifname === a.dev && l.addr_info.some((x) => x.local === a.ip));

/** Removes every held copy; true only when none is left (then, and only then, the peers may take over at once). */
async function release(): Promise<boolean> {
  if (held.size === 0) return true;
  for (const a of held.values()) {
    try {
      await run('ip', ['addr', 'del', `${a.ip}/${a.prefix}`, 'dev', a.dev], { timeout: 5000 });
      say(6, `hbd guard: hbd died; removed ${a.ip} from ${a.dev} (/${a.prefix})\n`);
    } catch (err) {
      say(3, `hbd guard: ip addr del ${a.ip}/${a.prefix} dev ${a.dev}: ${(err as Error).message.split('\n')[0]}\n`);
    }
  }
  let left: HeldAddress[];
  try {
    const links = await addresses();
    left = [...held.values()].filter((a) => stillThere(links, a));
  } catch (err) {
    say(2, `hbd guard: CRITICAL: cannot check that the addresses are gone (${(err as Error).message}); not telling the peers: they take over after deadtime\n`);
    return false;
  }
  if (left.length === 0) return true;
  say(2, `hbd guard: CRITICAL: ${left.map((a) => `${a.ip}/${a.prefix} on ${a.dev}`).join(', ')} could not be removed; not telling the peers that hbd died, so they wait for deadtime instead of running the same address at once. Remove it by hand now.\n`);
  return false;
}

/** Twice on every route, in order, as hbd sends its goodbye: one lost copy must not cost a deadtime. */
async function sayLastWords(): Promise<void> {
  if (!lastWords || lastWords.routes.length === 0) return;
  const { packets, routes } = lastWords;
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
          for (const packet of packets) {
            for (const d of route.destinations) {
              await new Promise<void>((resolve) =>
                socket.send(packet, d.port, d.address, (err) => {
                  if (!err) sent++;
                  resolve();
                }),
              );
            }
          }
        }
      } catch (err) {
        say(3, `hbd guard: could not send from ${route.local}: ${(err as Error).message}\n`);
      } finally {
        socket.close();
      }
    }),
  );
  if (sent > 0) say(6, `hbd guard: told the peers that hbd died (${sent} packets)\n`);
}
