// AWS for the namespace tests and the demo: EC2 (ec2.ts, the Query API's XML answers) behind
// what the other emulators share (api-server.ts: faults, reports), plus
//  - the request's Signature Version 4 checked as AWS checks it (sigv4.ts): an unknown access
//    key is AuthFailure, a wrong secret SignatureDoesNotMatch, both HTTP 401;
//  - an IMDSv2 instance metadata service (PUT /latest/api/token with
//    X-aws-ec2-metadata-token-ttl-seconds 1..21600, then GET /latest/meta-data/instance-id,
//    placement/region, local-ipv4 with X-aws-ec2-metadata-token; 400 for a bad TTL, 401 for a
//    missing or unknown token), answering each instance by its source address;
//  - EC2's errors in its XML form (RequestLimitExceeded is EC2's 503, InternalError 500);
//  - after every call that may move an address, the new holders, for the router.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { EmulatedCloud, type ApiAnswer, type Asked, type EmulatorHooks, type Machine } from './api-server.js';
import { Ec2Error, Ec2World } from './ec2.js';
import { checkSignature } from './sigv4.js';

export const AWS_REGION = 'us-east-1';

export interface AwsOptions {
  /** The access key the API accepts (the agents' credentials file holds it). */
  accessKeyId: string;
  secretAccessKey: string;
  /** Hosts to run as instances, each with its LAN address as the instance's private address. */
  hosts: { name: string; address: string }[];
  /** The LAN's subnet (CIDR), made a VPC subnet. */
  subnet: string;
  /** Elastic IPs to allocate (their public addresses) and secondary private IPs to watch. */
  elasticIps: string[];
  secondaryIps: string[];
}

/** What setup() made, for the haresources lines and the router. */
export interface AwsWorld {
  instances: Machine[];
  allocations: { ip: string; allocationId: string }[];
}

export class AwsEmulator extends EmulatedCloud {
  private readonly tokens = new Set<string>();
  readonly ec2: Ec2World;
  /** Address -> holder instance id, as last reported. */
  private readonly holders = new Map<string, string | null>();
  protected readonly words = {
    unauthorized: ['AuthFailure', 'AWS was not able to validate the provided access credentials'] as [string, string],
    rateLimited: ['RequestLimitExceeded', 'Request limit exceeded.'] as [string, string],
    serverError: ['InternalError', 'An internal error has occurred'] as [string, string],
  };

  constructor(
    private readonly o: AwsOptions,
    hooks: EmulatorHooks = {},
  ) {
    super(o.accessKeyId, [], hooks, 100);
    this.ec2 = new Ec2World(o.subnet);
  }

  /** Makes one instance per host and allocates the Elastic IPs. */
  setup(): AwsWorld {
    for (const h of this.o.hosts) {
      const i = this.ec2.addInstance(h.name, h.address);
      this.machines.push({ id: i.id, name: h.name, address: h.address });
    }
    const allocations = this.o.elasticIps.map((ip) => ({ ip, allocationId: this.ec2.allocate(ip) }));
    for (const ip of [...this.o.elasticIps, ...this.o.secondaryIps]) this.holders.set(ip, null);
    return { instances: [...this.machines], allocations };
  }

  protected override async refusal(req: IncomingMessage, raw: string): Promise<[string, string] | null> {
    // `token` is the accepted access key id; the tests change it to play a revoked key.
    const verdict = await checkSignature(req, raw, new Map([[this.token, this.o.secretAccessKey]]));
    return verdict && [verdict.code, verdict.message];
  }

  protected override operationOf(raw: string): string | undefined {
    return new URLSearchParams(raw).get('Action') ?? undefined;
  }

  protected override errorAnswer(status: number, code: string, message: string): ApiAnswer {
    const http = code === 'RequestLimitExceeded' ? 503 : status;
    const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    const text = `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`;
    return { status: http, text, contentType: 'text/xml;charset=UTF-8' };
  }

  protected error(): unknown {
    return {};
  }

  protected rateHeaders(): Record<string, string> {
    return {}; // EC2 sends no rate-limit headers
  }
  protected metadata(path: string, m: Machine | null, asked: Asked): ApiAnswer {
    if (asked.method === 'PUT' && path === '/latest/api/token') {
      const ttl = Number(asked.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return { status: 400, text: '' };
      const token = randomBytes(24).toString('base64url');
      this.tokens.add(token);
      return { status: 200, text: token };
    }
    const token = asked.headers['x-aws-ec2-metadata-token'];
    if (typeof token !== 'string' || !this.tokens.has(token)) return { status: 401, text: '' };
    if (!m) return { status: 404, text: '' };
    const answers: Record<string, string> = {
      '/latest/meta-data/instance-id': m.id,
      '/latest/meta-data/placement/region': AWS_REGION,
      '/latest/meta-data/local-ipv4': m.address,
      '/latest/meta-data/hostname': m.name,
    };
    const text = answers[path];
    return text === undefined ? { status: 404, text: '' } : { status: 200, text };
  }

  protected api(method: string, url: URL, _body: unknown, asked: Asked): ApiAnswer {
    // The Query API: parameters in a form body (POST, as the SDK sends them) or the query string.
    const form = new URLSearchParams(method === 'POST' ? asked.raw : url.search);
    try {
      const text = this.ec2.handle(form);
      this.sync();
      return { status: 200, text, contentType: 'text/xml;charset=UTF-8' };
    } catch (err) {
      if (err instanceof Ec2Error) return this.errorAnswer(err.status, err.code, err.message);
      throw err;
    }
  }

  /** Reports each watched address whose holder changed. */
  private sync(): void {
    for (const [ip, was] of this.holders) {
      const now = this.ec2.holderOf(ip);
      if (now === was) continue;
      this.holders.set(ip, now);
      this.hooks.assigned?.(ip, now ? this.machineById(now) : null);
    }
  }
}
