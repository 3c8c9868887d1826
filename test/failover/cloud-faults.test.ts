// A cloud API that misbehaves during a takeover, with real hbd daemons and the DigitalOcean
// emulator (test/helpers/cloud-cluster.ts): 500 twice then success, a 429 with its reset
// header, an API that hangs, a token the API no longer accepts. Each is injected just before
// the primary's hbd is killed, so the secondary's start meets it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { netnsSkip } from '../helpers/netns.js';
import { stepper, wall } from '../helpers/cluster.js';
import { FIP, secretLeaks, withCloudCluster } from '../helpers/cloud-cluster.js';

const skip = await netnsSkip();
const TOKEN = 'dop_v1_2f8e6d4c2a0b9e7d5c3a1f0e8d6c4b2a0f9e8d7c6b5a4f31';
const METRICS = 'http://127.0.0.1:8694/metrics';

const options = {
  provider: 'digitalocean' as const,
  subnet: '10.231.44',
  clientSubnet: '10.232.44',
  // One API call may take 1 s; a whole start 4 s (hbd --agent-timeout).
  resource: (api: string) => `DigitalOceanIP::${FIP}::api=${api}::timeout=1s`,
  tokenFile: 'digitalocean.token',
  token: TOKEN,
  extraHaCf: 'http_listen 127.0.0.1:8694',
  hbdArgs: ['--agent-timeout', 'start=4s,stop=4s,status=4s'],
};

test('cloud API faults during takeovers: 5xx retried, 429 waits for its reset, a hung API and a refused token fail the start', { skip }, async (t) => {
  await withCloudCluster(options, async ({ c, cloud }) => {
    const step = stepper(t);
    await step('the cluster forms; primary holds the reserved IP', async () => {
      c.startAll();
      await c.waitStable('primary to run the group', { 0: 'primary' });
      await cloud.waitRouted(FIP, 'primary');
    });

    await step('500 twice, then the API answers: the takeover completes and the retries are logged', async () => {
      await cloud.fault({ kind: 'status', status: 500, count: 2 });
      const at = await c.kill9('primary');
      await cloud.waitRouted(FIP, 'secondary', at, 15_000);
      await c.waitStable('secondary to run the group', { 0: 'secondary' });
      const retries = c.logText('secondary').split('\n').filter((l) => /DigitalOceanIP\[\d+\]: .*WARN: DigitalOcean API: .*: 500 Internal Server Error \(server_error: .*\); retry [12] of 4 in \d+ ms/.test(l));
      assert.equal(retries.length, 2, c.logText('secondary'));
      assert.deepEqual(cloud.requests().filter((r) => r.at >= at && r.status === 500).length, 2);
    });

    await step('a 429 with RateLimit-Reset about a second ahead: the failback waits until then, and completes', async () => {
      await cloud.fault({ kind: 'rate-limit', count: 1, resetInS: 1 });
      const at = wall();
      c.start('primary');
      await cloud.waitRouted(FIP, 'primary', at, 20_000);
      await c.waitStable('primary to run the group again', { 0: 'primary' });
      const limited = cloud.requests().find((r) => r.at >= at && r.status === 429);
      assert.ok(limited, 'the emulator answered 429');
      // Whoever asked first met it: primary's start, or secondary asking whether the address
      // still points at it when primary came back.
      const asker = c.names.find((n) => c.host(n).address === limited.from)!;
      const retry = c.firstLog(asker, /429 Too Many Requests \(too_many_requests: API Rate limit exceeded\.\); retry 1 of 4 in (\d+) ms \(rate limit: RateLimit-Reset: (\d+)\)/, at);
      assert.ok(retry, c.logText(asker));
      const [, waited, reset] = /in (\d+) ms .*RateLimit-Reset: (\d+)/.exec(retry.text)!.map(Number);
      // The header's reset time (Unix seconds), as seen from the moment of the 429.
      const told = reset! * 1000 - limited.at;
      assert.ok(Math.abs(waited! - told) < 300, `waited ${waited} ms; the header said ${Math.round(told)} ms`);
      const next = await cloud.waitEvent('the retry after the 429', (r) => r.ev === 'request' && r.at > limited.at && r.from === limited.from, 0, 10_000);
      assert.ok(next && next.at >= reset! * 1000 - 300, `the next request came ${next ? next.at - limited.at : '?'} ms after the 429, at the reset time or later`);
    });

    await step('the API hangs: the secondary\'s start times out, fails, and the group is rolled back (runs nowhere)', async () => {
      await cloud.fault({ kind: 'hang' });
      const at = await c.kill9('primary');
      const failed = await c.waitFor('secondary to log the failed start', () => c.firstLog('secondary', /DigitalOceanIP\[\d+\]: .*ERROR: (start|status) failed: DigitalOcean API: .*no answer within \d+ ms/, at), 20_000);
      assert.ok(failed.at - at < 8000, `failed ${Math.round(failed.at - at)} ms after the kill`);
      await c.waitFor('the group to be stopped on secondary', async () => {
        const g = (await c.status('secondary')).groups[0];
        return g && g.owner === null && g.phases.secondary === 'stopped';
      }, 20_000);
      assert.deepEqual(cloud.assignments(FIP).filter((a) => a.at >= at), [], `nothing was assigned after the kill at ${at}; requests since: ${JSON.stringify(cloud.requests().filter((r) => r.at >= at - 2000))}\n${c.logText('secondary')}`);
      await cloud.clearFaults();
    });

    await step('the API refuses the token: the start fails with one clear line; the token is nowhere', async () => {
      await cloud.acceptToken('dop_v1_a-token-the-nodes-do-not-have-000000000000');
      const at = wall();
      c.start('primary');
      const refused = await c.waitFor('primary to log the refused token', () => c.firstLog('primary', /DigitalOceanIP\[\d+\]: .*ERROR: (start|status) failed: DigitalOcean API: GET \/v2\/reserved_ips\/203\.0\.113\.10: 401 Unauthorized \(unauthorized: Unable to authenticate you\) — the token in \S+digitalocean\.token was refused: put a valid API token there$/, at), 20_000);
      assert.ok(refused);
      await c.waitFor('primary to give the group up', async () => (await c.status('primary')).groups[0]?.phases.primary === 'stopped', 20_000);
      assert.ok(!cloud.assignments(FIP).some((a) => a.at >= at), 'nothing was assigned');
      assert.deepEqual(await secretLeaks(c, TOKEN, METRICS), []);
      const { stdout } = await import('../../src/lib/netns.js').then((m) => m.inNs(c.host('primary').ns, ['curl', '-s', '-m', '5', METRICS]));
      assert.match(stdout, /hbd_cloud_api_failures_total\{provider="digitalocean",operation="get_reserved_ip",reason="unauthorized"\} [1-9]/);
      assert.match(stdout, /hbd_cloud_api_call_duration_seconds_count\{provider="digitalocean",operation="get_reserved_ip",result="unauthorized"\} [1-9]/);
    });
  });
});
