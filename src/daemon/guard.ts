// hbd's side of the address guard (see guard-main.ts): keeps the guard told which virtual
// IPs this node holds and what to tell the peers if hbd dies, and dismisses it on a clean exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SendRoute } from '../media/send-route.js';

const GUARD_MAIN = fileURLToPath(new URL('./guard-main.js', import.meta.url));

export class AddressGuard {
  private child: ChildProcess | null = null;
  private readonly held = new Set<string>();

  start(): void {
    // Detached: a signal to hbd's process group must not take the guard with it.
    const child = spawn(process.execPath, [GUARD_MAIN], { stdio: ['pipe', 'ignore', 'inherit'], detached: true });
    child.unref();
    child.stdin?.on('error', () => undefined);
    child.on('error', () => undefined);
    this.child = child;
    this.send();
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  hold(ip: string): void {
    this.held.add(ip);
    this.send();
  }

  release(ip: string): void {
    if (this.held.delete(ip)) this.send();
  }

  /** The signed packet the guard sends on these routes after hbd died and its addresses are gone. */
  lastWords(packet: Buffer, routes: SendRoute[]): void {
    this.write({ lastWords: { packet: packet.toString('base64'), routes } });
  }

  private send(extra: Record<string, unknown> = {}): void {
    this.write({ held: [...this.held], ...extra });
  }

  /** One JSON line on the guard's stdin (guard-main.ts reads them). */
  private write(msg: Record<string, unknown>): void {
    this.child?.stdin?.write(`${JSON.stringify(msg)}\n`);
  }

  /** As if hbd had died: the guard removes what it was told we hold. */
  crash(): void {
    this.child?.stdin?.end();
    this.child = null;
  }

  /** A clean exit: whatever is still configured stays (a stop that failed is the operator's call). */
  close(): void {
    if (!this.child) return;
    this.send({ exit: true });
    this.child.stdin?.end();
    this.child = null;
  }
}
