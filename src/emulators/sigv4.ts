// The emulated EC2's check of a request's Signature Version 4, as AWS checks it: the access key
// must be one it knows, and the signature must be the one that key's secret gives for this very
// request (method, path, the signed headers, the body). So a wrong secret, a changed body or a
// stale clock fail as they do at AWS, not only a wrong key id. The signing itself is the SDK's
// own signer (@smithy/signature-v4), run again on the request as received; nothing is hand-rolled
// but the SHA-256 it is given, which is Node's.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';

/** Why a request was refused, in EC2's error words; null when it is properly signed. */
export type SignatureVerdict = null | { code: 'AuthFailure' | 'SignatureDoesNotMatch' | 'IncompleteSignature' | 'RequestExpired'; message: string };

type Data = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Data): Buffer => (typeof d === 'string' ? Buffer.from(d) : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d));

/** The hash the signer asks for: SHA-256, or HMAC-SHA-256 when given a secret. */
class Sha256 {
  private h: Hash | Hmac;
  constructor(private readonly secret?: Data) {
    this.h = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
  update(d: Data): void {
    this.h.update(bytes(d));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset(): void {
    this.h = this.fresh();
  }
}

const HEADER = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;
/** How far a request's X-Amz-Date may be from our clock (AWS allows 5 minutes). */
const SKEW_MS = 5 * 60_000;

export async function checkSignature(req: Pick<IncomingMessage, 'method' | 'url' | 'headers'>, body: string, keys: ReadonlyMap<string, string>, now = Date.now()): Promise<SignatureVerdict> {
  const auth = String(req.headers.authorization ?? '');
  const m = HEADER.exec(auth);
  if (!m) return { code: auth ? 'IncompleteSignature' : 'AuthFailure', message: auth ? 'Authorization header is not a complete AWS4-HMAC-SHA256 signature' : 'AWS was not able to validate the provided access credentials' };
  const [, keyId = '', , region = '', service = '', signed = '', signature = ''] = m;
  const secret = keys.get(keyId);
  if (secret === undefined) return { code: 'AuthFailure', message: 'AWS was not able to validate the provided access credentials' };
  const stamp = String(req.headers['x-amz-date'] ?? '');
  const when = Date.parse(stamp.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (!Number.isFinite(when)) return { code: 'IncompleteSignature', message: 'the request has no valid X-Amz-Date' };
  if (Math.abs(when - now) > SKEW_MS) return { code: 'RequestExpired', message: `Request has expired. Timestamp date is ${stamp}` };
  const headers: Record<string, string> = {};
  for (const name of signed.split(';')) {
    const v = req.headers[name];
    if (v === undefined) return { code: 'IncompleteSignature', message: `the signed header ${name} is missing` };
    headers[name] = Array.isArray(v) ? v.join(',') : v;
  }
  const url = new URL(req.url ?? '/', 'http://ec2');
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => (query[k] = v));
  const signer = new SignatureV4({ credentials: { accessKeyId: keyId, secretAccessKey: secret }, region, service, sha256: Sha256 });
  const again = await signer.sign(
    { method: req.method ?? 'POST', protocol: 'http:', hostname: headers.host ?? 'ec2', path: url.pathname, query, headers, body },
    { signingDate: new Date(when), signingRegion: region, signingService: service },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(again.headers.authorization ?? again.headers.Authorization ?? ''))?.[1];
  return expected === signature ? null : { code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.' };
}
