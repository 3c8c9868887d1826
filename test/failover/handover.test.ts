// hb_standby and hb_takeover, the real commands (dist/src/cli/*.js) run on the nodes with
// HBD_CONTROL_SOCKET, moving the group both ways; the client follows through the VIP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { netnsSkip } from '../helpers/netns.js';
import { says, stepper, wall, withCluster } from '../helpers/cluster.js';

const skip = await netnsSkip();
const VIP = '10.231.1.100';

test('hb_standby and hb_takeover move the group both ways, and the client follows', { skip }, async (t) => {
  await withCluster({ haresources: `primary IPaddr2::${VIP}/24/eth0`, autoFailback: 'on' }, async (c) => {
    const step = stepper(t);
    const probe = c.probe(VIP);

    /** Runs the command on `node`, then waits for `to` to own the group and the client to see it. */
    // As Heartbeat's scripts: nothing on stdout; hb_standby logs its line on stderr, hb_takeover says nothing.
    async function move(node: string, tool: 'hb_standby' | 'hb_takeover', expectErr: RegExp, to: string, other: string): Promise<void> {
      const at = wall();
      const r = await c.cli(node, tool);
      assert.equal(r.code, 0, `${tool} on ${node} exits 0 (stderr: ${r.stderr.trim()})`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, expectErr);
      await c.waitStable(`${to} to own the group after ${tool} on ${node}`, { 0: to });
      assert.deepEqual(await c.holders(VIP), [to], `the VIP is on ${to} only`);
      const seen = await probe.waitFor(to, says(to), at, 5000);
      const mac = (await c.neigh(VIP))?.lladdr;
      assert.equal(mac, c.host(to).mac, `the client's neighbour entry is ${to}'s MAC`);
      const lastOther = probe.lastBefore(says(other), seen.t);
      t.diagnostic(`${tool} on ${node}: group on ${to}; client sees ${to} +${Math.round(seen.t - at)} ms (gap ${lastOther ? Math.round(seen.t - lastOther.t) : 'n/a'} ms)`);
    }

    await step('the cluster forms with primary owning the group', async () => {
      c.startAll();
      await c.waitStable('primary to own the group', { 0: 'primary' });
      await probe.waitFor('primary', says('primary'), 0);
    });
    await step('hb_standby on primary: secondary takes the group', () => move('primary', 'hb_standby', /^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d Going standby \[all\]\.\n$/, 'secondary', 'primary'));
    await step('hb_takeover on primary: primary takes it back', () => move('primary', 'hb_takeover', /^$/, 'primary', 'secondary'));
    await step('hb_takeover on secondary: secondary takes the group', () => move('secondary', 'hb_takeover', /^$/, 'secondary', 'primary'));
    await step('hb_standby on secondary: primary gets it back', () => move('secondary', 'hb_standby', /^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d Going standby \[all\]\.\n$/, 'primary', 'secondary'));
    await step('cl_status and a bad argument: the classic commands talk to the right daemon and refuse nonsense', async () => {
      const bad = await c.cli('primary', 'hb_standby', ['everything']);
      assert.equal(bad.code, 1, 'hb_standby with an unknown scope exits 1, as Heartbeat\'s');
      assert.match(bad.stdout, /^\S*hb_standby\.js: wrong resources\(everything\)\.\nusage:\n$/);
      assert.match(bad.stderr, /^\S*hb_standby\.js \[all\|foreign\|local\|failback\]\n$/);
      const cl = await c.cli('secondary', 'cl_status', ['hbstatus']);
      assert.equal(cl.code, 0, `cl_status hbstatus exits 0 (stderr: ${cl.stderr.trim()})`);
      assert.match(cl.stdout, /running/i);
    });
    probe.stop();
    const errors = probe.answers.filter((a) => a.err).length;
    t.diagnostic(`client requests: ${probe.answers.length}, failed: ${errors}`);
  });
});

