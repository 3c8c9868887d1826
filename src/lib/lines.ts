// Newline-framed text over a byte stream (a child's output, the control socket, the guard's
// stdin). A chunk may end in the middle of a line or of a UTF-8 character; both wait for
// the next chunk. A last line without its '\n' when the stream ends is not a line.
import type { ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

export class LineSplitter {
  private tail = '';
  private readonly decoder = new StringDecoder('utf8');

  /** The lines this chunk completes, without their '\n'. */
  push(chunk: string | Buffer): string[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    if (!text.includes('\n')) {
      this.tail += text;
      return [];
    }
    const lines = (this.tail + text).split('\n');
    this.tail = lines.pop() ?? '';
    return lines;
  }

  /** Length of the incomplete line held back (for callers that bound a line's size). */
  get pending(): number {
    return this.tail.length;
  }

  clear(): void {
    this.tail = '';
  }
}

/** Calls `fn` with each line of `stream`. */
export function onLines(stream: Readable | null | undefined, fn: (line: string) => void): void {
  if (!stream) return;
  const lines = new LineSplitter();
  stream.on('data', (chunk: string | Buffer) => {
    for (const line of lines.push(chunk)) fn(line);
  });
}

/** Calls `fn` with each line a child writes, on stdout or stderr (each framed on its own). */
export function onOutputLines(child: ChildProcess, fn: (line: string) => void): void {
  onLines(child.stdout, fn);
  onLines(child.stderr, fn);
}
