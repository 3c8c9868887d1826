// The seed tutorial (DigitalOcean, "High Availability Setup with Heartbeat and Floating IPs"),
// automated on a namespace LAN: hosts primary and secondary run hbd and a web service that
// answers with the host's name; a client loops on http://VIP/. The primary fails (kill -9 of
// its hbd, its link down, or a power-off as in the tutorial) and comes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holdsFor } from '../../src/lib/wait.js';
import { netnsSkip } from '../helpers/netns.js';
import { clock, says, stepper, wall, withCluster, type NsCluster } from '../helpers/cluster.js';

const skip = await netnsSkip();
const VIP = '10.231.1.100';

/** The group's owner as the named daemon sees it. */
async function ownerSeenBy(c: NsCluster, node: string): Promise<string | null> {
  return (await c.status(node)).groups[0]?.owner ?? null;
}

/** Common opening: the cluster forms, primary holds the VIP, the client sees primary. */
async function formed(c: NsCluster, t: { diagnostic(m: string): void }): Promise<void> {
  const t0 = wall();
  c.startAll();
  await c.waitStable('the cluster to form with primary owning the group', { 0: 'primary' });
  t.diagnostic(`cluster formed and primary running the group ${Math.round(wall() - t0)} ms after both hbd were started`);
  assert.deepEqual(await c.holders(VIP), ['primary'], 'the VIP is configured on primary only');
  assert.match((await c.curl(VIP)) ?? '(no answer)', /^Droplet: primary, IP Address: 10\.231\.1\.1$/, 'curl http://VIP/ from the client answers "Droplet: primary"');
  assert.equal((await c.neigh(VIP))?.lladdr, c.host('primary').mac, "the client's neighbour entry for the VIP is primary's MAC");
}

/**
 * After a fault at `faultAt`: the client sees secondary through the same VIP, and its
 * neighbour entry switched to secondary's MAC right after secondary's takeover.
 */
async function failedOver(c: NsCluster, t: { diagnostic(m: string): void }, probe: ReturnType<NsCluster['probe']>, faultAt: number, what: string): Promise<void> {
  const macAt = await c.waitNeighMac(VIP, c.host('secondary').mac, 10_000);
  const complete = await c.waitFor('secondary to log the takeover', () => c.firstLog('secondary', /mach_down takeover complete for node primary/, faultAt), 5000);
  const first = await probe.waitFor('secondary', says('secondary'), faultAt, 10_000);
  const lastPrimary = probe.lastBefore(says('primary'), first.t);
  assert.equal(await ownerSeenBy(c, 'secondary'), 'secondary', 'secondary runs the group');
  assert.ok((await c.holders(VIP)).includes('secondary'), 'the VIP is configured on secondary');
  // Only secondary's gratuitous ARP can explain a switch this soon: the client's own neighbour
  // machinery would wait for the entry to go stale (tens of seconds).
  assert.ok(macAt - complete.at < 1000, `the neighbour entry switched ${Math.round(macAt - complete.at)} ms after the takeover (gratuitous ARP)`);
  t.diagnostic(
    `${what}: at ${clock(faultAt)}; takeover complete +${Math.round(complete.at - faultAt)} ms; client's neighbour entry -> secondary's MAC +${Math.round(macAt - faultAt)} ms (${Math.round(macAt - complete.at)} ms after takeover); first "Droplet: secondary" +${Math.round(first.t - faultAt)} ms; client-side gap since the last "Droplet: primary" ${lastPrimary ? `${Math.round(first.t - lastPrimary.t)} ms` : 'n/a'}`,
  );
}

test('seed tutorial: kill -9 of the primary\'s hbd, auto_failback on', { skip }, async (t) => {
  await withCluster({ haresources: `primary IPaddr::${VIP}/24/eth0`, autoFailback: 'on' }, async (c) => {
    const step = stepper(t);
    const probe = c.probe(VIP);
    let killedAt = 0;
    let restartedAt = 0;
    await step('the cluster forms; the client sees primary through the VIP (hbctl status, curl)', async () => {
      await formed(c, t);
      const st = await c.hbctlStatus('secondary');
      assert.equal(st.groups[0]?.owner, 'primary', 'hbctl status --json on secondary names primary as the owner');
      assert.deepEqual(st.nodes.map((n) => [n.name, n.status]), [['primary', 'active'], ['secondary', 'active']]);
      await probe.waitFor('primary', says('primary'), 0);
    });
    await step('kill -9 of primary\'s hbd: the client sees secondary through the same VIP; its neighbour entry moves to secondary\'s MAC', async () => {
      await c.waitArpQuiet('primary');
      killedAt = await c.kill9('primary');
      await failedOver(c, t, probe, killedAt, 'kill -9 of primary\'s hbd');
      const st = await c.status('secondary');
      assert.equal(st.nodes.find((n) => n.name === 'primary')?.status, 'dead', 'secondary holds primary dead');
      assert.ok(c.firstLog('secondary', /node primary: is dead/, killedAt), 'secondary logs "node primary: is dead"');
      assert.ok(c.firstLog('secondary', /Resources being acquired from primary/, killedAt), 'secondary logs "Resources being acquired from primary."');
    });
    await step('primary\'s hbd starts again: with auto_failback on it gets the group back (secondary releases the VIP)', async () => {
      restartedAt = wall();
      c.start('primary');
      await c.waitStable('primary to hold the group again', { 0: 'primary' });
      await c.waitFor('secondary to remove the VIP', async () => (await c.holders(VIP)).join() === 'primary', 5000);
      t.diagnostic(`failback: group running on primary again ${Math.round(wall() - restartedAt)} ms after its hbd was started`);
      assert.ok(c.firstLog('secondary', /Releasing resource group/, restartedAt), 'secondary logs the release');
    });
    await step(
      'after the failback the client sees primary again within 3 s',
      async () => {
        const back = await probe.waitFor('primary again', says('primary'), restartedAt, 3000);
        t.diagnostic(`client sees primary again ${Math.round(back.t - restartedAt)} ms after primary's hbd was restarted`);
      },
    );
    probe.stop();
  });
});

test('seed tutorial: primary\'s link down, auto_failback on', { skip }, async (t) => {
  await withCluster({ haresources: `primary IPaddr2::${VIP}/24/eth0`, autoFailback: 'on' }, async (c) => {
    const step = stepper(t);
    const probe = c.probe(VIP);
    let upAt = 0;
    await step('the cluster forms; the client sees primary', async () => {
      await formed(c, t);
      await probe.waitFor('primary', says('primary'), 0);
    });
    await step('primary\'s cable is pulled: the client sees secondary through the same VIP; its neighbour entry moves to secondary\'s MAC', async () => {
      await c.waitArpQuiet('primary');
      await c.lan.setCable('primary', false);
      const downAt = wall();
      await failedOver(c, t, probe, downAt, 'primary\'s link down');
      // Cut off, primary cannot know: it keeps its copy (Heartbeat does the same without STONITH).
      assert.equal(await ownerSeenBy(c, 'primary'), 'primary', 'primary, cut off, still runs the group in its own view');
      await c.waitFor('primary to hold secondary dead', async () => (await c.status('primary')).nodes.find((n) => n.name === 'secondary')?.status === 'dead', 3000);
    });
    await step('the cable is back: with auto_failback on primary keeps the group and secondary releases it', async () => {
      await c.waitArpQuiet('secondary');
      await c.lan.setCable('primary', true);
      upAt = wall();
      await c.waitStable('the partition to heal with primary owning the group', { 0: 'primary' });
      await c.waitFor('secondary to remove the VIP', async () => (await c.holders(VIP)).join() === 'primary', 5000);
      t.diagnostic(`partition healed: one owner (primary) ${Math.round(wall() - upAt)} ms after the cable was back`);
    });
    await step(
      'after the partition heals the client sees primary again within 3 s',
      async () => {
        const back = await probe.waitFor('primary again', says('primary'), upAt, 3000);
        t.diagnostic(`client sees primary again ${Math.round(back.t - upAt)} ms after the cable was back`);
      },
    );
    probe.stop();
  });
});

test('seed tutorial as written: primary powered off, then powered on (auto_failback on)', { skip }, async (t) => {
  await withCluster({ haresources: `primary IPaddr::${VIP}/24/eth0`, autoFailback: 'on' }, async (c) => {
    const step = stepper(t);
    const probe = c.probe(VIP);
    await step('the cluster forms; the client sees primary', async () => {
      await formed(c, t);
      await probe.waitFor('primary', says('primary'), 0);
    });
    await step('primary powers off: the client sees secondary; its neighbour entry moves to secondary\'s MAC', async () => {
      const offAt = await c.powerOff('primary');
      await failedOver(c, t, probe, offAt, 'primary powered off');
    });
    await step('primary boots again: it takes the group back and the client sees primary (failback with gratuitous ARP)', async () => {
      const bootAt = await c.boot('primary');
      const macAt = await c.waitNeighMac(VIP, c.host('primary').mac, 10_000);
      const back = await probe.waitFor('primary again', says('primary'), bootAt, 10_000);
      await c.waitStable('primary to own the group', { 0: 'primary' });
      assert.deepEqual(await c.holders(VIP), ['primary'], 'the VIP is on primary only');
      const lastSecondary = probe.lastBefore(says('secondary'), back.t);
      t.diagnostic(
        `failback: primary's hbd started at ${clock(bootAt)}; neighbour entry -> primary's MAC +${Math.round(macAt - bootAt)} ms; first "Droplet: primary" +${Math.round(back.t - bootAt)} ms; client-side gap ${lastSecondary ? Math.round(back.t - lastSecondary.t) : 'n/a'} ms`,
      );
      const errors = probe.since(bootAt).filter((a) => a.t < back.t && a.err).length;
      t.diagnostic(`failed client requests during the failback: ${errors}`);
    });
    probe.stop();
  });
});

test('seed tutorial: kill -9 of the primary\'s hbd, auto_failback off: the group stays on secondary', { skip }, async (t) => {
  await withCluster({ haresources: `primary IPaddr2::${VIP}/24/eth0`, autoFailback: 'off' }, async (c) => {
    const step = stepper(t);
    const probe = c.probe(VIP);
    let restartedAt = 0;
    await step('the cluster forms; the client sees primary', async () => {
      await formed(c, t);
      await probe.waitFor('primary', says('primary'), 0);
    });
    await step('kill -9 of primary\'s hbd: the client sees secondary', async () => {
      await c.waitArpQuiet('primary');
      const killedAt = await c.kill9('primary');
      await failedOver(c, t, probe, killedAt, 'kill -9 of primary\'s hbd (auto_failback off)');
    });
    await step('primary\'s hbd starts again: the group stays on secondary, and the client keeps seeing secondary', async () => {
      restartedAt = wall();
      c.start('primary');
      await c.waitStable('primary to rejoin with secondary still owning the group', { 0: 'secondary' });
      // Something must NOT happen: watch for three deadtimes (3 s) that nothing moves.
      await holdsFor(3000, async () => {
        for (const n of ['primary', 'secondary']) assert.equal(await ownerSeenBy(c, n), 'secondary', `${n} sees secondary as the owner`);
      }, 100);
      const seen = probe.since(restartedAt);
      assert.ok(seen.length > 20, 'the client kept asking');
      assert.ok(seen.every((a) => !says('primary')(a)), 'the client never saw primary after it came back');
      assert.ok(seen.filter(says('secondary')).length >= seen.length - 1, 'the client kept seeing secondary');
    });
    await step(
      'the returning primary does not keep its stale copy of the VIP while secondary owns the group',
      async () => {
        // The address guard removed it the moment primary's hbd was killed.
        assert.deepEqual(await c.holders(VIP), ['secondary'], 'the VIP is configured on secondary only');
      },
    );
    probe.stop();
  });
});
