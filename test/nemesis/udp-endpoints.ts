// The tests' side of udp-tool.ts: real UDP endpoints in a LAN's hosts, their datagrams as
// the test process sees them.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onLines } from '../../src/lib/lines.js';
import type { Lan } from '../../src/lib/netns.js';
import { waitFor } from '../../src/lib/wait.js';

const TOOL = fileURLToPath(new URL('./udp-tool.js', import.meta.url));
/** Heartbeat's port: where the link emulator's rules look. */
export const HB = 694;

export interface Datagram {
  from: string;
  port: number;
  data: Buffer;
}

/** A udp-tool child's JSON lines, and a wait for its `ready`. */
export function udpTool(lan: Lan, host: string, args: string[]): { child: ChildProcess; lines: Record<string, unknown>[]; ready: Promise<void> } {
  const child = lan.spawnIn(host, [process.execPath, TOOL, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const errors: string[] = [];
  onLines(child.stdout, (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  onLines(child.stderr, (l) => errors.push(l));
  const ready = waitFor(`udp-tool ${args.join(' ')} on ${host} to be ready`, () => {
    if (child.exitCode !== null && !lines.some((l) => l.ready)) throw new Error(`exited: ${JSON.stringify(lines)} ${errors.join(' ')}`);
    return lines.some((l) => l.ready);
  }, { timeoutMs: 10_000 }).then(() => undefined);
  return { child, lines, ready };
}

export class Listener {
  private constructor(
    private readonly t: ReturnType<typeof udpTool>,
    readonly address: string,
  ) {}

  static async start(lan: Lan, host: string, address: string, echoPort?: number): Promise<Listener> {
    const t = udpTool(lan, host, ['listen', address, String(HB), ...(echoPort ? [String(echoPort)] : [])]);
    await t.ready;
    return new Listener(t, address);
  }

  get got(): Datagram[] {
    return this.t.lines.filter((l) => typeof l.data === 'string').map((l) => ({ from: l.from as string, port: l.port as number, data: Buffer.from(l.data as string, 'base64') }));
  }

  get count(): number {
    return this.got.length;
  }

  /** Waits until `n` datagrams came after the first `base`; those. */
  async await(base: number, n: number, what: string): Promise<Datagram[]> {
    await waitFor(`${n} datagrams at ${this.address} (${what})`, () => this.count >= base + n, { timeoutMs: 10_000, detail: () => `got ${this.count - base}` });
    return this.got.slice(base);
  }
}

/** Sends `count` datagrams from `from` (an address of `host`) to to:694; waits until all were handed to the kernel. */
export async function send(lan: Lan, host: string, from: string, to: string, count: number, gapMs = 1): Promise<void> {
  const t = udpTool(lan, host, ['send', from, to, String(HB), String(count), String(gapMs)]);
  await waitFor(`${host} to send ${count} datagrams to ${to}`, () => t.lines.find((l) => l.sent !== undefined), { timeoutMs: 20_000 });
}

export const seqOf = (d: Datagram): number => Number(/^seq=(\d+);/.exec(d.data.toString())?.[1]);
