// The emulators answer as the providers' API references say, for the parts they cover: paths,
// status codes, action objects and their progress, error bodies, rate-limit headers, and the
// metadata services (AWS's IMDSv2 session tokens included). On loopback, no root needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DigitalOceanEmulator } from '../../src/emulators/digitalocean.js';
import { HetznerEmulator } from '../../src/emulators/hetzner.js';
import { AwsEmulator } from '../../src/emulators/aws.js';
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

test('AWS IMDSv2: a session token first (TTL 1..21600), then metadata with it; 401 without; EC2 errors as XML', async () => {
  const emu = new AwsEmulator({ motoUrl: 'http://127.0.0.1:9', accessKeyId: 'AKIATEST', hosts: [], subnet: '10.0.0.0/24', elasticIps: [], secondaryIps: [] });
  emu.machines.push({ id: 'i-0123456789abcdef0', name: 'primary', address: '127.0.0.1' });
  const { api, md } = await serve(emu);
  try {
    assert.equal((await md('/latest/meta-data/instance-id')).status, 401);
    assert.equal((await md('/latest/api/token', { method: 'PUT' })).status, 400);
    assert.equal((await md('/latest/api/token', { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '21601' } })).status, 400);
    const token = await (await md('/latest/api/token', { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' } })).text();
    const r = await md('/latest/meta-data/instance-id', { headers: { 'x-aws-ec2-metadata-token': token } });
    assert.deepEqual([r.status, await r.text()], [200, 'i-0123456789abcdef0']);
    assert.equal((await md('/latest/meta-data/instance-id', { headers: { 'x-aws-ec2-metadata-token': 'forged' } })).status, 401);
    const denied = await api('/', { method: 'POST', body: 'Action=DescribeAddresses', headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIAOTHER/20260101/us-east-1/ec2/aws4_request' } });
    assert.equal(denied.status, 401);
    assert.match(await denied.text(), /<Response><Errors><Error><Code>AuthFailure<\/Code>/);
    emu.fault({ kind: 'rate-limit', count: 1, resetInS: 1 });
    const limited = await api('/', { method: 'POST', body: 'Action=DescribeAddresses', headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIATEST/20260101/us-east-1/ec2/aws4_request' } });
    assert.equal(limited.status, 503, 'EC2 answers RequestLimitExceeded with 503');
    assert.match(await limited.text(), /<Code>RequestLimitExceeded<\/Code>/);
  } finally {
    await emu.close();
  }
});
