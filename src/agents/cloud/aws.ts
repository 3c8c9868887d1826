// AWS EC2, through the official SDK (@aws-sdk/client-ec2; requests are signed by it, never by
// hand). The instance id (and, without region=, the region) comes from the instance metadata
// service with IMDSv2: PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds, then GET
// /latest/meta-data/... with X-aws-ec2-metadata-token.
//   AWSElasticIP    DescribeAddresses says which instance holds it; AssociateAddress with
//                   AllowReassociation takes it from there (done when the call returns).
//   AWSSecondaryIP  this instance's interface for the address (DescribeInstances: the one on
//                   the address's subnet, else device 0); DescribeNetworkInterfaces of that
//                   subnet says which instance's interface holds the address (a subnet-id filter,
//                   which every EC2 implementation has, rather than addresses.private-ip-address,
//                   which moto lacks); AssignPrivateIpAddresses with AllowReassignment moves it
//                   here. The address on the host itself is host-address.ts's.
// Credentials: credentials=FILE (checked like authkeys), else the SDK's own chain (environment,
// ~/.aws, the instance role). The SDK retries nothing itself: CloudHttp's one policy does.
import {
  AssignPrivateIpAddressesCommand,
  AssociateAddressCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { CloudError, type CloudFailure } from './http.js';
import type { CloudIpProvider, ProviderContext } from './provider.js';

const IMDS_TTL_S = '21600';

type SdkError = Error & { name: string; $metadata?: { httpStatusCode?: number }; $fault?: string; code?: string; cause?: { code?: string } };

/** The SDK's error in our words: what kind of failure, and one line. */
function classify(op: string, err: unknown, timedOut: boolean, budgetMs: number): CloudError {
  const e = err as SdkError;
  if (timedOut || e.name === 'AbortError') return new CloudError('timeout', `AWS EC2 API: ${op}: no answer within ${budgetMs} ms`);
  const status = e.$metadata?.httpStatusCode ?? null;
  const code = e.name;
  const head = `AWS EC2 API: ${op}: ${status ?? ''} ${code}: ${(e.message || '').replace(/\s+/g, ' ').slice(0, 200)}`.replace(': :', ':');
  let reason: CloudFailure;
  let fix = '';
  if (/^(AuthFailure|InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClientException|IncompleteSignature)/.test(code) || status === 401) {
    reason = 'unauthorized';
    fix = ' — the credentials were refused: check the credentials file (or the instance role)';
  } else if (/^(UnauthorizedOperation|AccessDenied)/.test(code) || status === 403) {
    reason = 'forbidden';
    fix = ' — the credentials may not do this: allow ec2:AssociateAddress, ec2:AssignPrivateIpAddresses and ec2:Describe*';
  } else if (/NotFound|Malformed/.test(code) || status === 404) {
    reason = 'not_found';
    fix = ' — check the address or allocation id in haresources and the region';
  } else if (/^(RequestLimitExceeded|Throttling|ThrottlingException)/.test(code) || status === 429) reason = 'rate_limited';
  else if ((status !== null && status >= 500) || e.$fault === 'server' || /^(InternalError|Unavailable|ServiceUnavailable)/.test(code)) reason = 'server_error';
  else if (status === null) {
    reason = 'network';
    return new CloudError(reason, `AWS EC2 API: ${op}: ${e.cause?.code ?? e.code ?? e.message}`);
  } else {
    reason = 'invalid';
    fix = ' — AWS refused the request';
  }
  return new CloudError(reason, `${head}${fix}`, status);
}

export class Aws implements CloudIpProvider {
  readonly machineWord = 'instance';
  private client: EC2Client | null = null;
  private imdsToken: string | null = null;
  private me: string | null = null;
  private nic: { eni: string; subnet: string } | null = null;

  constructor(private readonly c: ProviderContext) {}

  private async metadata(path: string): Promise<string> {
    const http = this.c.http;
    this.imdsToken ??= (
      await http.text({ operation: 'imds_token', method: 'PUT', url: `${this.c.spec.metadata}/latest/api/token`, headers: { 'x-aws-ec2-metadata-token-ttl-seconds': IMDS_TTL_S }, auth: false })
    ).trim();
    return (await http.text({ operation: `imds_${path.split('/').pop()}`, method: 'GET', url: `${this.c.spec.metadata}/latest/meta-data/${path}`, headers: { 'x-aws-ec2-metadata-token': this.imdsToken }, auth: false })).trim();
  }

  async whoAmI(): Promise<string> {
    const id = await this.metadata('instance-id');
    if (!/^i-[0-9a-f]{8,17}$/.test(id)) throw new CloudError('bad_answer', `AWS instance metadata: instance-id answered "${id.slice(0, 40)}", not an instance id`);
    this.me = id;
    return id;
  }

  private async ec2(): Promise<EC2Client> {
    if (this.client) return this.client;
    const region = this.c.spec.region ?? (await this.metadata('placement/region'));
    const s = this.c.secret;
    this.client = new EC2Client({
      region,
      maxAttempts: 1,
      ...(this.c.spec.api ? { endpoint: this.c.spec.api } : {}),
      ...(s?.kind === 'aws' ? { credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey, ...(s.sessionToken ? { sessionToken: s.sessionToken } : {}) } } : {}),
    });
    return this.client;
  }

  private send<T>(op: string, run: (ec2: EC2Client, signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.ec2().then((ec2) => this.c.http.sdk(op, (signal) => run(ec2, signal), (err, timedOut, budget) => classify(op, err, timedOut, budget)));
  }

  private get elastic(): { AllocationIds: string[] } | { PublicIps: string[] } {
    const t = this.c.spec.target;
    return t.startsWith('eipalloc-') ? { AllocationIds: [t] } : { PublicIps: [t] };
  }

  async holder(): Promise<string | null> {
    const ip = this.c.spec.target;
    if (this.c.spec.kind === 'AWSElasticIP') {
      const r = await this.send('DescribeAddresses', (ec2, abortSignal) => ec2.send(new DescribeAddressesCommand(this.elastic), { abortSignal }));
      const a = r.Addresses?.[0];
      if (!a) throw new CloudError('not_found', `AWS EC2 API: DescribeAddresses: no Elastic IP ${ip} in this region and account`);
      return a.InstanceId || null; // EC2 leaves it out when unassociated; some implementations send it empty
    }
    const { subnet } = await this.interfaceOf(this.me ?? (await this.whoAmI()));
    const r = await this.send('DescribeNetworkInterfaces', (ec2, abortSignal) =>
      ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: [subnet] }] }), { abortSignal }),
    );
    const holder = r.NetworkInterfaces?.find((n) => n.PrivateIpAddresses?.some((p) => p.PrivateIpAddress === ip));
    return holder?.Attachment?.InstanceId || null;
  }

  async assign(instance: string): Promise<void> {
    if (this.c.spec.kind === 'AWSElasticIP') {
      const t = this.c.spec.target;
      await this.send('AssociateAddress', (ec2, abortSignal) =>
        ec2.send(new AssociateAddressCommand({ ...(t.startsWith('eipalloc-') ? { AllocationId: t } : { PublicIp: t }), InstanceId: instance, AllowReassociation: true }), { abortSignal }),
      );
      return;
    }
    const { eni } = await this.interfaceOf(instance);
    await this.send('AssignPrivateIpAddresses', (ec2, abortSignal) =>
      ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni, PrivateIpAddresses: [this.c.spec.target], AllowReassignment: true }), { abortSignal }),
    );
  }

  /** This instance's network interface for the address (the one on its subnet, else device 0) and its subnet. */
  private async interfaceOf(instance: string): Promise<{ eni: string; subnet: string }> {
    if (this.nic) return this.nic;
    const r = await this.send('DescribeInstances', (ec2, abortSignal) => ec2.send(new DescribeInstancesCommand({ InstanceIds: [instance] }), { abortSignal }));
    const nics = r.Reservations?.flatMap((x) => x.Instances ?? []).flatMap((i) => i.NetworkInterfaces ?? []) ?? [];
    const prefix = this.c.spec.local?.prefix ?? null;
    const onSubnet = prefix === null ? undefined : nics.find((n) => n.PrivateIpAddress && sameNet(n.PrivateIpAddress, this.c.spec.target, prefix));
    const nic = onSubnet ?? nics.find((n) => n.Attachment?.DeviceIndex === 0);
    if (!nic?.NetworkInterfaceId || !nic.SubnetId) throw new CloudError('not_found', `AWS EC2 API: DescribeInstances: instance ${instance} has no network interface`);
    this.nic = { eni: nic.NetworkInterfaceId, subnet: nic.SubnetId };
    return this.nic;
  }
}

function sameNet(a: string, b: string, prefix: number): boolean {
  const n = (ip: string) => ip.split('.').reduce((x, o) => x * 256 + Number(o), 0);
  const size = 2 ** (32 - prefix);
  return Math.floor(n(a) / size) === Math.floor(n(b) / size);
}
