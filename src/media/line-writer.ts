// Writes frames to a non-blocking tty descriptor without ever blocking the event loop, and
// without letting a stuck line pile up stale heartbeats.
//
// fs has no "writable" event for a descriptor, so what the kernel does not take at once waits
// in a backlog and is retried every few milliseconds. Like Heartbeat (a 500 ms alarm around
// each write, then tcflush), a line that takes nothing for STALL_MS loses its whole backlog:
// once it moves again, fresh packets go first instead of old ones. Node cannot tcflush, so
// what already sits in the kernel's buffer still goes out.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { codeOf, messageOf } from './base.js';

export const STALL_MS = 500;
const RETRY_MS = 5;

export interface LineWriterEvents {
  /** One frame went out whole. */
  sent(): void;
  /** Frames were lost; `err` is null when this trouble was already reported. */
  lost(frames: number, err: Error | null): void;
}

export class LineWriter {
  private backlog: Buffer[] = [];
  private backlogBytes = 0;
  private retry: NodeJS.Timeout | undefined;
  private lastProgress = 0;
  /** Kinds of trouble reported: each is told once, until the backlog drains by writing. */
  private readonly reported = new Set<'full' | 'failed' | 'stalled'>();

  constructor(
    private readonly fd: number,
    /** "serial /dev/ttyS0 (ha.cf:7)", for messages. */
    private readonly where: string,
    /** Beyond this many unsent bytes new frames are refused (memory bound). */
    private readonly maxBacklogBytes: number,
    private readonly events: LineWriterEvents,
  ) {}

  write(frame: Buffer): void {
    if (this.backlogBytes > 0 && this.backlogBytes + frame.length > this.maxBacklogBytes) {
      this.lose(1, 'full', `${this.backlogBytes} bytes are waiting to be sent; packets are dropped until the line catches up`);
      return;
    }
    if (this.backlog.length === 0) this.lastProgress = performance.now();
    this.backlog.push(frame);
    this.backlogBytes += frame.length;
    if (!this.retry) this.flush();
  }

  /** Forgets the backlog; nothing is written after this. */
  stop(): void {
    clearTimeout(this.retry);
    this.retry = undefined;
    this.backlog = [];
    this.backlogBytes = 0;
  }

  private flush(): void {
    this.retry = undefined;
    let progressed = false;
    while (this.backlog.length > 0) {
      const frame = this.backlog[0] as Buffer;
      let written = 0;
      try {
        written = fs.writeSync(this.fd, frame);
      } catch (err) {
        if (codeOf(err) !== 'EAGAIN') {
          // Lost, perhaps half written: the receiver resynchronises at the next frame.
          this.backlog.shift();
          this.backlogBytes -= frame.length;
          this.lose(1, 'failed', `write failed: ${messageOf(err)}`);
          continue;
        }
      }
      if (written > 0) this.lastProgress = performance.now();
      this.backlogBytes -= written;
      if (written === frame.length) {
        this.backlog.shift();
        this.events.sent();
        progressed = true;
        continue;
      }
      this.backlog[0] = frame.subarray(written);
      if (performance.now() - this.lastProgress >= STALL_MS) {
        const frames = this.backlog.length;
        this.stop();
        this.lose(frames, 'stalled', `write timeout: the line took nothing for ${STALL_MS} ms (no connection, or a cable without RTS/CTS?); the unsent packets were dropped`);
        return;
      }
      this.retry = setTimeout(() => this.flush(), RETRY_MS);
      return;
    }
    if (progressed) this.reported.clear();
  }

  private lose(frames: number, kind: 'full' | 'failed' | 'stalled', why: string): void {
    const first = !this.reported.has(kind);
    this.reported.add(kind);
    this.events.lost(frames, first ? new Error(`${this.where}: ${why}`) : null);
  }
}
