// GET /events: server-sent events for dashboards. Each client gets the status at once, again
// soon after anything a person would want to see happens, and periodically otherwise (which
// doubles as the stream's heartbeat).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeEffect } from '../core/node.js';
import { AddressSlots, clientAddress } from './http-limits.js';
import { HttpError } from './http-reply.js';

/** Effects worth pushing to dashboards at once; heartbeats alone wait for the periodic push. */
const PUSH_ON = new Set(['node-status', 'link-status', 'transition', 'group-phase', 'drift', 'settled', 'node-restarted']);

export interface EventStreamOptions {
  maxClients: number;
  /** Streams one client address may hold, so one client cannot take every stream. */
  maxClientsPerAddress: number;
  /** The status to send; throws while hbd is still starting. */
  status: () => unknown;
  /** Told the number of connected clients whenever it changes (the SSE clients gauge). */
  onClients: (count: number) => void;
}

export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private readonly perAddress: AddressSlots;
  private pushTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: EventStreamOptions) {
    this.perAddress = new AddressSlots(o.maxClientsPerAddress);
  }

  open(req: IncomingMessage, res: ServerResponse): void {
    if (this.clients.size >= this.o.maxClients) {
      throw new HttpError(503, 'E_TOO_MANY_CLIENTS', `already ${this.o.maxClients} clients on /events; poll GET /status instead`, { 'Retry-After': '10' });
    }
    const first = JSON.stringify(this.o.status());
    const who = clientAddress(req.socket);
    if (!this.perAddress.take(who)) {
      throw new HttpError(503, 'E_TOO_MANY_CLIENTS', `already ${this.o.maxClientsPerAddress} /events streams from ${who}; close one (another dashboard tab?) or poll GET /status`, { 'Retry-After': '10' });
    }
    // (Not req's 'close': for a GET that fires as soon as the request has been read.)
    res.on('close', () => {
      this.clients.delete(res);
      this.perAddress.release(who);
      this.o.onClients(this.clients.size);
    });
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    req.socket.setNoDelay(true);
    req.socket.setTimeout(0);
    res.write(`retry: 2000\n\nevent: status\ndata: ${first}\n\n`);
    this.clients.add(res);
    this.o.onClients(this.clients.size);
  }

  /** The effects of one step of the core: push soon if a dashboard would show them. */
  noteEffects(effects: NodeEffect[]): void {
    if (this.clients.size > 0 && effects.some((e) => PUSH_ON.has(e.kind))) this.schedulePush();
  }

  push(): void {
    if (this.clients.size === 0) return;
    let data: string;
    try {
      data = `event: status\ndata: ${JSON.stringify(this.o.status())}\n\n`;
    } catch {
      data = ': starting\n\n';
    }
    for (const c of this.clients) {
      // A dashboard that stopped reading must not make us buffer without bound.
      if (c.writableLength > 1024 * 1024) {
        c.destroy();
        this.clients.delete(c);
        continue;
      }
      c.write(data);
    }
  }

  close(): void {
    if (this.pushTimer) clearTimeout(this.pushTimer);
    this.pushTimer = null;
    for (const c of this.clients) c.end();
    this.clients.clear();
  }

  private schedulePush(): void {
    if (this.pushTimer) return;
    // Coalesce the effects of one burst (a death, then a takeover) into one message.
    this.pushTimer = setTimeout(() => {
      this.pushTimer = null;
      this.push();
    }, 30);
    this.pushTimer.unref();
  }
}
