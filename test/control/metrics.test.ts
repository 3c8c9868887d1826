// /metrics of real daemons after things happened: forged packets, a kill -9 of the owner
// (death, failover), its return (failback). Each count is asserted as a value.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { statusMessage } from '../../src/wire/messages.js';
import { sign } from '../../src/wire/auth.js';
import type { AuthKey } from '../../src/config/types.js';
import { HttpCluster, metricValue } from './cluster.js';

const GROUP = 'alpha svc::web';
const KEY: AuthKey = { index: 1, method: 'sha256', secret: 'http-api-test-secret' };

function forged(node: string, generation: number, key: AuthKey): Buffer {
  const m = statusMessage(
    { node, uuid: Buffer.alloc(16, 7), generation, deadtimeMs: 1000 },
    5,
    Math.floor(Date.now() / 1000),
    { st: 'active', advert: { groups: { [GROUP]: { phase: 'running', claim: null, grant: null } }, standby: [], failed: [], takeover: null, leaving: false, gen: generation, at: 0, deadtimeMs: 1000, acks: [], resources: ['svc::web'] }, digest: 'forged' },
  );
  return sign(m, key, 'netstring');
}

async function send(packets: Buffer[], to: string, port: number): Promise<void> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.3', r));
  for (const p of packets) await new Promise<void>((resolve, reject) => sock.send(p, port, to, (err) => (err ? reject(err) : resolve())));
  sock.close();
}

describe('/metrics after a failover and a failback', { timeout: 60_000 }, () => {
  const c = new HttpCluster();
  before(async () => {
    c.startAll();
    await c.settled();
  });
  after(async () => {
    await c.cleanup();
  });

  it('counts forged, foreign and replayed packets', async () => {
    await send(
      [
        forged('alpha', 1, { ...KEY, secret: 'not-the-cluster-key' }), // bad signature
        forged('mallory', 1, KEY), // signed, but not a node of ha.cf
        forged('alpha', 1, KEY), // signed, from alpha's past: generation 1
      ],
      c.addr('beta'),
      c.port,
    );
    await c.waitFor('the drops to be counted', async () => (await c.metric('beta', 'hbd_replayed_packets_total')) === 1);
    const text = (await c.get('beta', '/metrics')).text;
    assert.equal(metricValue(text, 'hbd_auth_failures_total'), 1);
    assert.equal(metricValue(text, 'hbd_foreign_packets_total'), 1);
    assert.equal(metricValue(text, 'hbd_replayed_packets_total'), 1);
    assert.equal(metricValue(text, 'hbd_malformed_packets_total'), 0);
    // None of them changed anything.
    assert.equal(metricValue(text, 'hbd_group_owner', { group: GROUP, node: 'alpha' }), 1);
    assert.equal(metricValue(text, 'hbd_nodes_up'), 2);
  });

  it('kill -9 of the owner (hbd and its guard: a silent death): one death, one late-heartbeat silence, one failover on the survivor', async () => {
    c.kill9WithGuard('alpha');
    await c.waitFor('beta to own the group', async () => (await c.get('beta', '/status')).json.groups[0].owner === 'beta');
    const text = (await c.get('beta', '/metrics')).text;
    const v = (name: string, labels: Record<string, string> = {}) => metricValue(text, name, labels);
    assert.equal(v('hbd_node_deaths_total', { node: 'alpha' }), 1);
    assert.equal(v('hbd_late_heartbeats_total', { node: 'alpha' }), 1);
    assert.equal(v('hbd_failovers_total', { group: GROUP }), 1);
    assert.equal(v('hbd_failbacks_total', { group: GROUP }), 0);
    assert.equal(v('hbd_group_transitions_total', { group: GROUP, what: 'takeover' }), 1);
    assert.equal(v('hbd_nodes_up'), 1);
    assert.equal(v('hbd_node_up', { node: 'alpha' }), 0);
    assert.equal(v('hbd_node_up', { node: 'beta' }), 1);
    assert.equal(v('hbd_link_up', { node: 'alpha', link: 'lo' }), 0);
    assert.equal(v('hbd_group_owner', { group: GROUP, node: 'beta' }), 1);
    assert.equal(v('hbd_group_owner', { group: GROUP, node: 'alpha' }), 0);
    assert.equal(v('hbd_group_running', { group: GROUP }), 1);
    // beta ran the agent twice: status (not running), then start.
    assert.equal(v('hbd_agent_call_duration_seconds_count', { resource: 'svc::web', action: 'status', result: 'ok' }), 1);
    assert.equal(v('hbd_agent_call_duration_seconds_count', { resource: 'svc::web', action: 'start', result: 'ok' }), 1);
    assert.ok((v('hbd_agent_call_duration_seconds_sum', { resource: 'svc::web', action: 'start', result: 'ok' }) ?? -1) > 0);
    assert.ok((v('hbd_heartbeats_received_total', { node: 'alpha', link: 'lo' }) ?? 0) >= 1);
    assert.ok((v('hbd_heartbeats_sent_total', { link: 'lo' }) ?? 0) >= 1);
    assert.equal(v('hbd_auth_failures_total'), 1);
  });

  it('the owner comes back (auto_failback on): one failback on it, a release on the survivor', async () => {
    c.start('alpha');
    await c.waitFor('alpha to own the group again', async () => (await c.get('beta', '/status')).json.groups[0].owner === 'alpha');
    await c.waitFor('alpha API', () => c.urls.has('alpha'));
    const a = (await c.get('alpha', '/metrics')).text;
    assert.equal(metricValue(a, 'hbd_failbacks_total', { group: GROUP }), 1);
    assert.equal(metricValue(a, 'hbd_failovers_total', { group: GROUP }), 0);
    assert.equal(metricValue(a, 'hbd_group_owner', { group: GROUP, node: 'alpha' }), 1);
    const b = (await c.get('beta', '/metrics')).text;
    assert.equal(metricValue(b, 'hbd_group_transitions_total', { group: GROUP, what: 'release' }), 1);
    assert.equal(metricValue(b, 'hbd_agent_call_duration_seconds_count', { resource: 'svc::web', action: 'stop', result: 'ok' }), 1);
    assert.equal(metricValue(b, 'hbd_failovers_total', { group: GROUP }), 1);
    assert.equal(metricValue(b, 'hbd_node_deaths_total', { node: 'alpha' }), 1);
    assert.equal(metricValue(b, 'hbd_nodes_up'), 2);
    // The timeline says so too.
    const t = (await c.get('alpha', '/status')).json.transitions;
    assert.ok(t.some((x: any) => x.tag === 'failback'), JSON.stringify(t));
  });
});
