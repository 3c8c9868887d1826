// POST /clear: a bearer-token holder asks this node to stop keeping out of a resource group
// after failed monitors (as `hbctl clear GROUP`), with the JSON body `{"group": NAME}`: the
// group's haresources line, one of its resources, or "all".
import type { IncomingMessage, ServerResponse } from 'node:http';
import { groupsNamed } from '../config/monitor.js';
import type { StatusSnapshot } from '../status/snapshot.js';
import { checkDeclaredLength, HttpError, readBody, sendJson } from './http-reply.js';
import { authorize, type SwitchContext } from './http-switch.js';

export async function requestClear(req: IncomingMessage, res: ServerResponse, ctx: SwitchContext, status: () => StatusSnapshot): Promise<void> {
  const clear = ctx.clear;
  if (!clear) throw new HttpError(503, 'E_CONTROLS_DISABLED', 'clear is not available on this server');
  await ctx.token.refresh(false);
  const ts = ctx.token.state;
  if (!ts.ok) throw new HttpError(503, 'E_CONTROLS_DISABLED', `clear is disabled on this node: ${ts.reason}`);
  authorize(req, ts.digest, ctx);
  checkDeclaredLength(req, ctx.maxBody);
  const body = await readBody(req, ctx.maxBody);
  if (!/^application\/json\s*(;.*)?$/i.test(String(req.headers['content-type'] ?? ''))) {
    throw new HttpError(415, 'E_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json, e.g. {"group":"apache2"}');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'E_BAD_JSON', 'the request body is not valid JSON');
  }
  const group = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as { group?: unknown }).group : undefined;
  if (typeof group !== 'string' || group.trim() === '' || group.length > 1024) {
    throw new HttpError(400, 'E_BAD_REQUEST', 'the body must be {"group": NAME}: a resource group\'s haresources line, one of its resources, or "all"');
  }
  ctx.ready();
  const ids = groupsNamed(status().groups, group);
  if (ids.length === 0) throw new HttpError(404, 'E_UNKNOWN_GROUP', `no resource group "${group.slice(0, 80)}" here: name its haresources line, one of its resources, or "all"`);
  ctx.log.info(`HTTP API: clear of ${ids.join('; ')} requested by ${req.socket.remoteAddress ?? '?'}.`);
  clear(ids);
  sendJson(res, 202, { accepted: true, action: 'clear', groups: ids, node: ctx.me });
}
