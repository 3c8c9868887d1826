// AWS for the namespace tests and the demo: moto in server mode (a maintained EC2 emulator; Debian
// 13's python3-moto, see moto.ts) holds the EC2 state; this adds what moto does not give a multi-host test:
//  - an IMDSv2 instance metadata service (PUT /latest/api/token with
//    X-aws-ec2-metadata-token-ttl-seconds 1..21600, then GET /latest/meta-data/instance-id,
//    placement/region, local-ipv4 with X-aws-ec2-metadata-token; 400 for a bad TTL, 401 for a
//    missing or unknown token), answering each instance by its source address;
//  - a front for the EC2 API that forwards every request to moto unchanged (the SDK's
//    signature included), injects the faults of faults.ts (errors in EC2's XML form:
//    RequestLimitExceeded is EC2's 503, AuthFailure 401, InternalError 500), checks each
//    request's Signature Version 4 as EC2 does (sigv4.ts: an unknown key is AuthFailure, a wrong
//    secret SignatureDoesNotMatch), which moto does not, and completes AssignPrivateIpAddresses with
//    AllowReassignment as EC2 does (the address leaves the interface that had it; moto leaves
//    it on both);
//  - after every call that may move an address, the new holders, for the router.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  AllocateAddressCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeAddressesCommand,
  DescribeImagesCommand,
  DescribeNetworkInterfacesCommand,
  EC2Client,
  RunInstancesCommand,
  UnassignPrivateIpAddressesCommand,
} from '@aws-sdk/client-ec2';
import { EmulatedCloud, type ApiAnswer, type Asked, type EmulatorHooks, type Machine } from './api-server.js';
import { checkSignature } from './sigv4.js';

export const AWS_REGION = 'us-east-1';

export interface AwsOptions {
  /** moto's server, e.g. http://127.0.0.1:5000 (on the router's loopback). */
  motoUrl: string;
  /** The access key the front accepts (the agents' credentials file holds it). */
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

const MUTATING = new Set(['AssociateAddress', 'DisassociateAddress', 'AssignPrivateIpAddresses', 'UnassignPrivateIpAddresses']);

export class AwsEmulator extends EmulatedCloud {
  private readonly tokens = new Set<string>();
  private readonly ec2: EC2Client;
  /** Address -> holder instance id, as last seen in moto. */
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
    this.ec2 = new EC2Client({ region: AWS_REGION, endpoint: o.motoUrl, credentials: { accessKeyId: o.accessKeyId, secretAccessKey: 'moto-does-not-check' } });
  }

  /** Makes the VPC, the subnet, one instance per host and the Elastic IPs in moto. */
  async setup(): Promise<AwsWorld> {
    const [a, b] = this.o.subnet.split('.');
    const vpc = await this.ec2.send(new CreateVpcCommand({ CidrBlock: `${a}.${b}.0.0/16` }));
    const sub = await this.ec2.send(new CreateSubnetCommand({ VpcId: vpc.Vpc!.VpcId!, CidrBlock: this.o.subnet }));
    const ami = (await this.ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId;
    for (const h of this.o.hosts) {
      const r = await this.ec2.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', SubnetId: sub.Subnet!.SubnetId!, PrivateIpAddress: h.address }));
      this.machines.push({ id: r.Instances![0]!.InstanceId!, name: h.name, address: h.address });
    }
    const allocations: AwsWorld['allocations'] = [];
    for (const ip of this.o.elasticIps) {
      const r = await this.ec2.send(new AllocateAddressCommand({ Domain: 'vpc', Address: ip }));
      allocations.push({ ip, allocationId: r.AllocationId! });
    }
    for (const ip of [...this.o.elasticIps, ...this.o.secondaryIps]) this.holders.set(ip, null);
    return { instances: [...this.machines], allocations };
  }

  protected override async refusal(req: IncomingMessage, raw: string): Promise<[string, string] | null> {
    // moto checks no signature; EC2 does. `token` is the accepted access key id (the tests
    // change it to play a revoked key).
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

  protected async api(method: string, url: URL, _body: unknown, asked: Asked): Promise<ApiAnswer> {
    const form = new URLSearchParams(asked.raw);
    const action = form.get('Action') ?? '';
    if (action === 'AssignPrivateIpAddresses' && form.get('AllowReassignment') === 'true') await this.takeFromOthers(form);
    const headers = new Headers();
    for (const [k, v] of Object.entries(asked.headers)) if (typeof v === 'string' && k !== 'content-length') headers.set(k, v);
    const res = await fetch(`${this.o.motoUrl}${url.pathname}${url.search}`, { method, headers, body: method === 'GET' ? undefined : asked.raw });
    const text = await res.text();
    if (MUTATING.has(action) && res.ok) await this.sync();
    return { status: res.status, text, contentType: res.headers.get('content-type') ?? 'text/xml' };
  }

  /** EC2's reassignment: the private addresses leave whichever other interface has them. */
  private async takeFromOthers(form: URLSearchParams): Promise<void> {
    const eni = form.get('NetworkInterfaceId');
    const ips = [...form.entries()].filter(([k]) => /^PrivateIpAddress\.\d+$/.test(k)).map(([, v]) => v);
    if (!eni || ips.length === 0) return;
    // All interfaces, no filter: moto has no addresses.private-ip-address filter, and the world is small.
    const r = await this.ec2.send(new DescribeNetworkInterfacesCommand({}));
    for (const n of r.NetworkInterfaces ?? []) {
      if (n.NetworkInterfaceId === eni) continue;
      const held = (n.PrivateIpAddresses ?? []).map((p) => p.PrivateIpAddress).filter((p): p is string => !!p && ips.includes(p));
      if (held.length) await this.ec2.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: n.NetworkInterfaceId!, PrivateIpAddresses: held }));
    }
  }

  /** Reads who holds each watched address now and reports the changes. */
  async sync(): Promise<void> {
    const addrs = await this.ec2.send(new DescribeAddressesCommand({}));
    for (const ip of this.o.elasticIps) this.note(ip, addrs.Addresses?.find((a) => a.PublicIp === ip)?.InstanceId || null);
    if (this.o.secondaryIps.length === 0) return;
    const nics = await this.ec2.send(new DescribeNetworkInterfacesCommand({}));
    for (const ip of this.o.secondaryIps) {
      const nic = nics.NetworkInterfaces?.find((n) => n.PrivateIpAddresses?.some((p) => p.PrivateIpAddress === ip));
      this.note(ip, nic?.Attachment?.InstanceId || null);
    }
  }

  private note(ip: string, instance: string | null): void {
    if (this.holders.get(ip) === instance) return;
    this.holders.set(ip, instance);
    this.hooks.assigned?.(ip, instance ? this.machineById(instance) : null);
  }
}
