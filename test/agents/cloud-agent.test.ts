// The cloud IP agents against the emulators, in this process on loopback (no root needed):
// start, status and stop as hbd runs them, the API's faults, and the secret kept out of every
// line the agent writes. The namespace tests (test/failover/cloud-*.test.ts) run the same
// agents inside real hbd daemons.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudIpAgent, type AgentContext, type ApiCallRecord } from '../../src/agents/index.js';
import { parseCloudIp, type CloudIpKind } from '../../src/config/cloud.js';
import type { ResourceSpec } from '../../src/config/types.js';
import { DigitalOceanEmulator } from '../../src/emulators/digitalocean.js';
import { HetznerEmulator } from '../../src/emulators/hetzner.js';
import type { EmulatedCloud } from '../../src/emulators/api-server.js';

const TOKEN = 'dop_v1_f00dfeedc0ffee0123456789abcdef';
const FIP = '203.0.113.10';
// Metadata requests come from 127.0.0.1 here: that address is "this" droplet or server.
const ME = { id: '1001', name: 'primary', address: '127.0.0.1' };
const PEER = { id: '1002', name: 'secondary', address: '127.0.0.2' };

interface World {
  emu: EmulatedCloud;
  spec(extra?: string[]): ResourceSpec;
  run(action: 'start' | 'stop' | 'status', extra?: string[], timeoutMs?: number): Promise<{ ok: boolean; running?: boolean; output: string; logs: string[]; calls: ApiCallRecord[]; ms: number }>;
  close(): Promise<void>;
}

async function world(kind: CloudIpKind, emu: EmulatedCloud, target: string): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'hbts-cloud-'));
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
  const ports = await emu.listen({ host: '127.0.0.1', port: 0 }, { host: '127.0.0.1', port: 0 });
  const agent = new CloudIpAgent();
  const spec = (extra: string[] = []): ResourceSpec => {
    const args = [target, 'token=token', `api=http://127.0.0.1:${ports.api}`, `metadata=http://127.0.0.1:${ports.metadata}`, 'timeout=1s', ...extra];
    const c = parseCloudIp(kind, args, dir);
    if (!c.ok) throw new Error(c.error);
    return { raw: `${kind}::${args.join('::')}`, name: kind, args, agent: { kind: 'cloud', cloud: c.spec } };
  };
  return {
    emu,
    spec,
    async run(action, extra = [], timeoutMs = 20_000) {
      const logs: string[] = [];
      const calls: ApiCallRecord[] = [];
      const ctx: AgentContext = { timeoutMs, nodeName: 'primary', log: (level, m) => void logs.push(`${level}: ${m}`), apiCall: (r) => void calls.push(r) };
      const s = spec(extra);
      const t0 = Date.now();
      const r = await agent.run({ ...s, agent: s.agent as { kind: 'cloud'; cloud: never } }, action, ctx);
      return { ok: r.ok, running: r.running, output: r.output, logs, calls, ms: Date.now() - t0 };
    },
    async close() {
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const doWorld = (o: { legacyOnly?: boolean; holder?: string | null } = {}) =>
  world('DigitalOceanIP', new DigitalOceanEmulator({ token: TOKEN, droplets: [ME, PEER], ips: [{ ip: FIP, droplet: o.holder === undefined ? PEER.id : o.holder }], actionMs: 100, ...(o.legacyOnly ? { legacyOnly: true } : {}) }), FIP);

test('DigitalOceanIP: status says not running while the IP points at the peer; start assigns it here and waits for the action; status then says running', async () => {
  const w = await doWorld();
  try {
    const before = await w.run('status');
    assert.deepEqual([before.ok, before.running], [true, false]);
    const start = await w.run('start');
    assert.ok(start.ok, start.logs.join('\n'));
    assert.equal((w.emu as DigitalOceanEmulator).holder(FIP), ME.id);
    assert.match(start.output, /assigning 203\.0\.113\.10 to this droplet \(1001\); it points at droplet 1002 now/);
    assert.match(start.output, /203\.0\.113\.10 now points at this droplet \(1001\), after \d+ ms/);
    assert.ok(start.calls.some((c) => c.operation === 'get_action' && c.result === 'ok'), 'the action was polled');
    const after = await w.run('status');
    assert.deepEqual([after.ok, after.running], [true, true]);
    const again = await w.run('start');
    assert.match(again.output, /already points at this droplet/);
    const stop = await w.run('stop');
    assert.ok(stop.ok);
    assert.equal((w.emu as DigitalOceanEmulator).holder(FIP), ME.id, 'stop leaves the assignment to the next holder');
  } finally {
    await w.close();
  }
});

test('DigitalOceanIP: an account that answers only the older /v2/floating_ips endpoints is served through them', async () => {
  const w = await doWorld({ legacyOnly: true, holder: null });
  try {
    const start = await w.run('start');
    assert.ok(start.ok, start.logs.join('\n'));
    assert.equal((w.emu as DigitalOceanEmulator).holder(FIP), ME.id);
    assert.ok(start.calls.some((c) => c.operation === 'get_floating_ip'));
  } finally {
    await w.close();
  }
});

test('DigitalOceanIP faults: 500 twice then success; a 429 waits for its reset; a bad token fails at once with a clear line and no secret', async () => {
  const w = await doWorld();
  try {
    w.emu.fault({ kind: 'status', status: 500, count: 2 });
    const r1 = await w.run('start');
    assert.ok(r1.ok, r1.logs.join('\n'));
    assert.equal(r1.logs.filter((l) => /500 Internal Server Error \(server_error: .*\); retry \d of 4/.test(l)).length, 2);
    assert.equal(r1.calls.filter((c) => c.result === 'server_error').length, 2);

    (w.emu as DigitalOceanEmulator).token = 'another-token-entirely';
    const r2 = await w.run('status');
    assert.deepEqual([r2.ok, r2.running], [false, false]);
    const bad = r2.logs.find((l) => /401 Unauthorized/.test(l));
    assert.match(bad ?? '', /error: DigitalOceanIP: status failed: DigitalOcean API: GET \/v2\/reserved_ips\/203\.0\.113\.10: 401 Unauthorized \(unauthorized: Unable to authenticate you\) — the token in .*token was refused/);
    assert.ok(![...r2.logs, r2.output].join('\n').includes(TOKEN));
    (w.emu as DigitalOceanEmulator).token = TOKEN;

    w.emu.fault({ kind: 'rate-limit', count: 1, resetInS: 2 });
    const r3 = await w.run('status');
    assert.ok(r3.ok, r3.logs.join('\n'));
    assert.match(r3.logs.join('\n'), /429 Too Many Requests \(too_many_requests: API Rate limit exceeded\.\); retry 1 of 4 in \d+ ms \(rate limit: RateLimit-Reset: \d+\)/);
    assert.ok(r3.ms >= 1000, `waited ${r3.ms} ms for a reset about 2 s ahead`);
  } finally {
    await w.close();
  }
});

test('DigitalOceanIP: a hung API fails the start within the agent timeout', async () => {
  const w = await doWorld();
  try {
    w.emu.fault({ kind: 'hang' });
    const r = await w.run('start', [], 3000);
    assert.equal(r.ok, false);
    assert.ok(r.ms < 3200, `took ${r.ms} ms`);
    assert.match(r.output, /start failed: .*no answer within \d+ ms/);
  } finally {
    await w.close();
  }
});

test('HetznerFloatingIP: by address (looked up in the list) and by id; start assigns and polls the action; 423 while locked is retried', async () => {
  const emu = new HetznerEmulator({ token: TOKEN, servers: [ME, PEER], ips: [{ ip: '198.51.100.7', id: 4711, server: PEER.id }, { ip: '198.51.100.8', id: 4712, server: null }], actionMs: 100 });
  const w = await world('HetznerFloatingIP', emu, '198.51.100.7');
  try {
    const start = await w.run('start');
    assert.ok(start.ok, start.logs.join('\n'));
    assert.equal(emu.holder(4711), ME.id);
    assert.ok(start.calls.some((c) => c.operation === 'list_floating_ips'));
    assert.match(start.output, /assigning 198\.51\.100\.7 to this server \(1001\); it points at server 1002 now/);
    const st = await w.run('status');
    assert.equal(st.running, true);
    w.emu.fault({ kind: 'status', status: 503, count: 1 });
    const again = await w.run('status');
    assert.ok(again.ok && again.running, again.logs.join('\n'));
  } finally {
    await w.close();
  }
  const emu2 = new HetznerEmulator({ token: TOKEN, servers: [ME, PEER], ips: [{ ip: '198.51.100.9', id: 99, server: null }], actionMs: 100 });
  const w2 = await world('HetznerFloatingIP', emu2, '99');
  try {
    assert.ok((await w2.run('start')).ok);
    assert.equal(emu2.holder(99), ME.id);
    (emu2 as HetznerEmulator).token = 'nope-nope-nope';
    const bad = await w2.run('start');
    assert.match(bad.output, /Hetzner Cloud API: GET \/v1\/floating_ips\/99: 401 Unauthorized \(unauthorized: unable to authenticate\)/);
  } finally {
    await w2.close();
  }
});
