// A log file for the daemon's logger (log.ts): append-only, written through a stream so a slow
// disk never blocks the event loop, reopened by name after logrotate, and never fatal.
import { createWriteStream, type WriteStream } from 'node:fs';
import { performance } from 'node:perf_hooks';

export function fileEnabled(path: string | null | undefined): path is string {
  return typeof path === 'string' && path !== '' && path !== '/dev/null';
}

/**
 * An append-only log file behind a write stream, so a slow disk never blocks the event
 * loop. Errors disable it until `retryMs` has passed; the first error of an outage is
 * reported, later ones are not until it works again.
 */
export class FileSink {
  private stream: WriteStream | null = null;
  private failedAt: number | null = null;
  private outageReported = false;
  private dropped = 0;
  private readonly closing = new Set<Promise<void>>();

  constructor(
    readonly path: string,
    private readonly cfg: {
      maxBufferedBytes: number;
      retryMs: number;
      report: (text: string) => void;
      /** Formats a line the sink writes about itself (lost lines). */
      notice: (msg: string) => string;
    },
  ) {
    this.open();
  }

  write(line: string): void {
    if (this.stream === null) {
      if (this.failedAt !== null && performance.now() - this.failedAt < this.cfg.retryMs) {
        this.dropped += 1;
        return;
      }
      this.open();
    }
    const stream = this.stream;
    if (stream === null) {
      this.dropped += 1;
      return;
    }
    if (stream.writableLength > this.cfg.maxBufferedBytes) {
      this.dropped += 1;
      return;
    }
    let text = line;
    if (this.dropped > 0) {
      text = this.cfg.notice(`${this.dropped} log lines lost (${this.path} failing or too slow)`) + '\n' + line;
      this.dropped = 0;
    }
    stream.write(text, (err) => {
      if (err == null && this.outageReported) {
        this.outageReported = false;
        this.cfg.report(`log file ${this.path} is writable again`);
      }
    });
  }

  /** Switch to a fresh stream on the same name; the old one flushes into the moved file. */
  reopen(): void {
    this.retire();
    this.failedAt = null;
    this.open();
  }

  async close(): Promise<void> {
    this.retire();
    await Promise.all([...this.closing]);
  }

  private open(): void {
    const stream = createWriteStream(this.path, { flags: 'a', mode: 0o640 });
    stream.on('error', (err: NodeJS.ErrnoException) => this.onError(stream, err));
    this.stream = stream;
  }

  private onError(stream: WriteStream, err: NodeJS.ErrnoException): void {
    if (this.stream === stream) {
      this.stream = null;
      this.failedAt = performance.now();
    }
    // Lines buffered in the failed stream are gone too; count at least the failing one.
    this.dropped += 1;
    if (!stream.destroyed) stream.destroy();
    if (!this.outageReported) {
      this.outageReported = true;
      // Node's fs messages already start with the code ("ENOSPC: no space left on device, write").
      this.cfg.report(`cannot write log file ${this.path}: ${err.message}`);
    }
  }

  private retire(): void {
    const stream = this.stream;
    this.stream = null;
    if (stream === null) return;
    const done: Promise<void> = new Promise<void>((resolve) => {
      if (stream.closed) return resolve();
      stream.once('close', () => resolve());
      stream.end();
    }).then(() => void this.closing.delete(done));
    this.closing.add(done);
  }
}

