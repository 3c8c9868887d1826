// POST /standby and /takeover: a bearer-token holder asks this node to give up or take over
// resource groups, with an optional JSON body `{"scope": "all" | "local" | "foreign"}`.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Scope } from '../core/node.js';
import type { Logger } from '../lib/logger.js';
import { checkDeclaredLength, HttpError, readBody, sendJson } from './http-reply.js';
import type { BearerToken } from './http-token.js';

const SCOPES = new Set<string>(['all', 'local', 'foreign']);

export interface SwitchContext {
  token: BearerToken;
  maxBody: number;
  log: Logger;
  /** This node's name, echoed in the answer. */
  me: string;
  /** Carries out a standby or takeover on this node (Daemon.dispatch). */
  dispatch: (event: { kind: 'standby' | 'takeover'; scope: Scope }) => void;
  /** Carries out `hbctl clear` of these groups (by id) on this node; absent: POST /clear answers 503. */
  clear?: (groups: string[]) => void;
  /** Throws E_NOT_READY while hbd is still starting. */
  ready: () => void;
  /** Called for every refused token (the auth-failure metric). */
  onAuthFailure: () => void;
  warnOnce: (key: string, text: string) => void;
}

export async function requestSwitch(req: IncomingMessage, res: ServerResponse, kind: 'standby' | 'takeover', ctx: SwitchContext): Promise<void> {
  await ctx.token.refresh(false);
  const ts = ctx.token.state;
  if (!ts.ok) throw new HttpError(503, 'E_CONTROLS_DISABLED', `standby and takeover are disabled on this node: ${ts.reason}`);
  authorize(req, ts.digest, ctx);
  const type = String(req.headers['content-type'] ?? '');
  checkDeclaredLength(req, ctx.maxBody);
  const body = await readBody(req, ctx.maxBody);
  const scope = body.length > 0 ? scopeOf(body, type) : 'all';
  ctx.ready();
  ctx.log.info(`HTTP API: ${kind} (scope ${scope}) requested by ${req.socket.remoteAddress ?? '?'}.`);
  ctx.dispatch({ kind, scope });
  sendJson(res, 202, { accepted: true, action: kind, scope, node: ctx.me });
}

function scopeOf(body: Buffer, type: string): Scope {
  if (!/^application\/json\s*(;.*)?$/i.test(type)) throw new HttpError(415, 'E_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json, e.g. {"scope":"all"}, or send no body');
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'E_BAD_JSON', 'the request body is not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new HttpError(400, 'E_BAD_REQUEST', 'the body must be a JSON object such as {"scope":"all"}');
  const extra = Object.keys(raw).filter((k) => k !== 'scope');
  if (extra.length) throw new HttpError(400, 'E_BAD_REQUEST', `unknown field ${JSON.stringify(extra[0]!.slice(0, 40))}; the only field is "scope"`);
  const s = (raw as { scope?: unknown }).scope ?? 'all';
  if (typeof s !== 'string' || !SCOPES.has(s)) throw new HttpError(400, 'E_BAD_REQUEST', `scope must be "all", "local" or "foreign" (got ${JSON.stringify(s)?.slice(0, 40)})`);
  return s as Scope;
}

export function authorize(req: IncomingMessage, expected: Buffer, ctx: SwitchContext): void {
  const header = req.headers.authorization;
  const who = req.socket.remoteAddress ?? '?';
  if (!header) {
    ctx.onAuthFailure();
    throw new HttpError(401, 'E_AUTH_REQUIRED', 'send the token of http_token_file as "Authorization: Bearer TOKEN"', { 'WWW-Authenticate': 'Bearer realm="hbd"' });
  }
  const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
  const given = createHash('sha256').update(m?.[1] ?? '').digest();
  // Both sides hashed to 32 bytes first: the comparison time says nothing about the token.
  if (!m || !timingSafeEqual(given, expected)) {
    ctx.onAuthFailure();
    ctx.warnOnce(`auth:${who}`, `HTTP API: refused ${req.method} ${req.url?.slice(0, 40)} from ${who}: wrong bearer token.`);
    throw new HttpError(401, 'E_BAD_TOKEN', 'the bearer token is not valid', { 'WWW-Authenticate': 'Bearer realm="hbd", error="invalid_token"' });
  }
}
