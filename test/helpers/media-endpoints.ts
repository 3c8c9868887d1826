// Endpoints for the media compliance suite: a Transport in this process, or one in a child
// process (test/media/media-peer.ts) started inside a network namespace, driven over JSON
// lines on its stdin/stdout.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Medium } from '../../src/config/types.js';
import type { LinkStats, Transport } from '../../src/media/index.js';
import { Inbox, type Arrival, type Endpoint } from '../media/compliance.js';

/** A high port, so media tests never meet a real heartbeat on 694 or each other. */
export function randomPort(): number {
  return 30_000 + Math.floor(Math.random() * 20_000);
}

export function localEndpoint(name: string, transport: Transport): Endpoint {
  const packets = new Inbox<Arrival>();
  const errors = new Inbox<string>();
  transport.onPacket((packet, from) => packets.push({ packet: Buffer.from(packet), from }));
  transport.onError((err) => errors.push(err.message));
  return {
    name,
    packets,
    errors,
    send: async (packet) => transport.send(packet),
    stats: async () => transport.stats(),
    open: () => transport.open(),
    close: () => transport.close(),
    addThrowingHandler: async () =>
      transport.onPacket(() => {
        throw new Error('a packet handler failing on purpose');
      }),
  };
}

/** What media-peer.js builds its one link from. */
export interface PeerSpec {
  media: Medium[];
  udpport: number;
  baud: number;
  localAddress?: string;
}

export const peerScript = fileURLToPath(new URL('../media/media-peer.js', import.meta.url));

export interface RemoteEndpoint extends Endpoint {
  readonly linkName: string;
  /** Asks the child to close its link and exit; kills it by PID if it does not. */
  stop(): Promise<void>;
}

/** Starts media-peer.js through `spawn` (e.g. lan.spawnIn) and waits until it is ready. */
export async function remoteEndpoint(name: string, spawn: (argv: string[]) => ChildProcess, spec: PeerSpec): Promise<RemoteEndpoint> {
  const child = spawn([process.execPath, peerScript, JSON.stringify(spec)]);
  const packets = new Inbox<Arrival>();
  const errors = new Inbox<string>();
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let stderr = '';
  let nextId = 1;
  let linkName = '';
  let ready!: () => void;
  let failed!: (e: Error) => void;
  const started = new Promise<void>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin?.on('error', () => undefined); // EPIPE once the child is gone: reported by 'exit'
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      stderr += `${line}\n`; // not ours (a runtime warning?): keep it for the diagnosis
      return;
    }
    if (msg.event === 'ready') {
      linkName = String(msg.linkName);
      ready();
    } else if (msg.event === 'packet') {
      packets.push({ packet: Buffer.from(String(msg.data), 'base64'), from: String(msg.from) });
    } else if (msg.event === 'error') {
      errors.push(String(msg.message));
    } else if (typeof msg.reply === 'number') {
      const waiter = pending.get(msg.reply);
      pending.delete(msg.reply);
      if (msg.ok) waiter?.resolve(msg.result);
      else waiter?.reject(new Error(`${name}: ${String(msg.error)}`));
    }
  });
  child.once('exit', (code, signal) => {
    const err = new Error(`${name}: media-peer exited (${signal ?? code}): ${stderr.trim()}`);
    failed(err);
    for (const waiter of pending.values()) waiter.reject(err);
    pending.clear();
  });

  const request = (op: string, data?: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.stdin!.write(JSON.stringify({ id, op, data }) + '\n');
    });

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    request('exit').catch(() => undefined);
    const timer = setTimeout(() => child.pid && killQuietly(child.pid), 2_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await started;
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    name,
    linkName,
    packets,
    errors,
    send: async (packet) => void (await request('send', packet.toString('base64'))),
    stats: async () => (await request('stats')) as LinkStats,
    open: async () => void (await request('open')),
    close: async () => void (await request('close')),
    addThrowingHandler: async () => void (await request('throwingHandler')),
    stop,
  };
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
