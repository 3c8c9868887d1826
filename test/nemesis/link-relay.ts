// The relay of a LinkEmulator (net-faults.ts), run inside one host's namespace:
//   node link-relay.js SPEC_JSON        (SPEC_JSON: a RelaySpec, see relay-protocol.ts)
// The host's nft rules turn its heartbeats to each peer toward one of our ports; we send each
// one on to the peer, from the host's own address, after the impairment in force. Control
// lines on stdin, one JSON reply line each on stdout; at stdin's end or SIGTERM a final
// counters line, then exit. Bad input gets an error reply, never a crash.
import dgram from 'node:dgram';
import { onLines } from '../../src/lib/lines.js';
import { addCounters, isPassThrough, MAX_HOLD_MS, PASS_THROUGH, Shaper, zeroCounters, type Copy, type Counters, type Impairment } from './impairment.js';
import { parseCommand, type CounterReport, type RelayLine, type RelaySpec, type RelayTarget } from './relay-protocol.js';

/** Heartbeat bursts must not overflow the default receive buffer (as in hbd). */
const RECEIVE_BUFFER_BYTES = 1 << 20;

function emit(line: RelayLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

class Link {
  imp: Impairment = PASS_THROUGH;
  readonly counters = zeroCounters();
  private readonly shaper: Shaper;
  private held: { copies: Copy[]; timer: NodeJS.Timeout } | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly target: RelayTarget,
    seed: number,
    index: number,
    private readonly tx: dgram.Socket,
  ) {
    this.shaper = new Shaper(seed, index);
  }

  onDatagram(payload: Buffer): void {
    const c = this.counters;
    c.received++;
    // Decided even in pass-through, so the stream stays aligned with the datagram count.
    const fate = this.shaper.decide(payload, this.imp, this.held === null);
    if (fate.drop) {
      c.dropped++;
      return;
    }
    if (fate.copies.length > 1) c.duplicated++;
    c.corrupted += fate.copies.filter((x) => x.corrupted).length;
    if (fate.holdBack) {
      c.reordered++;
      this.held = { copies: fate.copies, timer: setTimeout(() => this.release(), MAX_HOLD_MS) };
      return;
    }
    for (const copy of fate.copies) this.schedule(copy);
    this.release();
  }

  /** The held datagram goes now: behind the one just scheduled, or alone after MAX_HOLD_MS. */
  release(): void {
    const h = this.held;
    if (!h) return;
    this.held = null;
    clearTimeout(h.timer);
    for (const copy of h.copies) this.schedule(copy);
  }

  report(): Counters {
    return { ...this.counters, pending: this.timers.size + (this.held?.copies.length ?? 0) };
  }

  private schedule(copy: Copy): void {
    if (copy.delayMs <= 0) {
      this.sendNow(copy.payload);
      return;
    }
    this.counters.delayed++;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.sendNow(copy.payload);
    }, copy.delayMs);
    this.timers.add(timer);
  }

  private sendNow(payload: Buffer): void {
    const { address, port } = this.target.to;
    try {
      this.tx.send(payload, port, address, (err) => {
        if (err) this.counters.sendErrors++;
        else this.counters.forwarded++;
      });
    } catch {
      this.counters.sendErrors++;
    }
  }
}

function bind(socket: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

async function open(spec: RelaySpec): Promise<Link[]> {
  const senders = new Map<string, dgram.Socket>();
  const links: Link[] = [];
  for (const [i, target] of spec.targets.entries()) {
    let tx = senders.get(target.from);
    if (!tx) {
      tx = dgram.createSocket('udp4');
      // A send error comes to the send callback; the event is for the socket itself.
      tx.on('error', () => undefined);
      await bind(tx, spec.sendPort, target.from);
      tx.setBroadcast(true);
      senders.set(target.from, tx);
    }
    const link = new Link(target, spec.seed, i, tx);
    const rx = dgram.createSocket('udp4');
    rx.on('error', () => undefined);
    rx.on('message', (m) => link.onDatagram(m));
    await bind(rx, target.listen.port, target.listen.address);
    try {
      rx.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
    } catch {
      // The default buffer still works; it only loses datagrams sooner in a burst.
    }
    links.push(link);
  }
  return links;
}

function report(links: Link[]): CounterReport {
  const byTarget: Record<string, Counters> = {};
  const total = zeroCounters();
  for (const l of links) addCounters(total, (byTarget[l.target.id] = l.report()));
  return { ...total, byTarget };
}

function control(links: Link[], line: string): RelayLine {
  try {
    const cmd = parseCommand(line, links.map((l) => l.target.id));
    if (cmd.kind === 'counters') return { reply: 'counters', counters: report(links) };
    const imp = cmd.kind === 'set' ? (cmd.impairment ?? PASS_THROUGH) : PASS_THROUGH;
    const targets = cmd.kind === 'set' ? cmd.targets : null;
    for (const l of links) {
      if (targets && !targets.includes(l.target.id)) continue;
      l.imp = imp;
      // A datagram held back under the old impairment must not wait for a successor that
      // may never come under the new one.
      if (isPassThrough(imp)) l.release();
    }
    return { reply: 'ok' };
  } catch (err) {
    return { reply: 'error', error: err instanceof Error ? err.message : String(err) };
  }
}

async function main(): Promise<void> {
  let spec: RelaySpec;
  let links: Link[];
  try {
    spec = JSON.parse(process.argv[2] ?? '') as RelaySpec;
    links = await open(spec);
  } catch (err) {
    // Sockets bound before the failure would keep us running: exit once the line is out.
    const line: RelayLine = { event: 'fatal', error: err instanceof Error ? err.message : String(err) };
    process.stdout.write(`${JSON.stringify(line)}\n`, () => process.exit(1));
    return;
  }
  let ending = false;
  const end = (): void => {
    if (ending) return;
    ending = true;
    process.stdout.write(`${JSON.stringify({ event: 'final', counters: report(links) } satisfies RelayLine)}\n`, () => process.exit(0));
  };
  // Our parent is gone when stdout breaks; so is our reason to run.
  process.stdout.on('error', () => process.exit(0));
  process.stdin.on('end', end);
  process.on('SIGTERM', end);
  process.on('SIGINT', end);
  onLines(process.stdin, (line) => {
    if (line.trim() !== '') emit(control(links, line));
  });
  emit({ event: 'ready' });
}

void main();
