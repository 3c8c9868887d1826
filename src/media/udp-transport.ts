// One IP medium over node:dgram: a receive socket on the medium's well-known port and a
// send socket on an ephemeral port (as Heartbeat does: it sends from an ephemeral port to
// 694). What differs between ucast, bcast and mcast is only the plan: which addresses to
// bind, where copies go and which socket options to set (see udp.ts).
import dgram from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIPv4 } from 'node:net';
import { TransportBase, codeOf, messageOf } from './base.js';
import { prepareSendSocket, type SendRoute } from './send-route.js';
import type { TransportKind } from './transport.js';

/** Where to listen, and how to send (the route: `local` is also how our own packets are recognised). */
export interface UdpPlan extends SendRoute {
  listen: { address: string; port: number; reuseAddr: boolean };
  prepareReceiver?(socket: dgram.Socket): void;
  /** What to change in ha.cf when the listening port is taken. */
  portHint: string;
}

/**
 * The plan's addresses are IPv4 literals (a host name is resolved when the link opens), so
 * they are answered at once. dgram's default, dns.lookup, answers even a literal only on the
 * next tick: every packet sent went through a deferred callback and its bookkeeping.
 */
function literalLookup(hostname: string, options: LookupOneOptions, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  if (isIPv4(hostname)) callback(null, hostname, 4);
  else dnsLookup(hostname, options, callback);
}

/** Heartbeat bursts (startup, resource messages) must not overflow the default 208 KiB buffer. */
const RECEIVE_BUFFER_BYTES = 1 << 20;

interface Live {
  plan: UdpPlan;
  rx: dgram.Socket;
  tx: dgram.Socket;
}

export class UdpTransport extends TransportBase {
  private live: Live | undefined;

  constructor(
    kind: Exclude<TransportKind, 'serial'>,
    linkName: string,
    lines: number[],
    /** Computed at every open(): addresses can change while a link is closed. */
    private readonly makePlan: () => Promise<UdpPlan>,
  ) {
    super(kind, linkName, lines);
  }

  protected get isOpen(): boolean {
    return this.live !== undefined;
  }

  send(packet: Buffer): void {
    if (!this.admit(packet)) return;
    const live = this.live;
    if (!live) {
      this.sendFailed(new Error(`${this.where}: link is not open; packet not sent`));
      return;
    }
    for (const { address, port } of live.plan.destinations) {
      try {
        live.tx.send(packet, port, address, (err) => {
          if (!err) this.counters.sent++;
          else if (this.live === live) this.sendFailed(this.sendError(err, address, port));
        });
      } catch (err) {
        this.sendFailed(this.sendError(err, address, port));
      }
    }
  }

  sendRoute(): SendRoute | null {
    const plan = this.live?.plan;
    if (!plan) return null;
    const route: SendRoute = { local: plan.local, destinations: plan.destinations.map((d) => ({ ...d })) };
    if (plan.broadcast) route.broadcast = true;
    if (plan.multicast) route.multicast = { ...plan.multicast };
    return route;
  }

  protected async start(): Promise<void> {
    const plan = await this.makePlan();
    const { listen } = plan;
    const rx = dgram.createSocket({ type: 'udp4', reuseAddr: listen.reuseAddr });
    const tx = dgram.createSocket({ type: 'udp4', lookup: literalLookup });
    // Errors after open are reported, never thrown: an 'error' event without a listener
    // would end the process.
    const isLive = (): boolean => this.live?.rx === rx;
    rx.on('error', (err) => isLive() && this.report(new Error(`${this.where}: receive socket: ${messageOf(err)}`, { cause: err })));
    tx.on('error', (err) => isLive() && this.report(new Error(`${this.where}: send socket: ${messageOf(err)}`, { cause: err })));
    rx.on('message', (packet, rinfo) => {
      // Broadcast and looped-back multicast come back to the sender: those are not news.
      if (isLive() && rinfo.address !== plan.local) this.deliver(packet, `${rinfo.address}:${rinfo.port}`);
    });
    try {
      await this.step(`cannot listen on ${listen.address}:${listen.port}`, () => bindSocket(rx, listen.port, listen.address), plan);
      await this.step(`cannot set up the receive socket on ${listen.address}:${listen.port}`, () => plan.prepareReceiver?.(rx), plan);
      await this.step(`cannot bind the send socket to ${plan.local}`, () => bindSocket(tx, 0, plan.local), plan);
      await this.step(`cannot set up the send socket on ${plan.local}`, () => prepareSendSocket(tx, plan), plan);
    } catch (err) {
      await Promise.all([closeSocket(rx), closeSocket(tx)]);
      throw err;
    }
    try {
      rx.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
    } catch {
      // The kernel's default still works; it only loses packets sooner in a burst.
    }
    this.live = { plan, rx, tx };
  }

  protected async stop(): Promise<void> {
    const live = this.live;
    this.live = undefined;
    if (live) await Promise.all([closeSocket(live.rx), closeSocket(live.tx)]);
  }

  private async step(what: string, action: () => unknown, plan: UdpPlan): Promise<void> {
    try {
      await action();
    } catch (err) {
      throw new Error(`${this.where}: ${what}: ${explain(err, plan)}`, { cause: err });
    }
  }

  private sendError(err: unknown, address: string, port: number): Error {
    return new Error(`${this.where}: sending to ${address}:${port} failed: ${messageOf(err)}`, { cause: err });
  }
}

function explain(err: unknown, plan: UdpPlan): string {
  switch (codeOf(err)) {
    case 'EADDRINUSE':
      return `the port is in use (EADDRINUSE); another heartbeat or hbd is probably running on this node: stop it, or ${plan.portHint}`;
    case 'EADDRNOTAVAIL':
      return 'that address is not on this node (EADDRNOTAVAIL); check the interface and addresses in ha.cf';
    case 'EACCES':
      return 'permission denied (EACCES); ports below 1024 need root or CAP_NET_BIND_SERVICE';
    case 'ENODEV':
      return 'no such device (ENODEV); is the interface up?';
    default:
      return messageOf(err);
  }
}

function bindSocket(socket: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    socket.once('error', onError);
    try {
      socket.bind(port, address, () => {
        socket.off('error', onError);
        resolve();
      });
    } catch (err) {
      socket.off('error', onError);
      reject(err);
    }
  });
}

function closeSocket(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // never bound or already closed
    }
  });
}
