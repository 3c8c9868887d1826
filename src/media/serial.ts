// The `serial /dev/ttyS0` medium: a point-to-point line at `baud` (framing: serial-frame.ts).
//
// No native serial binding: the line is set up by stty, read through tty.ReadStream (event
// driven; fs.createReadStream would park a libuv worker thread on every pending read) and
// written by a LineWriter on the same descriptor. The descriptor is non-blocking (we open it
// O_NONBLOCK and libuv keeps it so), so a write never stalls the event loop.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { stat } from 'node:fs/promises';
import tty from 'node:tty';
import { promisify } from 'node:util';
import { TransportBase, codeOf, messageOf } from './base.js';
import { LineWriter } from './line-writer.js';
import { FrameDecoder, MAX_LINE_BYTES, encodeFrame } from './serial-frame.js';

const run = promisify(execFile);
const openFd = promisify(fs.open);

export interface SerialOptions {
  device: string;
  /** Bits per second, as `baud` in ha.cf (Heartbeat's default is 19200). */
  baud: number;
  lines: number[];
}

/** Room for two of the largest frames; a stuck line is emptied long before (LineWriter). */
const MAX_BACKLOG_BYTES = 2 * MAX_LINE_BYTES;

/**
 * Line settings as Heartbeat's ttysetup(): 8 bits, no parity, receiver on, modem control
 * lines ignored, RTS/CTS flow control (so a null-modem cable needs the handshake wires, as
 * with Heartbeat), no echo, no line editing or signals, no output processing.
 */
export function sttyArgs(device: string, baud: number): string[] {
  return ['-F', device, String(baud), 'raw', '-echo', 'cs8', '-parenb', '-cstopb', 'cread', 'clocal', 'crtscts', 'min', '1', 'time', '0'];
}

interface Line {
  reader: tty.ReadStream;
  writer: LineWriter;
}

export class SerialTransport extends TransportBase {
  private line: Line | undefined;

  constructor(private readonly options: SerialOptions) {
    super('serial', options.device, options.lines);
  }

  protected get isOpen(): boolean {
    return this.line !== undefined;
  }

  send(packet: Buffer): void {
    if (!this.admit(packet)) return;
    if (!this.line) {
      this.sendFailed(new Error(`${this.where}: line is not open; packet not sent`));
      return;
    }
    this.line.writer.write(encodeFrame(packet));
  }

  protected async start(): Promise<void> {
    const { device, baud } = this.options;
    if (!device.startsWith('/')) throw new Error(`${this.where}: the serial device must be a full path such as /dev/ttyS0`);
    await this.checkDevice(device);
    let fd: number;
    try {
      fd = await openFd(device, fs.constants.O_RDWR | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
    } catch (err) {
      const hint = codeOf(err) === 'EACCES' ? '; run as root or give the user access to the device (group dialout)' : '';
      throw new Error(`${this.where}: cannot open ${device}: ${messageOf(err)}${hint}`, { cause: err });
    }
    try {
      if (!tty.isatty(fd)) throw new Error(`${this.where}: ${device} is not a terminal (serial) device; correct the serial line in ha.cf`);
      await this.setUpLine(device, baud);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    const reader = new tty.ReadStream(fd);
    const writer = new LineWriter(adoptHandleFd(reader, fd), this.where, MAX_BACKLOG_BYTES, {
      sent: () => this.counters.sent++,
      lost: (frames, err) => {
        this.counters.sendErrors += frames;
        if (err) this.report(err);
      },
    });
    const line: Line = { reader, writer };
    const decoder = new FrameDecoder(
      (packet) => this.deliver(packet, device),
      () => this.counters.dropped++,
    );
    reader.on('data', (chunk: Buffer) => decoder.push(chunk));
    reader.on('error', (err) => {
      if (this.line === line) this.report(new Error(`${this.where}: reading failed: ${messageOf(err)}`, { cause: err }));
    });
    reader.on('close', () => {
      // Only expected from close(); otherwise the device went away (USB adapter unplugged,
      // pty peer gone). The link stays closed until the daemon opens it again.
      if (this.line !== line) return;
      this.report(new Error(`${this.where}: the line closed unexpectedly; reopen it when the device is back`));
      this.release();
    });
    this.line = line;
  }

  protected async stop(): Promise<void> {
    const line = this.release();
    if (line) await destroyed(line.reader);
  }

  private release(): Line | undefined {
    const line = this.line;
    this.line = undefined;
    line?.writer.stop();
    return line;
  }

  private async checkDevice(device: string): Promise<void> {
    let info: fs.Stats;
    try {
      info = await stat(device);
    } catch (err) {
      const what = codeOf(err) === 'ENOENT' ? `${device} does not exist` : `cannot stat ${device}: ${messageOf(err)}`;
      throw new Error(`${this.where}: ${what}; check the serial line in ha.cf and that the port or adapter is present`, { cause: err });
    }
    if (!info.isCharacterDevice()) throw new Error(`${this.where}: ${device} is not a character device; correct the serial line in ha.cf`);
  }

  private async setUpLine(device: string, baud: number): Promise<void> {
    try {
      await run('stty', sttyArgs(device, baud), { timeout: 5_000 });
    } catch (err) {
      const stderr = String((err as { stderr?: unknown }).stderr ?? '').split('\n')[0]?.trim();
      throw new Error(`${this.where}: stty could not set up ${device} at ${baud} baud: ${stderr || messageOf(err)}; check baud in ha.cf`, { cause: err });
    }
  }
}

export function serialTransport(options: SerialOptions): SerialTransport {
  return new SerialTransport(options);
}

/**
 * libuv reopens a tty by its name to get a file description of its own (so it can make it
 * non-blocking without disturbing anyone else), dup2()s it over ours and keeps the new
 * descriptor, which it closes when the stream closes. Ours would stay open for ever: close
 * it now and write through libuv's. When libuv did not reopen (a pty master, say), both are
 * the same descriptor and there is nothing to do.
 */
function adoptHandleFd(reader: tty.ReadStream, fd: number): number {
  const handleFd = (reader as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof handleFd !== 'number' || handleFd < 0 || handleFd === fd) return fd;
  fs.closeSync(fd);
  return handleFd;
}

function destroyed(reader: tty.ReadStream): Promise<void> {
  return new Promise((resolve) => {
    if (reader.closed) return resolve();
    reader.once('close', () => resolve());
    reader.destroy();
  });
}
