// hbd's side of the address guard (see guard-perl.ts): keeps the guard told exactly which
// copies of virtual IPs this node holds and what to tell the peers if hbd dies, and dismisses
// it on a clean exit.
import { spawn, type ChildProcess } from 'node:child_process';
import type { SendRoute } from '../media/send-route.js';
import type { HeldAddress } from '../agents/types.js';
import { GUARD_PERL } from './guard-perl.js';

/** The guard's command line: Debian's perl-base (Essential), the program given inline. */
export const GUARD_ARGV: readonly string[] = ['perl', '-e', GUARD_PERL];

/** A `held` line of the guard's input: every copy hbd holds now. */
export const heldLine = (held: Iterable<HeldAddress>): string => ['held', ...[...held].map((a) => `${a.ip}/${a.prefix}/${a.dev}`)].join(' ');

/** A `lastwords` line: the packets in hex, comma-separated, in the order they go out; then each route as LOCAL,to=ADDR:PORT,...[,bcast][,mcast=TTL:LOOP]. */
export function lastWordsLine(packets: readonly Buffer[], routes: readonly SendRoute[]): string {
  const route = (r: SendRoute): string =>
    [r.local, ...r.destinations.map((d) => `to=${d.address}:${d.port}`), ...(r.broadcast ? ['bcast'] : []), ...(r.multicast ? [`mcast=${r.multicast.ttl}:${r.multicast.loop ? 1 : 0}`] : [])].join(',');
  return ['lastwords', packets.map((p) => p.toString('hex')).join(','), ...routes.map(route)].join(' ');
}

export class AddressGuard {
  private child: ChildProcess | null = null;
  private readonly held = new Map<string, HeldAddress>();

  /**
   * Starts the guard and resolves once it is ready: its signal handlers are in place, so a
   * SIGTERM from the service manager can no longer kill it before it has done its job (a
   * loaded host can take a while to start a process). Rejects after `timeoutMs`.
   */
  start(timeoutMs = 10_000): Promise<void> {
    const [cmd, ...args] = GUARD_ARGV;
    // Detached: a signal to hbd's process group must not take the guard with it.
    const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    child.unref();
    child.stdin?.on('error', () => undefined);
    child.on('error', () => undefined);
    this.child = child;
    this.send();
    const stdout = child.stdout;
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        stdout?.removeAllListeners('data');
        stdout?.destroy(); // it says nothing more; hbd must not wait on it
        (stdout as { unref?: () => void } | null)?.unref?.();
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => done(new Error(`not ready after ${timeoutMs} ms`)), timeoutMs);
      child.once('exit', (code, signal) => done(new Error(`exited (${signal ?? code}) before it was ready`)));
      // No perl on the PATH (not Debian, where perl-base is Essential): say so now, not after the timeout.
      child.once('error', (err) => done(new Error(`cannot run ${cmd}: ${err.message}`)));
      stdout?.setEncoding('utf8');
      stdout?.on('data', (chunk: string) => {
        if (chunk.includes('ready')) done();
      });
    });
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  hold(a: HeldAddress): void {
    this.held.set(keyOf(a), a);
    this.send();
  }

  release(a: HeldAddress): void {
    if (this.held.delete(keyOf(a))) this.send();
  }

  /** The signed packets the guard sends, in order, on these routes after hbd died and its addresses are gone. */
  lastWords(packets: readonly Buffer[], routes: SendRoute[]): void {
    this.write(lastWordsLine(packets, routes));
  }

  private send(): void {
    this.write(heldLine(this.held.values()));
  }

  /** One line on the guard's stdin (guard-perl.ts reads them). */
  private write(line: string): void {
    this.child?.stdin?.write(`${line}\n`);
  }

  /** As if hbd had died: the guard removes what it was told we hold. */
  crash(): void {
    this.child?.stdin?.end();
    this.child = null;
  }

  /** A clean exit: whatever is still configured stays (a stop that failed is the operator's call). */
  close(): void {
    if (!this.child) return;
    this.write('exit');
    this.child.stdin?.end();
    this.child = null;
  }
}

const keyOf = (a: HeldAddress): string => `${a.ip}/${a.prefix} ${a.dev}`;
