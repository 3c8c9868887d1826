// The part of Amazon EC2 that the AWS cloud IP agents use, as EC2's API reference (version
// 2016-11-15, the Query API) describes it: one VPC subnet, instances with one network interface
// each, Elastic IPs, secondary private addresses. It takes a request's form parameters and gives
// the answer EC2 gives: the XML document of the action, or EC2's error (code, HTTP status).
//
//   DescribeInstances           InstanceId.N
//   DescribeNetworkInterfaces   NetworkInterfaceId.N, Filter.N (subnet-id, attachment.instance-id,
//                               network-interface-id, addresses.private-ip-address)
//   DescribeAddresses           PublicIp.N, AllocationId.N
//   AssociateAddress            AllocationId | PublicIp, InstanceId | NetworkInterfaceId,
//                               PrivateIpAddress, AllowReassociation (without it, an address
//                               associated elsewhere is Resource.AlreadyAssociated)
//   DisassociateAddress         AssociationId | PublicIp
//   AssignPrivateIpAddresses    NetworkInterfaceId, PrivateIpAddress.N, AllowReassignment (with
//                               it the address leaves the interface that had it; without it,
//                               PrivateIpAddressInUse)
//   UnassignPrivateIpAddresses  NetworkInterfaceId, PrivateIpAddress.N
// Anything else is InvalidAction. Written for the tests and the demo because no EC2 emulator is
// packaged by Debian or npm; the official SDK parses every answer, so a wrong element name fails
// the tests that use it.
import { randomBytes, randomUUID } from 'node:crypto';

const XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const OWNER = '123456789012';
const ZONE = 'us-east-1a';

export interface Ec2Instance {
  id: string;
  name: string;
  address: string;
  eni: string;
  attachment: string;
}

interface Eni {
  id: string;
  instance: string;
  attachment: string;
  primaryIp: string;
  secondary: string[];
  mac: string;
}

interface ElasticIp {
  publicIp: string;
  allocationId: string;
  association: { id: string; eni: string; instance: string; privateIp: string } | null;
}

export class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

type Xml = string | number | boolean | null | undefined | Xml[] | { [tag: string]: Xml };

/** EC2's XML: objects become elements, arrays become <item> lists, null/undefined are left out. */
function xml(value: Xml): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => `<item>${xml(v)}</item>`).join('');
  if (typeof value === 'object') return Object.entries(value).map(([tag, v]) => (v === null || v === undefined ? '' : `<${tag}>${xml(v)}</${tag}>`)).join('');
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
/** Query API lists: Name.1, Name.2, ... */
const listed = (form: URLSearchParams, name: string): string[] =>
  [...form.entries()].filter(([k]) => new RegExp(`^${name.replace('.', '\\.')}\\.\\d+$`).test(k)).map(([, v]) => v);

export class Ec2World {
  readonly instances: Ec2Instance[] = [];
  private readonly enis = new Map<string, Eni>();
  private readonly eips: ElasticIp[] = [];
  readonly vpc = `vpc-${hex(8)}`;
  readonly subnetId = `subnet-${hex(8)}`;

  constructor(readonly subnet: string) {}

  addInstance(name: string, address: string): Ec2Instance {
    const i: Ec2Instance = { id: `i-${hex(8)}`, name, address, eni: `eni-${hex(8)}`, attachment: `eni-attach-${hex(8)}` };
    this.instances.push(i);
    const mac = ['02', ...hex(5).match(/../g)!].join(':');
    this.enis.set(i.eni, { id: i.eni, instance: i.id, attachment: i.attachment, primaryIp: address, secondary: [], mac });
    return i;
  }

  allocate(publicIp: string): string {
    const allocationId = `eipalloc-${hex(8)}`;
    this.eips.push({ publicIp, allocationId, association: null });
    return allocationId;
  }

  /** The instance an Elastic IP or a secondary private address is on now (null: none). */
  holderOf(ip: string): string | null {
    const eip = this.eips.find((e) => e.publicIp === ip);
    if (eip) return eip.association?.instance ?? null;
    return [...this.enis.values()].find((n) => n.secondary.includes(ip))?.instance ?? null;
  }

  /** Answers one Query API request: the response document, or throws Ec2Error. */
  handle(form: URLSearchParams): string {
    const action = form.get('Action') ?? '';
    const body = this.run(action, form);
    return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${XMLNS}"><requestId>${randomUUID()}</requestId>${xml(body)}</${action}Response>`;
  }

  private run(action: string, form: URLSearchParams): { [tag: string]: Xml } {
    switch (action) {
      case 'DescribeInstances':
        return this.describeInstances(form);
      case 'DescribeNetworkInterfaces':
        return this.describeNetworkInterfaces(form);
      case 'DescribeAddresses':
        return this.describeAddresses(form);
      case 'AssociateAddress':
        return this.associateAddress(form);
      case 'DisassociateAddress':
        return this.disassociateAddress(form);
      case 'AssignPrivateIpAddresses':
        return this.assignPrivateIps(form);
      case 'UnassignPrivateIpAddresses':
        return this.unassignPrivateIps(form);
      default:
        throw new Ec2Error('InvalidAction', `The action ${action || '(none)'} is not valid for this web service.`);
    }
  }

  private instance(id: string): Ec2Instance {
    const i = this.instances.find((x) => x.id === id);
    if (!i) throw new Ec2Error('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    return i;
  }

  private eni(id: string): Eni {
    const n = this.enis.get(id);
    if (!n) throw new Ec2Error('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${id}' does not exist`);
    return n;
  }

  private required(form: URLSearchParams, name: string): string {
    const v = form.get(name);
    if (!v) throw new Ec2Error('MissingParameter', `The request must contain the parameter ${name}`);
    return v;
  }

  private eniXml(n: Eni, withAttachment = true): { [tag: string]: Xml } {
    return {
      networkInterfaceId: n.id,
      subnetId: this.subnetId,
      vpcId: this.vpc,
      availabilityZone: ZONE,
      ownerId: OWNER,
      requesterManaged: false,
      status: 'in-use',
      macAddress: n.mac,
      privateIpAddress: n.primaryIp,
      sourceDestCheck: true,
      interfaceType: 'interface',
      attachment: withAttachment ? { attachmentId: n.attachment, instanceId: n.instance, instanceOwnerId: OWNER, deviceIndex: 0, status: 'attached', deleteOnTermination: true } : undefined,
      privateIpAddressesSet: [{ privateIpAddress: n.primaryIp, primary: true }, ...n.secondary.map((ip) => ({ privateIpAddress: ip, primary: false }))],
    };
  }

  private describeInstances(form: URLSearchParams): { [tag: string]: Xml } {
    const ids = listed(form, 'InstanceId');
    const chosen = ids.length ? ids.map((id) => this.instance(id)) : this.instances;
    return {
      reservationSet: chosen.map((i) => {
        const n = this.eni(i.eni);
        return {
          reservationId: `r-${i.id.slice(2)}`,
          ownerId: OWNER,
          instancesSet: [
            {
              instanceId: i.id,
              imageId: 'ami-12c6146b',
              instanceState: { code: 16, name: 'running' },
              privateIpAddress: i.address,
              instanceType: 't3.micro',
              placement: { availabilityZone: ZONE },
              subnetId: this.subnetId,
              vpcId: this.vpc,
              networkInterfaceSet: [{ ...this.eniXml(n, false), attachment: { attachmentId: n.attachment, deviceIndex: 0, status: 'attached', deleteOnTermination: true } }],
              tagSet: [{ key: 'Name', value: i.name }],
            },
          ],
        };
      }),
    };
  }

  private describeNetworkInterfaces(form: URLSearchParams): { [tag: string]: Xml } {
    let chosen = listed(form, 'NetworkInterfaceId').map((id) => this.eni(id));
    if (chosen.length === 0) chosen = [...this.enis.values()];
    for (let k = 1; form.has(`Filter.${k}.Name`); k++) {
      const name = form.get(`Filter.${k}.Name`)!;
      const values = listed(form, `Filter.${k}.Value`);
      const field: Record<string, (n: Eni) => string[]> = {
        'subnet-id': () => [this.subnetId],
        'attachment.instance-id': (n) => [n.instance],
        'network-interface-id': (n) => [n.id],
        'addresses.private-ip-address': (n) => [n.primaryIp, ...n.secondary],
      };
      const of = field[name];
      if (!of) throw new Ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
      chosen = chosen.filter((n) => of(n).some((v) => values.includes(v)));
    }
    return { networkInterfaceSet: chosen.map((n) => this.eniXml(n)) };
  }

  private eip(form: URLSearchParams): ElasticIp {
    const alloc = form.get('AllocationId');
    const ip = form.get('PublicIp');
    const e = this.eips.find((x) => (alloc ? x.allocationId === alloc : x.publicIp === ip));
    if (e) return e;
    if (alloc) throw new Ec2Error('InvalidAllocationID.NotFound', `The allocation ID '${alloc}' does not exist`);
    if (ip) throw new Ec2Error('InvalidAddress.NotFound', `Address '${ip}' not found.`);
    throw new Ec2Error('MissingParameter', 'Either AllocationId or PublicIp must be specified');
  }

  private describeAddresses(form: URLSearchParams): { [tag: string]: Xml } {
    const ips = listed(form, 'PublicIp');
    const allocs = listed(form, 'AllocationId');
    for (const ip of ips) if (!this.eips.some((e) => e.publicIp === ip)) throw new Ec2Error('InvalidAddress.NotFound', `Address '${ip}' not found.`);
    for (const a of allocs) if (!this.eips.some((e) => e.allocationId === a)) throw new Ec2Error('InvalidAllocationID.NotFound', `The allocation ID '${a}' does not exist`);
    const chosen = this.eips.filter((e) => (ips.length === 0 && allocs.length === 0) || ips.includes(e.publicIp) || allocs.includes(e.allocationId));
    return {
      addressesSet: chosen.map((e) => ({
        publicIp: e.publicIp,
        allocationId: e.allocationId,
        domain: 'vpc',
        associationId: e.association?.id,
        instanceId: e.association?.instance,
        networkInterfaceId: e.association?.eni,
        networkInterfaceOwnerId: e.association ? OWNER : undefined,
        privateIpAddress: e.association?.privateIp,
        publicIpv4Pool: 'amazon',
        networkBorderGroup: 'us-east-1',
      })),
    };
  }

  private associateAddress(form: URLSearchParams): { [tag: string]: Xml } {
    const e = this.eip(form);
    const eniId = form.get('NetworkInterfaceId');
    const n = eniId ? this.eni(eniId) : this.eni(this.instance(this.required(form, 'InstanceId')).eni);
    const privateIp = form.get('PrivateIpAddress') ?? n.primaryIp;
    if (privateIp !== n.primaryIp && !n.secondary.includes(privateIp)) throw new Ec2Error('InvalidParameterValue', `The private IP address ${privateIp} is not on ${n.id}`);
    const elsewhere = e.association && (e.association.eni !== n.id || e.association.privateIp !== privateIp);
    if (elsewhere && form.get('AllowReassociation') !== 'true') throw new Ec2Error('Resource.AlreadyAssociated', `resource ${e.allocationId} is already associated with associate-id ${e.association!.id}`);
    if (!e.association || elsewhere) e.association = { id: `eipassoc-${hex(8)}`, eni: n.id, instance: n.instance, privateIp };
    return { return: true, associationId: e.association.id };
  }

  private disassociateAddress(form: URLSearchParams): { [tag: string]: Xml } {
    const id = form.get('AssociationId');
    const e = id ? this.eips.find((x) => x.association?.id === id) : this.eip(form);
    if (!e) throw new Ec2Error('InvalidAssociationID.NotFound', `The association ID '${id}' does not exist`);
    e.association = null;
    return { return: true };
  }

  private assignPrivateIps(form: URLSearchParams): { [tag: string]: Xml } {
    const n = this.eni(this.required(form, 'NetworkInterfaceId'));
    const ips = listed(form, 'PrivateIpAddress');
    if (ips.length === 0) throw new Ec2Error('MissingParameter', 'The request must contain the parameter PrivateIpAddress or SecondaryPrivateIpAddressCount');
    for (const ip of ips) {
      if (!inSubnet(ip, this.subnet)) throw new Ec2Error('InvalidParameterValue', `Address ${ip} does not fall within the subnet's address range`);
      const holder = [...this.enis.values()].find((o) => o.id !== n.id && (o.primaryIp === ip || o.secondary.includes(ip)));
      if (!holder) continue;
      if (holder.primaryIp === ip || form.get('AllowReassignment') !== 'true') throw new Ec2Error('PrivateIpAddressInUse', `The specified address ${ip} is already in use`);
      holder.secondary = holder.secondary.filter((x) => x !== ip);
    }
    for (const ip of ips) if (ip !== n.primaryIp && !n.secondary.includes(ip)) n.secondary.push(ip);
    return { return: true, networkInterfaceId: n.id, assignedPrivateIpAddressesSet: ips.map((ip) => ({ privateIpAddress: ip })) };
  }

  private unassignPrivateIps(form: URLSearchParams): { [tag: string]: Xml } {
    const n = this.eni(this.required(form, 'NetworkInterfaceId'));
    const ips = listed(form, 'PrivateIpAddress');
    for (const ip of ips) if (!n.secondary.includes(ip)) throw new Ec2Error('InvalidParameterValue', `Some of the specified addresses are not assigned to interface ${n.id}`);
    n.secondary = n.secondary.filter((x) => !ips.includes(x));
    return { return: true };
  }
}

function inSubnet(ip: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/');
  const n = (a: string): number => a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n(ip) / size) === Math.floor(n(base) / size);
}
