// Which schedules of the long run (bench/sim-long-run) a checker fix can judge otherwise, and
// how the old and the new checker judge them. Two fixes so far (--change):
//
// line-swap (f25dc28, seed 1784012): a node stopped one haresources line of a group's resources
//   and started another line of them in the same step, and the checker took that for one
//   ownership going on. The fix changes when the checker sees a stop, which matters only in a
//   step where a node stops a group while another group sharing a resource with it changes phase
//   too. Groups share resources only in schedules whose reloads change a line: those are run.
// decisive-turn (seed 1796630): in a 2-node double ownership without a quorum source, a
//   heartbeat counts only if sent after the sender's last change of what decides the owner
//   (src/sim/two-node.ts). That rule is checked only in 2-node schedules without fencing or the
//   etcd arbiter: those are run.
//
// The checker is an observer: the nodes step the same on both builds. Every schedule selected is
// run whole on both builds; their verdicts and the checker's counts are compared, and the
// schedules where the change applied are listed (line-swap: a watch on the new checker's
// steps; decisive-turn: its count of turned double ownerships). `--control N` runs the first N
// other schedules on both too (they must agree). Prints one JSON object.
//
//   node scripts/sim-line-swap-scan.mjs --old-dist DIR [--change line-swap] [--from 1700000] [--count 90000] [--control 0]
//   (DIR: the dist/ of a build before the fix; this checkout built)
import { pathToFileURL } from 'node:url';
import { join, resolve } from 'node:path';

const OPTS = { witness: 0.3, fencing: 0.3, ping: 0.3, monitors: 0.3, arbiter: 0.2 };
const USAGE = 'usage: node scripts/sim-line-swap-scan.mjs --old-dist DIR [--change line-swap|decisive-turn] [--from 1700000] [--count 90000] [--control 0]\n';
const args = process.argv.slice(2);
const given = {};
for (let i = 0; i < args.length; i += 2) {
  const name = args[i]?.replace(/^--/, '');
  if (!['old-dist', 'change', 'from', 'count', 'control'].includes(name) || args[i + 1] === undefined) {
    process.stderr.write(`sim-line-swap-scan: bad argument ${JSON.stringify(args[i])}\n${USAGE}`);
    process.exit(2);
  }
  given[name] = args[i + 1];
}
if (!given['old-dist']) {
  process.stderr.write(`sim-line-swap-scan: --old-dist DIR is required\n${USAGE}`);
  process.exit(2);
}
const from = Number(given.from ?? 1700000);
const count = Number(given.count ?? 90000);
const control = Number(given.control ?? 0);
for (const [k, v] of Object.entries({ from, count, control })) {
  if (!Number.isInteger(v) || v < 0) {
    process.stderr.write(`sim-line-swap-scan: --${k} must be a whole number, not ${JSON.stringify(given[k])}\n${USAGE}`);
    process.exit(2);
  }
}
const change = given.change ?? 'line-swap';
if (!['line-swap', 'decisive-turn'].includes(change)) {
  process.stderr.write(`sim-line-swap-scan: --change is line-swap or decisive-turn, not ${JSON.stringify(change)}\n${USAGE}`);
  process.exit(2);
}
const load = (dist, p) => import(pathToFileURL(resolve(dist, p)).href);
const old = await load(given['old-dist'], 'src/sim/run.js');
const hereDist = join(new URL('..', import.meta.url).pathname, 'dist');
const here = await load(hereDist, 'src/sim/run.js');
const { Checker } = await load(hereDist, 'src/sim/invariants.js');

// The kind of step the fix sees otherwise: a stop, and in the same step a phase change of
// another group sharing a resource with the stopped one, on the same node.
let swapped = false;
const afterStep = Checker.prototype.afterStep;
Checker.prototype.afterStep = function (n, effects) {
  const local = n.state?.ownership.local ?? [];
  for (const e of effects) {
    if (e.kind !== 'group-phase' || e.to !== 'stopped') continue;
    const g = n.globalOf[e.group];
    for (let l = 0; l < local.length; l++) {
      const h = n.globalOf[l];
      if (h !== g && this.related[g].includes(h) && local[l].run.phase !== this.phase[n.idx][h]) swapped = true;
    }
  }
  return afterStep.call(this, n, effects);
};

const sharesResources = (seed) => {
  const { groups } = here.scheduleOf(seed, OPTS).config;
  return groups.some((g) => groups.some((h) => h !== g && h.resources.some((r) => g.resources.includes(r))));
};
const twoNodesNoQuorum = (seed) => {
  const c = here.scheduleOf(seed, OPTS).config;
  return c.nodes.length === 2 && c.fencing === undefined && c.arbiter === undefined;
};
const selected = change === 'line-swap' ? sharesResources : twoNodesNoQuorum;
const applied = (r) => (change === 'line-swap' ? swapped : (r.checked['2-node double ownerships turned by a change of what decides'] ?? 0) > 0);
const verdict = (r) => JSON.stringify({ violation: r.violation && { invariant: r.violation.invariant, message: r.violation.message }, checked: sorted(r.checked), excused: sorted(r.excused) });
const sorted = (o) => Object.fromEntries(Object.entries(o ?? {}).sort(([a], [b]) => a.localeCompare(b)));

// rerunWhole and rerunHere are what scripts/sim-long-run.mjs reads of a carry-over's evidence.
const out = { change, from, count, rerunWhole: [], applied: [], differ: [], differOutsideApplied: [], oldViolations: [], rerunHere: { schedules: 0, simulatedMs: 0, violations: [] }, control: { schedules: 0, differ: [] } };
for (let seed = from; seed < from + count; seed++) {
  const chosen = selected(seed);
  if (!chosen && out.control.schedules >= control) continue;
  swapped = false;
  const a = old.runSeed(seed, OPTS);
  const b = here.runSeed(seed, OPTS);
  const same = verdict(a) === verdict(b);
  if (!chosen) {
    out.control.schedules += 1;
    if (!same) out.control.differ.push(seed);
    continue;
  }
  out.rerunWhole.push(seed);
  out.rerunHere.schedules += 1;
  out.rerunHere.simulatedMs += b.simulatedMs ?? 0;
  if (applied(b)) out.applied.push(seed);
  if (!same) (applied(b) ? out.differ : out.differOutsideApplied).push(seed);
  if (a.violation) out.oldViolations.push({ seed, invariant: a.violation.invariant, message: a.violation.message });
  if (b.violation) out.rerunHere.violations.push({ seed, invariant: b.violation.invariant, message: b.violation.message });
}
process.stdout.write(`${JSON.stringify(out)}\n`);
