// Talks to hbd's control socket: used by hbctl, cl_status, hb_standby and hb_takeover.
import { connect } from 'node:net';
import { LineSplitter } from '../lib/lines.js';
import type { ControlReply, ControlRequest } from './protocol.js';

export class ControlUnavailable extends Error {
  constructor(
    readonly path: string,
    override readonly cause: NodeJS.ErrnoException,
  ) {
    super(
      cause.code === 'ENOENT' || cause.code === 'ECONNREFUSED'
        ? `hbd is not running (no control socket at ${path})`
        : cause.code === 'EACCES'
          ? `permission denied on ${path}: run as root (or a member of the control group)`
          : `cannot reach hbd at ${path}: ${cause.message}`,
    );
  }
}

export function request<T = unknown>(path: string, req: ControlRequest, timeoutMs = 5000): Promise<ControlReply<T>> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    const lines = new LineSplitter();
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`hbd did not answer within ${timeoutMs} ms on ${path}`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (chunk: string) => {
      const [line] = lines.push(chunk);
      if (line === undefined) return;
      clearTimeout(timer);
      sock.end();
      try {
        resolve(JSON.parse(line) as ControlReply<T>);
      } catch {
        reject(new Error('hbd sent a reply that is not JSON'));
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new ControlUnavailable(path, err));
    });
  });
}
