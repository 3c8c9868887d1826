// One running relay (link-relay.ts) seen from the test process: started in a host's
// namespace, driven by control lines, its replies matched to requests by order (the relay
// answers every line exactly once, in order).
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onLines } from '../../src/lib/lines.js';
import type { Lan } from '../../src/lib/netns.js';
import { signalPid } from '../../src/lib/signal.js';
import type { CounterReport, RelayLine, RelaySpec } from './relay-protocol.js';

const RELAY = fileURLToPath(new URL('./link-relay.js', import.meta.url));
const TIMEOUT_MS = 10_000;

interface Waiter {
  resolve: (l: RelayLine) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class RelayClient {
  private readonly waiting: Waiter[] = [];
  private readonly stderr: string[] = [];
  private final: CounterReport | null = null;
  private gone = false;
  private readonly closed: Promise<void>;
  private onReady: (err: Error | null) => void = () => undefined;

  private constructor(
    readonly host: string,
    private readonly child: ChildProcess,
  ) {
    onLines(child.stdout, (text) => this.onLine(text));
    onLines(child.stderr, (text) => this.stderr.push(text));
    // 'close', not 'exit': the final counters line may still be in the pipe at 'exit'.
    this.closed = new Promise((resolve) => {
      const end = (why: string): void => {
        if (this.gone) return;
        this.gone = true;
        const err = new Error(`link relay on ${host} ${why}${this.stderrTail()}`);
        this.onReady(err);
        for (const w of this.waiting.splice(0)) {
          clearTimeout(w.timer);
          w.reject(err);
        }
        resolve();
      };
      child.once('close', (code, signal) => end(`exited (${signal ?? code})`));
      child.once('error', (err) => end(`could not start: ${err.message}`));
    });
  }

  /** Starts the relay in `host`'s namespace; resolves once every socket is bound. */
  static async start(lan: Lan, host: string, spec: RelaySpec): Promise<RelayClient> {
    const child = lan.spawnIn(host, [process.execPath, RELAY, JSON.stringify(spec)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const r = new RelayClient(host, child);
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        r.onReady = (err) => (err ? reject(err) : resolve());
        timer = setTimeout(() => reject(new Error(`link relay on ${host} not ready within ${TIMEOUT_MS} ms${r.stderrTail()}`)), TIMEOUT_MS);
      });
    } catch (err) {
      await r.stop();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return r;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.gone;
  }

  /** One raw control line (relay-protocol.ts); an error reply rejects with its message. */
  control(line: string): Promise<RelayLine> {
    if (this.gone || !this.child.stdin?.writable) return Promise.reject(new Error(`link relay on ${this.host} is not running`));
    if (line.includes('\n')) return Promise.reject(new Error('a control line cannot hold a newline'));
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          // Left in place with a no-op reject: a late reply must still consume this slot.
          w.reject = () => undefined;
          w.resolve = () => undefined;
          reject(new Error(`link relay on ${this.host}: no reply to ${line.slice(0, 80)} within ${TIMEOUT_MS} ms`));
        }, TIMEOUT_MS),
      };
      this.waiting.push(w);
      this.child.stdin?.write(`${line}\n`);
    });
  }

  async counters(): Promise<CounterReport> {
    const l = await this.control('counters');
    if (!('reply' in l) || l.reply !== 'counters') throw new Error(`link relay on ${this.host}: unexpected reply ${JSON.stringify(l)}`);
    return l.counters;
  }

  /** Ends the relay (stdin closed; SIGKILL by PID after 3 s); its final counters, if it gave them. */
  async stop(): Promise<CounterReport | null> {
    if (!this.gone) {
      this.child.stdin?.end();
      const timer = setTimeout(() => this.child.pid && signalPid(this.child.pid), 3000);
      await this.closed;
      clearTimeout(timer);
    }
    return this.final;
  }

  private onLine(text: string): void {
    let l: RelayLine;
    try {
      l = JSON.parse(text) as RelayLine;
    } catch {
      this.stderr.push(text);
      return;
    }
    if ('event' in l) {
      if (l.event === 'ready') this.onReady(null);
      else if (l.event === 'fatal') this.onReady(new Error(`link relay on ${this.host}: ${l.error}`));
      else this.final = l.counters;
      return;
    }
    const w = this.waiting.shift();
    if (!w) return;
    clearTimeout(w.timer);
    if (l.reply === 'error') w.reject(new Error(`link relay on ${this.host}: ${l.error}`));
    else w.resolve(l);
  }

  private stderrTail(): string {
    const tail = this.stderr.slice(-5);
    return tail.length ? `:\n  ${tail.join('\n  ')}` : '';
  }
}
