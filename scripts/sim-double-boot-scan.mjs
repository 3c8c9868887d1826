// Which schedules of the long run (bench/sim-long-run) 9d3ec09's simulator ran with a node
// booted twice, and what this checkout's simulator makes of them (seed 1765551, fixed in
// 5823399: a crash or shutdown fault that ended before a node's planned first boot booted it,
// and the planned boot then booted the running node again).
//
// The fix changes only that planned boot: every other schedule runs the same on both builds
// (bench/sim-digest.js prints the same digests for them). A planned boot happens by the last of
// the configuration's boot times, so each schedule is run on the old build only that far, with
// World.boot watched for a node that is already running; then each schedule found is run whole
// on this build. Prints one JSON object: the seeds, and this build's violations among them.
//
//   node scripts/sim-double-boot-scan.mjs --old-dist DIR [--from 1700000] [--count 71000]
//   (DIR: the dist/ of a build of 9d3ec09; this checkout built with npm run build)
import { pathToFileURL } from 'node:url';
import { join, resolve } from 'node:path';

const OPTS = { witness: 0.3, fencing: 0.3, ping: 0.3, monitors: 0.3, arbiter: 0.2 };
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? def : args[i + 1];
};
for (let i = 0; i < args.length; i += 2) {
  if (!['--old-dist', '--from', '--count'].includes(args[i]) || args[i + 1] === undefined) {
    process.stderr.write(`sim-double-boot-scan: bad argument ${JSON.stringify(args[i])}\nusage: node scripts/sim-double-boot-scan.mjs --old-dist DIR [--from 1700000] [--count 71000]\n`);
    process.exit(2);
  }
}
const oldDist = opt('old-dist', null);
if (!oldDist) {
  process.stderr.write('sim-double-boot-scan: --old-dist DIR (the dist/ of a build of 9d3ec09) is required\n');
  process.exit(2);
}
const from = Number(opt('from', '1700000'));
const count = Number(opt('count', '71000'));
const load = (dist, p) => import(pathToFileURL(resolve(dist, p)).href);
const old = { run: await load(oldDist, 'src/sim/run.js'), world: await load(oldDist, 'src/sim/world.js') };
const here = await load(join(new URL('..', import.meta.url).pathname, 'dist'), 'src/sim/run.js');

let bootedRunning = false;
const boot = old.world.World.prototype.boot;
old.world.World.prototype.boot = function (n) {
  if (n.up) bootedRunning = true;
  return boot.call(this, n);
};

const affected = [];
for (let seed = from; seed < from + count; seed++) {
  const full = old.run.scheduleOf(seed, OPTS);
  const untilMs = Math.max(...full.config.bootAt) + 1;
  bootedRunning = false;
  old.world.runSchedule(old.run.scheduleOf(seed, OPTS, { keep: full.faults.map((_, i) => i), untilMs }));
  if (bootedRunning) affected.push(seed);
}
const violations = [];
let simulatedMs = 0;
for (const seed of affected) {
  const r = here.runSeed(seed, OPTS);
  simulatedMs += r.simulatedMs ?? 0;
  if (r.violation) violations.push({ seed, invariant: r.violation.invariant, message: r.violation.message });
}
process.stdout.write(`${JSON.stringify({ from, count, bootedTwice: affected, rerunHere: { schedules: affected.length, simulatedMs, violations } })}\n`);
