// Talks to hbd's control socket: used by hbctl, cl_status, hb_standby and hb_takeover.
import { connect } from 'node:net';
import { LineSplitter } from '../lib/lines.js';
import { statusSocketPath, type ControlReply, type ControlRequest } from './protocol.js';

export class ControlUnavailable extends Error {
  constructor(
    readonly path: string,
    override readonly cause: NodeJS.ErrnoException,
  ) {
    super(
      cause.code === 'ENOENT' || cause.code === 'ECONNREFUSED'
        ? `hbd is not running (no control socket at ${path})`
        : cause.code === 'EACCES'
          ? `permission denied on ${path}: run as root or as a member of the group hbd gives it (--control-group; --status-group for status only)`
          : `cannot reach hbd at ${path}: ${cause.message}`,
    );
  }
}

/** hbd accepted the connection but did not answer in time. */
export class ControlTimeout extends Error {}

export function request<T = unknown>(path: string, req: ControlRequest, timeoutMs = 5000): Promise<ControlReply<T>> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    const lines = new LineSplitter();
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new ControlTimeout(`hbd did not answer within ${timeoutMs} ms on ${path}`));
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

/**
 * A read-only request (status, info) on the control socket or, when this user may not connect
 * to it, on the read-only status socket next to it (open to hbd's --status-group).
 */
export async function requestRead<T = unknown>(path: string, req: Extract<ControlRequest, { cmd: 'status' | 'info' }>, timeoutMs = 5000): Promise<ControlReply<T>> {
  try {
    return await request<T>(path, req, timeoutMs);
  } catch (err) {
    if (!(err instanceof ControlUnavailable) || err.cause.code !== 'EACCES') throw err;
    try {
      return await request<T>(statusSocketPath(path), req, timeoutMs);
    } catch (second) {
      // Refused there too: say so. Otherwise (an hbd without a status socket, say) the first
      // refusal is the useful one.
      if (second instanceof ControlUnavailable && second.cause.code === 'EACCES') throw second;
      throw err;
    }
  }
}

export function requestStatus<T = unknown>(path: string, timeoutMs = 5000): Promise<ControlReply<T>> {
  return requestRead<T>(path, { cmd: 'status' }, timeoutMs);
}
