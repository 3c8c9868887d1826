// The first seed on AWS: one group with an Elastic IP and a VPC secondary private IP
// (`primary AWSElasticIP::EIP AWSSecondaryIP::SIP/24/eth0`), real hbd on two "instances", moto
// in server mode as EC2 with an IMDSv2 metadata service and an API front in the cloud router
// namespace (src/emulators/aws.ts), which delivers the Elastic IP (DNAT) and the secondary IP
// (a route) to the instance that holds each. The agents use the official SDK with a
// credentials file. kill -9 and power-off of the primary move both, auto_failback brings them
// back, and the client's requests to both addresses follow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { netnsSkip } from '../helpers/netns.js';
import { clock, says, stepper, wall, type NsCluster } from '../helpers/cluster.js';
import { FIP, secretLeaks, withCloudCluster, type CloudCluster } from '../helpers/cloud-cluster.js';
import { findMoto } from '../../src/emulators/moto.js';

const netSkip = await netnsSkip();
const moto = netSkip ? null : await findMoto();
if (!netSkip && !moto) {
  if (process.env.CI === 'true') throw new Error('CI=true but moto is not installed: run bash scripts/install-deps.sh');
  console.log('# skipped: moto is not installed (bash scripts/install-deps.sh installs it)');
}
const skip = netSkip || (moto ? false : 'moto is not installed');
const SIP = '10.231.43.50';
const KEY_ID = 'AKIAHBTSEXAMPLE00001';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYHBTSEXAMPLEKEY';
const METRICS = 'http://127.0.0.1:8694/metrics';

const options = () => ({
  provider: 'aws' as const,
  subnet: '10.231.43',
  clientSubnet: '10.232.43',
  resource: (api: string) => `AWSElasticIP::${FIP}::credentials=aws.credentials::api=${api} AWSSecondaryIP::${SIP}/24/eth0::credentials=aws.credentials::api=${api}`,
  tokenFile: 'aws.credentials',
  token: KEY_ID,
  secretText: `[default]\naws_access_key_id = ${KEY_ID}\naws_secret_access_key = ${SECRET}\n`,
  ips: [
    { ip: FIP, holder: null, delivery: 'dnat' as const },
    { ip: SIP, holder: null, delivery: 'route' as const },
  ],
  moto: moto ?? [],
  awsSecret: SECRET,
  extraHaCf: 'http_listen 127.0.0.1:8694',
  hbdArgs: ['--agent-timeout', 'start=30s,stop=30s,status=30s'],
});

type Probe = ReturnType<NsCluster['probe']>;

async function movedTo(w: CloudCluster, probes: Probe[], node: string, since: number, t: { diagnostic(m: string): void }, what: string): Promise<void> {
  for (const ip of [FIP, SIP]) await w.cloud.waitRouted(ip, node, since, 30_000);
  const other = node === 'primary' ? 'secondary' : 'primary';
  const parts: string[] = [];
  for (const p of probes) {
    const first = await p.waitFor(node, says(node), since, 30_000);
    const last = p.lastBefore(says(other), first.t);
    parts.push(`${p.url}: first "Droplet: ${node}" +${Math.round(first.t - since)} ms, gap ${last ? Math.round(first.t - last.t) : 'n/a'} ms`);
  }
  for (const ip of [FIP, SIP]) assert.deepEqual(w.cloud.assignments(ip).filter((a) => a.at >= since).map((a) => a.machine), [node], `${ip}: one assignment since ${what}, to ${node}`);
  t.diagnostic(`${what} at ${clock(since)}: ${parts.join('; ')}`);
}

test('AWS: kill -9 of the primary\'s hbd moves the Elastic IP and the secondary IP to secondary, and back (auto_failback on)', { skip }, async (t) => {
  await withCloudCluster(options(), async (w) => {
    const { c, cloud } = w;
    const step = stepper(t);
    const probes = [c.probe(FIP, 100, 500), c.probe(SIP, 100, 500)];
    await step('primary\'s start associates the Elastic IP and assigns the secondary IP to it (and adds it on eth0)', async () => {
      const at = wall();
      c.startAll();
      await c.waitStable('primary to run the group', { 0: 'primary' }, 60_000);
      await movedTo(w, probes, 'primary', at, t, 'start');
      assert.deepEqual(await c.holders(SIP), ['primary'], 'the secondary IP is configured on primary only');
      const me = cloud.machines.find((m) => m.name === 'primary')!.id;
      assert.match(c.logText('primary'), new RegExp(`AWSElasticIP\\[\\d+\\]: .*info: assigning ${FIP.replace(/\./g, '\\.')} to this instance \\(${me}\\); it points at nothing now`));
    });
    await step('kill -9 of primary\'s hbd: the guard removes the secondary IP, secondary takes both; the client follows', async () => {
      const at = await c.kill9('primary');
      await movedTo(w, probes, 'secondary', at, t, 'kill -9');
      await c.waitStable('secondary to run the group', { 0: 'secondary' }, 30_000);
      assert.deepEqual(await c.holders(SIP), ['secondary']);
    });
    await step('primary\'s hbd again: both go back to primary; secondary\'s stop removes the address from its eth0', async () => {
      const at = wall();
      c.start('primary');
      await movedTo(w, probes, 'primary', at, t, 'hbd restarted');
      await c.waitStable('primary to run the group again', { 0: 'primary' }, 30_000);
      assert.deepEqual(await c.holders(SIP), ['primary']);
    });
    await step('the secret access key is nowhere: logs, /status, /metrics, hbd\'s command line', async () => {
      assert.deepEqual(await secretLeaks(c, SECRET, METRICS), []);
      assert.ok(cloud.requests().filter((r) => r.service === 'api').every((r) => r.authorized === true), 'every EC2 request was signed with the key id');
      assert.ok(cloud.requests().some((r) => r.service === 'metadata' && r.method === 'PUT' && r.path === '/latest/api/token'), 'IMDSv2: a session token was asked for');
    });
    for (const p of probes) p.stop();
  });
});

test('AWS: power-off of the primary moves both addresses to secondary; power-on brings them back', { skip }, async (t) => {
  await withCloudCluster(options(), async (w) => {
    const { c } = w;
    const step = stepper(t);
    const probes = [c.probe(FIP, 100, 500), c.probe(SIP, 100, 500)];
    await step('primary holds both', async () => {
      const at = wall();
      c.startAll();
      await c.waitStable('primary to run the group', { 0: 'primary' }, 60_000);
      await movedTo(w, probes, 'primary', at, t, 'start');
    });
    await step('power-off: secondary takes both after deadtime', async () => {
      const at = await c.powerOff('primary');
      await movedTo(w, probes, 'secondary', at, t, 'power-off');
    });
    await step('power-on: both go back to primary', async () => {
      const at = await c.boot('primary');
      await movedTo(w, probes, 'primary', at, t, 'power-on');
      await c.waitStable('primary to run the group again', { 0: 'primary' }, 30_000);
    });
    for (const p of probes) p.stop();
  });
});

test('AWS faults: InternalError twice and RequestLimitExceeded are retried; a refused access key fails the start with one line', { skip }, async (t) => {
  await withCloudCluster({ ...options(), resource: (api: string) => `AWSElasticIP::${FIP}::credentials=aws.credentials::api=${api}::timeout=2s`, ips: [{ ip: FIP, holder: null, delivery: 'dnat' as const }] }, async (w) => {
    const { c, cloud } = w;
    const step = stepper(t);
    await step('primary holds the Elastic IP', async () => {
      c.startAll();
      await c.waitStable('primary to run the group', { 0: 'primary' }, 60_000);
      await cloud.waitRouted(FIP, 'primary', 0, 30_000);
    });
    await step('InternalError (500) twice, then a RequestLimitExceeded (EC2\'s 503): the takeover retries and completes', async () => {
      await cloud.fault({ kind: 'status', status: 500, count: 2 });
      await cloud.fault({ kind: 'rate-limit', count: 1, resetInS: 1 });
      const at = await c.kill9('primary');
      await cloud.waitRouted(FIP, 'secondary', at, 30_000);
      const log = c.logText('secondary');
      assert.equal(log.split('\n').filter((l) => /AWSElasticIP\[\d+\]: .*WARN: AWS EC2 API: \w+: 500 InternalError: .*; retry \d of 4 in \d+ ms/.test(l)).length, 2, log);
      assert.match(log, /AWSElasticIP\[\d+\]: .*WARN: AWS EC2 API: \w+: 503 RequestLimitExceeded: Request limit exceeded\.; retry \d of 4 in \d+ ms \(rate limit, no reset header\)/);
    });
    await step('the access key is refused (AuthFailure): primary\'s start fails with one line; the secret key is nowhere', async () => {
      await c.waitStable('secondary to run the group', { 0: 'secondary' }, 30_000);
      await cloud.acceptToken('AKIAANOTHERKEY000000');
      const at = wall();
      c.start('primary');
      const refused = await c.waitFor('primary to log the refused key', () => c.firstLog('primary', /AWSElasticIP\[\d+\]: .*ERROR: (start|status) failed: AWS EC2 API: \w+: 401 AuthFailure: .* — the credentials were refused: check the credentials file \(or the instance role\)$/, at), 30_000);
      assert.ok(refused);
      assert.ok(!cloud.assignments(FIP).some((a) => a.at >= at && a.machine === 'primary'), 'nothing was assigned to primary');
      assert.deepEqual(await secretLeaks(c, SECRET, METRICS), []);
    });
  });
});
