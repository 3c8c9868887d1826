// The emulators answer as the providers' API references say, for the parts they cover: paths,
// status codes, action objects and their progress, error bodies, rate-limit headers, and the
// metadata services (AWS's IMDSv2 session tokens included); moto with the EC2 front is driven by
// the official SDK, which parses its XML. On loopback; moto runs with chroot, so that test needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DigitalOceanEmulator } from '../../src/emulators/digitalocean.js';
import { HetznerEmulator } from '../../src/emulators/hetzner.js';
import { AwsEmulator } from '../../src/emulators/aws.js';
import { findMoto, startMoto } from '../../src/emulators/moto.js';
import {
  AssignPrivateIpAddressesCommand,
  AssociateAddressCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import type { EmulatedCloud } from '../../src/emulators/api-server.js';

const TOKEN = 'emulator-test-token-0001';
const ME = { id: '1001', name: 'primary', address: '127.0.0.1' };

async function serve(emu: EmulatedCloud) {
  const ports = await emu.listen({ host: '127.0.0.1', port: 0 }, { host: '127.0.0.1', port: 0 });
  const api = (path: string, init: RequestInit = {}, token = TOKEN) =>
    fetch(`http://127.0.0.1:${ports.api}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
  const md = (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${ports.metadata}${path}`, init);
  return { api, md };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('DigitalOcean: reserved IP object, assign action in-progress then completed, errors and rate-limit headers', async () => {
  const emu = new DigitalOceanEmulator({ token: TOKEN, droplets: [ME], ips: [{ ip: '203.0.113.10', droplet: null }], actionMs: 100 });
  const { api, md } = await serve(emu);
  try {
    let r = await api('/v2/reserved_ips/203.0.113.10');
    assert.equal(r.status, 200);
    assert.ok(/^\d+$/.test(r.headers.get('ratelimit-limit') ?? '') && /^\d+$/.test(r.headers.get('ratelimit-remaining') ?? '') && /^\d{10}$/.test(r.headers.get('ratelimit-reset') ?? ''));
    assert.deepEqual(((await r.json()) as { reserved_ip: { droplet: unknown; locked: boolean } }).reserved_ip.droplet, null);
    r = await api('/v2/reserved_ips/203.0.113.10/actions', { method: 'POST', body: JSON.stringify({ type: 'assign', droplet_id: 1001 }) });
    assert.equal(r.status, 201);
    const { action } = (await r.json()) as { action: { id: number; status: string; type: string; resource_type: string; completed_at: unknown } };
    assert.deepEqual([action.status, action.type, action.resource_type, action.completed_at], ['in-progress', 'assign_ip', 'reserved_ip', null]);
    r = await api('/v2/reserved_ips/203.0.113.10/actions', { method: 'POST', body: JSON.stringify({ type: 'assign', droplet_id: 1001 }) });
    assert.equal(r.status, 422, 'a second action while one is pending');
    await sleep(200);
    r = await api(`/v2/actions/${action.id}`);
    assert.equal(((await r.json()) as { action: { status: string } }).action.status, 'completed');
    r = await api('/v2/floating_ips/203.0.113.10');
    assert.equal(((await r.json()) as { floating_ip: { droplet: { id: number } } }).floating_ip.droplet.id, 1001);
    r = await api('/v2/reserved_ips/198.51.100.1');
    assert.equal(r.status, 404);
    assert.equal(((await r.json()) as { id: string }).id, 'not_found');
    r = await api('/v2/reserved_ips/203.0.113.10/actions', { method: 'POST', body: JSON.stringify({ type: 'assign', droplet_id: 999 }) });
    assert.equal(r.status, 422);
    r = await api('/v2/reserved_ips/203.0.113.10', {}, 'wrong');
    assert.equal(r.status, 401);
    assert.equal(((await r.json()) as { id: string }).id, 'unauthorized');
    emu.fault({ kind: 'rate-limit', count: 1, resetInS: 5 });
    r = await api('/v2/reserved_ips/203.0.113.10');
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('ratelimit-remaining'), '0');
    assert.ok(Number(r.headers.get('ratelimit-reset')) >= Date.now() / 1000 + 4);
    assert.equal((await (await md('/metadata/v1/id')).text()), '1001');
    emu.fault({ kind: 'slow', ms: 300 });
    const t0 = Date.now();
    assert.equal((await api('/v2/reserved_ips/203.0.113.10')).status, 200);
    assert.ok(Date.now() - t0 >= 290, `a slow API answers after the delay (${Date.now() - t0} ms)`);
    emu.faults.clear();
    emu.fault({ kind: 'status', status: 503, count: 1 });
    assert.equal((await api('/v2/reserved_ips/203.0.113.10')).status, 503);
    assert.equal((await api('/v2/reserved_ips/203.0.113.10')).status, 200, 'the fault had a count of one');
  } finally {
    await emu.close();
  }
});

test('Hetzner: floating IP list with pagination, assign action running then success, 423 while locked, error bodies, RateLimit headers', async () => {
  const emu = new HetznerEmulator({ token: TOKEN, servers: [ME], ips: Array.from({ length: 3 }, (_, i) => ({ ip: `198.51.100.${i + 1}`, id: 10 + i, server: null })), actionMs: 100 });
  const { api, md } = await serve(emu);
  try {
    let r = await api('/v1/floating_ips?page=1&per_page=2');
    assert.equal(r.status, 200);
    assert.ok(r.headers.get('RateLimit-Limit') && r.headers.get('RateLimit-Remaining') && r.headers.get('RateLimit-Reset'));
    const list = (await r.json()) as { floating_ips: { id: number }[]; meta: { pagination: { next_page: number | null; last_page: number; total_entries: number } } };
    assert.deepEqual([list.floating_ips.length, list.meta.pagination.next_page, list.meta.pagination.last_page, list.meta.pagination.total_entries], [2, 2, 2, 3]);
    r = await api('/v1/floating_ips/10/actions/assign', { method: 'POST', body: JSON.stringify({ server: 1001 }) });
    assert.equal(r.status, 201);
    const { action } = (await r.json()) as { action: { id: number; command: string; status: string; progress: number; resources: { type: string }[] } };
    assert.deepEqual([action.command, action.status, action.progress, action.resources.map((x) => x.type)], ['assign_floating_ip', 'running', 0, ['server', 'floating_ip']]);
    r = await api('/v1/floating_ips/10/actions/assign', { method: 'POST', body: JSON.stringify({ server: 1001 }) });
    assert.equal(r.status, 423);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'locked');
    await sleep(200);
    r = await api(`/v1/floating_ips/actions/${action.id}`);
    assert.deepEqual((((await r.json()) as { action: { status: string; progress: number } }).action), { ...(await (await api(`/v1/actions/${action.id}`)).json() as { action: object }).action, status: 'success', progress: 100 });
    r = await api('/v1/floating_ips/10');
    assert.equal(((await r.json()) as { floating_ip: { server: number } }).floating_ip.server, 1001);
    r = await api('/v1/floating_ips/99');
    assert.equal(r.status, 404);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'not_found');
    r = await api('/v1/floating_ips/10', {}, 'wrong');
    assert.equal(r.status, 401);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'unauthorized');
    assert.equal((await (await md('/hetzner/v1/metadata/instance-id')).text()), '1001');
  } finally {
    await emu.close();
  }
});

test('AWS IMDSv2: a session token first (TTL 1..21600), then metadata with it; 401 without', async () => {
  const emu = new AwsEmulator({ motoUrl: 'http://127.0.0.1:9', accessKeyId: 'AKIATEST', secretAccessKey: 'secret', hosts: [], subnet: '10.0.0.0/24', elasticIps: [], secondaryIps: [] });
  emu.machines.push({ id: 'i-0123456789abcdef0', name: 'primary', address: '127.0.0.1' });
  const { md } = await serve(emu);
  try {
    assert.equal((await md('/latest/meta-data/instance-id')).status, 401);
    assert.equal((await md('/latest/api/token', { method: 'PUT' })).status, 400);
    assert.equal((await md('/latest/api/token', { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '21601' } })).status, 400);
    const token = await (await md('/latest/api/token', { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' } })).text();
    const r = await md('/latest/meta-data/instance-id', { headers: { 'x-aws-ec2-metadata-token': token } });
    assert.deepEqual([r.status, await r.text()], [200, 'i-0123456789abcdef0']);
    assert.equal((await md('/latest/meta-data/instance-id', { headers: { 'x-aws-ec2-metadata-token': 'forged' } })).status, 401);
  } finally {
    await emu.close();
  }
});

const moto = await findMoto();
const motoSkip = moto ? false : 'moto is not installed (bash scripts/install-deps.sh makes its Debian 13 root)';
if (!moto) {
  if (process.env.CI === 'true') throw new Error('CI=true but moto is not installed: run bash scripts/install-deps.sh');
  console.log(`# skipped: ${motoSkip}`);
}

test('AWS EC2 (moto and the front) through the official SDK: association and reassignment as EC2 does them; signatures checked; errors as EC2 XML', { skip: motoSkip }, async () => {
  const KEY = 'AKIAEMULATORTEST0001';
  const SECRET = 'emulator/test/secret/key/0000000000000000';
  const port = 20000 + Math.floor(Math.random() * 20000);
  const m = await startMoto(moto ?? [], port);
  const moved: string[] = [];
  const emu = new AwsEmulator(
    { motoUrl: m.url, accessKeyId: KEY, secretAccessKey: SECRET, hosts: [{ name: 'primary', address: '10.9.0.11' }, { name: 'secondary', address: '10.9.0.12' }], subnet: '10.9.0.0/24', elasticIps: ['203.0.113.10'], secondaryIps: ['10.9.0.50'] },
    { assigned: (ip, to) => moved.push(`${ip}->${to?.name ?? 'none'}`) },
  );
  try {
    const { instances, allocations } = await emu.setup();
    const [one, two] = instances;
    const alloc = allocations[0]!.allocationId;
    const ports = await emu.listen({ host: '127.0.0.1', port: 0 }, { host: '127.0.0.1', port: 0 });
    const endpoint = `http://127.0.0.1:${ports.api}`;
    const ec2 = (secret = SECRET, key = KEY) => new EC2Client({ region: 'us-east-1', endpoint, maxAttempts: 1, credentials: { accessKeyId: key, secretAccessKey: secret } });
    const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { name: string; $metadata?: { httpStatusCode?: number } }) => `${e.name} ${e.$metadata?.httpStatusCode}`);
    const c = ec2();
    let a = (await c.send(new DescribeAddressesCommand({ PublicIps: ['203.0.113.10'] }))).Addresses?.[0];
    assert.deepEqual([a?.AllocationId, a?.InstanceId || null], [alloc, null], 'unassociated (moto sends an empty instanceId)');
    await c.send(new AssociateAddressCommand({ AllocationId: alloc, InstanceId: one!.id }));
    const r = await c.send(new AssociateAddressCommand({ PublicIp: '203.0.113.10', InstanceId: two!.id, AllowReassociation: true }));
    assert.match(r.AssociationId ?? '', /^eipassoc-/);
    a = (await c.send(new DescribeAddressesCommand({ AllocationIds: [alloc] }))).Addresses?.[0];
    assert.deepEqual([a?.InstanceId, a?.PrivateIpAddress], [two!.id, '10.9.0.12']);
    const inst = (await c.send(new DescribeInstancesCommand({ InstanceIds: [one!.id] }))).Reservations?.[0]?.Instances?.[0];
    const eni1 = inst?.NetworkInterfaces?.find((n) => n.Attachment?.DeviceIndex === 0);
    assert.deepEqual([inst?.PrivateIpAddress, typeof eni1?.NetworkInterfaceId, typeof eni1?.SubnetId], ['10.9.0.11', 'string', 'string']);
    const eni2 = (await c.send(new DescribeInstancesCommand({ InstanceIds: [two!.id] }))).Reservations?.[0]?.Instances?.[0]?.NetworkInterfaces?.[0];
    await c.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni1!.NetworkInterfaceId!, PrivateIpAddresses: ['10.9.0.50'] }));
    await c.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni2!.NetworkInterfaceId!, PrivateIpAddresses: ['10.9.0.50'], AllowReassignment: true }));
    const nics = (await c.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: [eni1!.SubnetId!] }] }))).NetworkInterfaces ?? [];
    const holders = nics.filter((n) => n.PrivateIpAddresses?.some((p) => p.PrivateIpAddress === '10.9.0.50'));
    assert.deepEqual(holders.map((n) => n.Attachment?.InstanceId), [two!.id], 'reassignment takes the address off the interface that had it');
    assert.deepEqual(moved, ['203.0.113.10->primary', '203.0.113.10->secondary', '10.9.0.50->primary', '10.9.0.50->secondary']);
    assert.equal(await code(c.send(new DescribeInstancesCommand({ InstanceIds: ['i-00000000deadbeef'] }))), 'InvalidInstanceID.NotFound 400');
    assert.equal(await code(ec2('not-the-secret').send(new DescribeAddressesCommand({}))), 'SignatureDoesNotMatch 401', 'a wrong secret with the right key id');
    assert.equal(await code(ec2(SECRET, 'AKIAOTHERKEY00000001').send(new DescribeAddressesCommand({}))), 'AuthFailure 401');
    const unsigned = await fetch(endpoint, { method: 'POST', body: 'Action=DescribeAddresses&Version=2016-11-15', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(unsigned.status, 401);
    assert.match(await unsigned.text(), /<Response><Errors><Error><Code>AuthFailure<\/Code>/);
    emu.fault({ kind: 'rate-limit', count: 1, resetInS: 1 });
    assert.equal(await code(c.send(new DescribeAddressesCommand({}))), 'RequestLimitExceeded 503', 'EC2 answers RequestLimitExceeded with 503');
  } finally {
    await emu.close();
    m.stop();
  }
});
