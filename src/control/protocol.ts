// The local control socket's protocol: one JSON request per line, one JSON reply per line.
// Errors carry a stable code (as fastify does) so scripts can tell them apart.
import type { Scope } from '../core/node.js';

export type ControlRequest =
  | { cmd: 'status' }
  | { cmd: 'info' }
  | { cmd: 'standby'; scope: Scope }
  | { cmd: 'takeover'; scope: Scope }
  /** `hbctl clear GROUP`: this node no longer keeps out of the group (resource monitoring). */
  | { cmd: 'clear'; group: string };

export type ControlErrorCode =
  | 'E_BAD_JSON'
  | 'E_BAD_REQUEST'
  | 'E_UNKNOWN_COMMAND'
  | 'E_TOO_LARGE'
  | 'E_TOO_MANY_CLIENTS'
  | 'E_READ_ONLY'
  | 'E_NOT_READY'
  | 'E_UNKNOWN_GROUP'
  | 'E_INTERNAL';

/** A handler's refusal with its stable code (a request that names no group...). */
export class ControlError extends Error {
  constructor(
    readonly code: ControlErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type ControlReply<T = unknown> = { ok: true; result: T } | { ok: false; error: { code: ControlErrorCode; message: string } };

export const DEFAULT_CONTROL_SOCKET = '/run/heartbeat-ts/hbd.sock';

/** Longest request line; a longer one is answered E_TOO_LARGE and the connection closed. */
export const MAX_REQUEST_BYTES = 64 * 1024;
/** Connections one socket serves at once; the next is answered E_TOO_MANY_CLIENTS. */
export const MAX_CONTROL_CONNECTIONS = 32;
/** Replies a client may leave unread before hbd stops reading its requests. */
export const MAX_QUEUED_REPLY_BYTES = 64 * 1024;
/** A connection with no traffic either way for this long is closed. */
export const CONTROL_IDLE_TIMEOUT_MS = 10_000;

/**
 * The read-only (status) socket that goes with a control socket: `hbd.sock` has
 * `hbd-status.sock` next to it. Derived, not configured, so every client finds it from the
 * one path it already knows.
 */
export function statusSocketPath(controlPath: string): string {
  return controlPath.endsWith('.sock') ? `${controlPath.slice(0, -'.sock'.length)}-status.sock` : `${controlPath}-status`;
}

const SCOPES = new Set(['all', 'local', 'foreign']);

/** Requests that only read: the read-only status socket answers them. */
export const READ_ONLY_COMMANDS: ReadonlySet<string> = new Set(['status', 'info']);

export function parseRequest(line: string): ControlRequest | { error: { code: ControlErrorCode; message: string } } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { error: { code: 'E_BAD_JSON', message: 'request is not valid JSON' } };
  }
  if (typeof raw !== 'object' || raw === null || typeof (raw as { cmd?: unknown }).cmd !== 'string') {
    return { error: { code: 'E_BAD_REQUEST', message: 'request must be an object with a "cmd" string' } };
  }
  const r = raw as { cmd: string; scope?: unknown; group?: unknown };
  switch (r.cmd) {
    case 'status':
    case 'info':
      return { cmd: r.cmd };
    case 'standby':
    case 'takeover': {
      const scope = r.scope ?? 'all';
      if (typeof scope !== 'string' || !SCOPES.has(scope)) {
        return { error: { code: 'E_BAD_REQUEST', message: `scope must be all, local or foreign (got ${JSON.stringify(scope)})` } };
      }
      return { cmd: r.cmd, scope: scope as Scope };
    }
    case 'clear':
      if (typeof r.group !== 'string' || r.group.trim() === '' || r.group.length > 1024) {
        return { error: { code: 'E_BAD_REQUEST', message: 'clear needs "group": a resource group (its haresources line, or one of its resources) or "all"' } };
      }
      return { cmd: 'clear', group: r.group };
    default:
      return { error: { code: 'E_UNKNOWN_COMMAND', message: `unknown command "${r.cmd.slice(0, 40)}"` } };
  }
}
