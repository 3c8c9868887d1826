// hbd's side of the address guard (see guard-main.ts): keeps the guard told exactly which
// copies of virtual IPs this node holds and what to tell the peers if hbd dies, and dismisses
// it on a clean exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SendRoute } from '../media/send-route.js';
import type { HeldAddress } from '../agents/types.js';

const GUARD_MAIN = fileURLToPath(new URL('./guard-main.js', import.meta.url));

export class AddressGuard {
  private child: ChildProcess | null = null;
  private readonly held = new Map<string, HeldAddress>();

  /**
   * Starts the guard and resolves once it is ready: its signal handlers are in place, so a
   * SIGTERM from the service manager can no longer kill it before it has done its job (a
   * loaded host can take a second to start a Node process). Rejects after `timeoutMs`.
   */
  start(timeoutMs = 10_000): Promise<void> {
    // Detached: a signal to hbd's process group must not take the guard with it.
    const child = spawn(process.execPath, [GUARD_MAIN], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
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
  lastWords(packets: Buffer[], routes: SendRoute[]): void {
    this.write({ lastWords: { packets: packets.map((p) => p.toString('base64')), routes } });
  }

  private send(extra: Record<string, unknown> = {}): void {
    this.write({ held: [...this.held.values()], ...extra });
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

const keyOf = (a: HeldAddress): string => `${a.ip}/${a.prefix} ${a.dev}`;
