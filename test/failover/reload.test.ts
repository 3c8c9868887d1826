// The reload procedure of seed 003, on a namespace LAN with real hbd processes: "change the
// three files on every node, then run `/etc/init.d/heartbeat reload` on each node, finishing
// with the node that has control" (the init script sends SIGHUP). A group that did not change
// never leaves its holder (the kernel's address events show no delete); an added group starts
// on its preferred node; a removed one stops; timers apply at once; what cannot change live
// (the node list, a broken file) is refused with a log line and everything keeps running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { netnsSkip } from '../helpers/netns.js';
import { sleep } from '../../src/lib/wait.js';
import { inNs } from '../../src/lib/netns.js';
import { AddressMonitor } from '../helpers/address-monitor.js';
import { stepper, wall, withCluster, type NsCluster } from '../helpers/cluster.js';

const skip = await netnsSkip();
const [VA, VB] = ['10.231.1.100', '10.231.1.101'];
const LINE_A = `primary IPaddr::${VA}/24/eth0`;
const LINE_B = `secondary IPaddr::${VB}/24/eth0`;

/** Rewrites one of a node's files in its config dir (ha.cf, haresources). */
function edit(c: NsCluster, node: string, file: string, change: (text: string) => string): void {
  const path = join(c.configDir(node), file);
  writeFileSync(path, change(readFileSync(path, 'utf8')));
}

const ANSWER = /reload: configuration applied|reload refused|reload: configuration not valid|reload: configuration unchanged/;

/** `/etc/init.d/heartbeat reload` on `node`: SIGHUP to its hbd; resolves with the log line that answers it. */
async function reload(c: NsCluster, node: string): Promise<string> {
  const at = wall();
  const pid = c.hbd.get(node)?.pid;
  if (!pid) throw new Error(`hbd on ${node} is not running`);
  process.kill(pid, 'SIGHUP');
  const line = await c.waitFor(`${node} to answer its reload`, () => c.firstLog(node, ANSWER, at), 10_000);
  return line.text;
}

/** Log lines of `node` since `at` that match `re`. */
const linesSince = (c: NsCluster, node: string, re: RegExp, at: number): string[] => (c.logs.get(node) ?? []).filter((l) => l.at >= at && re.test(l.text)).map((l) => l.text);

const deadtime = async (c: NsCluster, node: string): Promise<string> => (await c.cli(node, 'cl_status', ['hbparameter', '-p', 'deadtime'])).stdout.trim();

test('reload (SIGHUP) applies haresources and timers live; an unchanged group keeps running; what cannot change is refused', { skip }, async (t) => {
  await withCluster({ haresources: LINE_A, deadtime: '1', client: null, web: false }, async (c) => {
    const step = stepper(t);
    // The kernel's address events on both hosts, for the whole test: who ever added or deleted A's and B's VIPs.
    const watch = (vip: string) => Object.fromEntries(c.names.map((n) => [n, new AddressMonitor(c.lan, n, vip)]));
    let monA: Record<string, AddressMonitor> = {};
    let monB: Record<string, AddressMonitor> = {};
    const events = (m: Record<string, AddressMonitor>, host: string, held: boolean) => m[host]!.events.filter((e) => e.held === held).length;
    t.after(() => [...Object.values(monA), ...Object.values(monB)].forEach((m) => m.stop()));

    await step('the cluster forms: group A on primary', async () => {
      c.startAll();
      await c.waitStable('A on primary', { 0: 'primary' });
      monA = watch(VA);
      monB = watch(VB);
      await Promise.all([...Object.values(monA), ...Object.values(monB)].map((m) => m.ready()));
      assert.deepEqual(await c.holders(VA), ['primary']);
      assert.equal(await deadtime(c, 'primary'), '1');
    });

    await step('group B added and deadtime 1 s -> 3 s on both; reload secondary, then primary (which has control): A never leaves primary, B starts on secondary', async () => {
      for (const n of c.names) {
        edit(c, n, 'haresources', () => `${LINE_A}\n${LINE_B}\n`);
        edit(c, n, 'ha.cf', (text) => text.replace(/^deadtime .*$/m, 'deadtime 3'));
      }
      const at = wall();
      assert.match(await reload(c, 'secondary'), /reload: configuration applied/);
      // Until primary has reloaded, it does not know B: secondary waits for it.
      await sleep(500);
      assert.deepEqual(await c.holders(VB), [], 'B waits until every node that is up has it');
      assert.match(await reload(c, 'primary'), /reload: configuration applied/);
      await c.waitStable('A on primary, B on secondary', { 0: 'primary', 1: 'secondary' });
      assert.deepEqual(await c.holders(VA), ['primary']);
      assert.deepEqual(await c.holders(VB), ['secondary']);
      assert.equal(events(monA, 'primary', false), 0, "A's VIP was never deleted on primary");
      assert.equal(events(monA, 'secondary', true), 0, "A's VIP never appeared on secondary");
      assert.equal(events(monB, 'primary', true), 0, "B's VIP never appeared on primary");
      for (const n of c.names) {
        assert.equal(linesSince(c, n, /Releasing resource group|Acquiring resource group: primary/, at).length, 0, `${n} neither released nor acquired A`);
        assert.equal(linesSince(c, n, /reload: deadtime 1000 ms -> 3000 ms/, at).length, 1, `${n} logs the new deadtime`);
        assert.equal(linesSince(c, n, new RegExp(`reload: resource group ${LINE_B.replace(/\./g, '\\.')} added`), at).length, 1, `${n} logs B added`);
        assert.equal(await deadtime(c, n), '3', `cl_status hbparameter -p deadtime on ${n}`);
      }
      for (const n of c.names) t.diagnostic(`${n}: ${linesSince(c, n, /reload:/, at).map((l) => l.replace(/^.*? (info|WARN|ERROR): /, '')).join(' | ')}`);
    });

    await step('group B removed on both; reload primary, then secondary (which holds B): B\'s VIP goes, A stays', async () => {
      for (const n of c.names) edit(c, n, 'haresources', () => `${LINE_A}\n`);
      const at = wall();
      assert.match(await reload(c, 'primary'), /reload: configuration applied/);
      assert.ok(c.firstLog('primary', /reload: resource group secondary .* removed \(not running here\)/, at));
      assert.match(await reload(c, 'secondary'), /reload: configuration applied/);
      assert.ok(c.firstLog('secondary', /reload: resource group secondary .* removed \(stopping it here\)/, at));
      await c.waitFor("B's VIP to go", async () => (await c.holders(VB)).length === 0, 10_000);
      await c.waitFor('B gone from both status views', async () => {
        for (const n of c.names) if ((await c.status(n)).groups.length !== 1) return false;
        return true;
      });
      await c.waitStable('A on primary', { 0: 'primary' });
      await sleep(200);
      assert.equal(events(monB, 'secondary', false), 1, "B's VIP was deleted once on secondary");
      assert.equal(events(monB, 'primary', true), 0, "B's VIP never appeared on primary");
      assert.equal(events(monA, 'primary', false), 0, "A's VIP was never deleted on primary");
      assert.deepEqual(await c.holders(VA), ['primary']);
    });

    await step('a third node in ha.cf: the reload is refused on both nodes with the reason; everything keeps running', async () => {
      const digests = await Promise.all(c.names.map(async (n) => (await c.status(n)).digest));
      for (const n of c.names) edit(c, n, 'ha.cf', (text) => text.replace(/^node (.*)$/m, 'node $1 tertiary'));
      const at = wall();
      for (const n of c.names) {
        const answer = await reload(c, n);
        assert.match(answer, /reload refused: the node list changed \(primary secondary -> primary secondary tertiary\): the peers' membership and quorum would change under running resource groups; restart hbd on every node to apply it\./);
        assert.ok(c.firstLog(n, /reload: keeping the running configuration; nothing of this reload was applied/, at));
      }
      await sleep(1000);
      await c.waitStable('A still on primary', { 0: 'primary' });
      assert.deepEqual(await Promise.all(c.names.map(async (n) => (await c.status(n)).digest)), digests, 'the running configurations are the same');
      for (const n of c.names) assert.equal((await c.status(n)).nodes.length, 2);
      assert.equal(events(monA, 'primary', false), 0, "A's VIP was never deleted on primary");
      for (const n of c.names) edit(c, n, 'ha.cf', (text) => text.replace(/^node (.*) tertiary$/m, 'node $1'));
    });

    await step('a broken ha.cf: errors logged with file:line, the running configuration kept', async () => {
      edit(c, 'secondary', 'ha.cf', (text) => text.replace(/^deadtime .*$/m, 'deadtime 7\nfrobnicate 1'));
      const at = wall();
      assert.match(await reload(c, 'secondary'), /reload: configuration not valid; keeping the running configuration/);
      assert.ok(c.firstLog('secondary', /reload: .*ha\.cf:\d+: error: unknown directive "frobnicate"/, at), 'the error names the file and line');
      assert.equal(await deadtime(c, 'secondary'), '3', 'the deadtime of the broken file was not applied');
      await c.waitStable('A still on primary', { 0: 'primary' });
      edit(c, 'secondary', 'ha.cf', (text) => text.replace('deadtime 7\nfrobnicate 1', 'deadtime 3'));
      assert.match(await reload(c, 'secondary'), /reload: configuration unchanged/);
    });

    await step('the new deadtime is in effect: primary powered off, secondary declares it dead only after the old 1 s deadtime has long passed, then takes A over', async () => {
      for (const m of [...Object.values(monA), ...Object.values(monB)]) m.stop();
      const off = await c.powerOff('primary');
      const dead = await c.waitFor('secondary to declare primary dead', () => c.firstLog('secondary', /node primary: is dead/, off), 15_000);
      const late = c.firstLog('secondary', /node primary: is late/, off);
      await c.waitFor('secondary to run A', async () => (await c.status('secondary')).groups[0]?.owner === 'secondary', 10_000);
      const took = c.firstLog('secondary', /mach_down takeover complete for node primary/, off);
      t.diagnostic(`power-off of primary: declared dead after ${Math.round(dead.at - off)} ms (deadtime 3000 ms, 1000 ms before the reload)`);
      // Load can only delay the death, never hasten it: a lower bound over the old deadtime is safe to assert.
      assert.ok(dead.at - off >= 2000, `declared dead ${Math.round(dead.at - off)} ms after the power-off: the old 1 s deadtime would have done it sooner`);
      assert.ok(late && late.at <= dead.at, 'late (warntime) before dead');
      assert.ok(took && took.at >= dead.at, 'takeover after the death');
      assert.ok((await c.holders(VA)).includes('secondary'), "A's VIP is on secondary (the powered-off host keeps its copy, off the LAN)");
    });
  });
});

/** The UDP sockets bound on a host, as "address:port" -> socket inode (`ss -uane`). */
async function udpSockets(c: NsCluster, host: string): Promise<Map<string, string>> {
  const { stdout } = await inNs(c.host(host).ns, ['ss', '-uaneH']);
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const local = line.trim().split(/\s+/)[3];
    const ino = /ino:(\d+)/.exec(line)?.[1];
    if (local && ino) out.set(local, ino);
  }
  return out;
}

test('reload changes the heartbeat media live: an added medium opens, a removed one closes, the others stay open; what cannot change live is refused', { skip }, async (t) => {
  await withCluster({ haresources: LINE_A, client: null, web: false }, async (c) => {
    const step = stepper(t);
    const ucast = (n: string) => `${c.lan.subnet}.${c.nodes.find((x) => x.name === n)!.octet}:694`;
    const bcast = `${c.lan.subnet}.255:694`;
    let monA: AddressMonitor | null = null;
    t.after(() => monA?.stop());
    const stillRunning = async (since: number) => {
      await c.waitStable('A on primary', { 0: 'primary' });
      for (const n of c.names) assert.equal(c.firstLog(n, /is dead|Link \S+ dead/, since), undefined, `${n} lost no node and no link`);
      assert.equal(monA!.events.filter((e) => !e.held).length, 0, "A's VIP was never deleted on primary");
    };

    await step('the cluster forms over ucast eth0', async () => {
      c.startAll();
      await c.waitStable('A on primary', { 0: 'primary' });
      monA = new AddressMonitor(c.lan, 'primary', VA);
      await monA.ready();
      for (const n of c.names) assert.ok((await udpSockets(c, n)).has(ucast(n)), `${n} listens on ${ucast(n)}`);
    });

    await step('bcast eth0 added on both: it opens; the ucast socket stays the very same one', async () => {
      const before = await Promise.all(c.names.map((n) => udpSockets(c, n)));
      for (const n of c.names) edit(c, n, 'ha.cf', (text) => text.replace(/^(ucast eth0 .*)$/m, 'bcast eth0\n$1'));
      const at = wall();
      for (const n of c.names) {
        assert.match(await reload(c, n), /reload: configuration applied/);
        assert.ok(c.firstLog(n, /reload: medium bcast eth0 \(port 694\) added/, at));
      }
      for (const [i, n] of c.names.entries()) {
        const now = await udpSockets(c, n);
        assert.ok(now.has(bcast), `${n} listens on ${bcast}`);
        assert.equal(now.get(ucast(n)), before[i]!.get(ucast(n)), `${n}'s ucast socket was kept open, not reopened`);
      }
      await sleep(1500); // more than the deadtime
      await stillRunning(at);
    });

    await step('the ucast lines removed on both: their sockets close; bcast alone carries the heartbeats', async () => {
      for (const n of c.names) edit(c, n, 'ha.cf', (text) => text.replace(/^ucast eth0 .*\n/gm, ''));
      const at = wall();
      for (const n of c.names) {
        assert.match(await reload(c, n), /reload: configuration applied/);
        assert.ok(c.firstLog(n, /reload: medium ucast eth0 .* removed/, at));
      }
      for (const n of c.names) {
        const now = await udpSockets(c, n);
        assert.ok(!now.has(ucast(n)) && now.has(bcast), `${n}: the ucast socket closed, the bcast one open`);
      }
      await sleep(1500);
      await stillRunning(at);
    });

    await step('every medium changed at once (bcast -> mcast): refused, with the reason and the way to do it', async () => {
      edit(c, 'secondary', 'ha.cf', (text) => text.replace(/^bcast eth0$/m, 'mcast eth0 225.0.0.1 694 1 0'));
      const at = wall();
      assert.match(await reload(c, 'secondary'), /reload refused: no heartbeat medium would stay as it is \(bcast eth0 \(port 694\) -> mcast eth0 225\.0\.0\.1 port 694 ttl 1 loop 0\): until every node has reloaded, the nodes could not hear each other/);
      assert.ok(c.firstLog('secondary', /Change media in two reloads/, at));
      assert.ok((await udpSockets(c, 'secondary')).has(bcast), 'the bcast medium is still open');
      await sleep(1500);
      await stillRunning(at);
      edit(c, 'secondary', 'ha.cf', (text) => text.replace(/^mcast eth0 .*$/m, 'bcast eth0'));
    });

    await step('a new log file: refused (hbd opens its logs at start), nothing else of that reload applied', async () => {
      for (const n of c.names) edit(c, n, 'ha.cf', (text) => text.replace(/^logfile (.*)$/m, 'logfile $1.new').replace(/^deadtime .*$/m, 'deadtime 2'));
      const at = wall();
      assert.match(await reload(c, 'primary'), /reload refused: logging changed \(logfile \S+ha-log -> \S+ha-log\.new\): hbd opens its log file, debug file and syslog at start; restart hbd to apply it\./);
      assert.equal(await deadtime(c, 'primary'), '1', 'the deadtime of the same reload is not applied either');
      await stillRunning(at);
    });
  });
});
