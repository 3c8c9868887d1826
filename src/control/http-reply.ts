// How the HTTP API answers: every error is JSON `{ "error": { "code": "E_...", "message": "..." } }`
// with a stable code, every answer carries the same security headers, and a request body is
// read only up to its limit.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type HttpErrorCode =
  | 'E_BAD_REQUEST'
  | 'E_BAD_JSON'
  | 'E_BAD_HOST'
  | 'E_AUTH_REQUIRED'
  | 'E_BAD_TOKEN'
  | 'E_NOT_FOUND'
  | 'E_REQUEST_TIMEOUT'
  | 'E_METHOD_NOT_ALLOWED'
  | 'E_TOO_LARGE'
  | 'E_UNSUPPORTED_MEDIA_TYPE'
  | 'E_HEADERS_TOO_LARGE'
  | 'E_CONTROLS_DISABLED'
  | 'E_TOO_MANY_CLIENTS'
  | 'E_TOO_MANY_CONNECTIONS'
  | 'E_NOT_READY'
  | 'E_UNKNOWN_GROUP'
  | 'E_INTERNAL';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function errorBody(code: HttpErrorCode, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/**
 * Answers on the bare socket, for a connection the HTTP server has no request object for (a
 * malformed request, headers too slow, one connection too many), then closes it. The client
 * gets `graceMs` to read the answer; after that the socket is destroyed even if the client
 * never closes its side, so a refused connection cannot stay open.
 */
export function answerAndClose(socket: Socket, status: string, code: HttpErrorCode, message: string, headers: Record<string, string> = {}, graceMs = 1000): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = errorBody(code, message);
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`);
  if (graceMs > 0) setTimeout(() => socket.destroy(), graceMs).unref();
  else socket.once('finish', () => socket.destroy());
}

export function sendAsset(res: ServerResponse, type: string, body: string | Buffer): void {
  res.writeHead(200, { 'Content-Type': type, 'Content-Security-Policy': CSP, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${JSON.stringify(value)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function sendError(req: IncomingMessage, res: ServerResponse, e: HttpError): void {
  const headers = { ...e.headers };
  // A client still sending a body we will not read gets its connection closed after the answer.
  if (!req.complete) headers.Connection = 'close';
  sendJson(res, e.status, JSON.parse(errorBody(e.code, e.message)), headers);
  if (!req.complete) {
    req.resume();
    res.once('finish', () => setTimeout(() => req.socket.destroy(), 1000).unref());
  }
}

export function checkDeclaredLength(req: IncomingMessage, maxBody: number): void {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBody) throw new HttpError(413, 'E_TOO_LARGE', `request body over ${maxBody} bytes`);
}

export function readBody(req: IncomingMessage, maxBody: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (e: HttpError) => {
      if (done) return;
      done = true;
      reject(e);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBody) return fail(new HttpError(413, 'E_TOO_LARGE', `request body over ${maxBody} bytes`));
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks));
    });
    req.on('aborted', () => fail(new HttpError(400, 'E_BAD_REQUEST', 'request aborted')));
    req.on('error', () => fail(new HttpError(400, 'E_BAD_REQUEST', 'request aborted')));
  });
}
