// One nemesis run: build the world, let the cluster form, inject the schedule's faults at
// their times (each undone after its duration), wait out the quiet tail, and check the
// history. On a violation the logs, the client history and the schedule are kept in one
// directory with the command that reruns it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withLan } from '../../src/lib/netns.js';
import { signalPid } from '../../src/lib/signal.js';
import { sleep } from '../../src/lib/wait.js';
import { check, settleFrom, type AppliedFault, type CheckResult, type History } from './checker.js';
import { describe, type Fault, type Schedule } from './schedule.js';
import { cutMedium, heal, installEmulators, partition, restoreMedium, type LinkEmulator } from './net-faults.js';
import { SUBNET, VIP, World, type WorldOptions } from './world.js';

export interface RunOutcome {
  schedule: Schedule;
  result: CheckResult;
  /** Where the evidence of a violation was kept (null: none). */
  keptIn: string | null;
}

export interface RunOptions extends WorldOptions {
  /** Keep the evidence of a violation under this directory. */
  keepDir?: string;
  /** How to rerun this schedule (printed with a violation). */
  rerun?: string;
  log?: (line: string) => void;
}

const says = (body: string | undefined): string | null => /^Droplet: ([^,]+),/.exec(body ?? '')?.[1] ?? null;

/** How long a restarted hbd may take to open its control socket on a loaded machine. */
const HBD_START_GRACE_MS = 10_000;

const stopsHbd = (f: Fault): f is Extract<Fault, { node: string }> => f.kind === 'kill-hbd' || f.kind === 'kill-hbd-guard' || f.kind === 'restart';

/** Applies one fault; resolves with its undo (run at the fault's end). */
async function apply(w: World, f: Fault, links: Map<string, LinkEmulator>): Promise<() => Promise<void>> {
  switch (f.kind) {
    case 'impair': {
      const link = links.get(f.node)!;
      await link.set(f.imp);
      return () => link.set(null);
    }
    case 'partition':
      await partition(w.lan, f.blocks);
      return () => heal(w.lan, [...new Set(f.blocks.map((b) => b.to))]);
    case 'kill-hbd':
      await w.killHbd(f.node);
      return async () => w.start(f.node);
    case 'kill-hbd-guard':
      w.killHbdAndGuard(f.node);
      return async () => w.start(f.node);
    case 'restart':
      await w.terminate(f.node);
      return async () => w.start(f.node);
    case 'freeze': {
      const pids = w.freeze(f.node);
      return async () => w.thaw(pids);
    }
    case 'standby':
    case 'takeover':
      await w.switchCommand(f.node, f.kind);
      return async () => undefined;
    case 'agent-fail':
    case 'agent-hang':
      w.setAgentMode(f.node, f.kind === 'agent-fail' ? 'fail' : 'hang');
      return async () => w.setAgentMode(f.node, null);
    case 'cpu': {
      const pids = f.nodes.map((n) => w.stress(n, f.durMs));
      return async () => {
        for (const pid of pids) if (pid) signalPid(pid, 'SIGKILL');
      };
    }
    case 'cut-medium':
      await cutMedium(w.lan, 'eth1', [f.node]);
      return () => restoreMedium(w.lan, 'eth1', [f.node]);
    case 'cut-all':
      await w.cables(f.node, false);
      return () => w.cables(f.node, true);
  }
}

/**
 * Runs the faults at their times; returns each as it really happened. A fault that cannot be
 * applied (hb_standby refused, say) is reported, not thrown: the run and its checks go on.
 */
async function inject(w: World, s: Schedule, t0: number, links: Map<string, LinkEmulator>, log: (l: string) => void): Promise<{ applied: AppliedFault[]; failed: { at: number; message: string }[] }> {
  const applied: AppliedFault[] = [];
  const failed: { at: number; message: string }[] = [];
  // Faults that stop a node's hbd, from their start until its restart has had time to listen.
  const hbdDown: { node: string; from: number; to: number }[] = [];
  await Promise.all(
    s.faults.map(async (fault) => {
      await sleep(Math.max(0, t0 + fault.at - Date.now()));
      const from = Date.now();
      const down = stopsHbd(fault) ? { node: fault.node, from, to: Infinity } : null;
      if (down) hbdDown.push(down);
      try {
        const undo = await apply(w, fault, links);
        log(`  ${describe(fault)}`);
        await sleep(Math.max(0, t0 + fault.at + fault.durMs - Date.now()));
        await undo();
        if (down) down.to = Date.now() + HBD_START_GRACE_MS;
        applied.push({ fault, from, to: Date.now() });
      } catch (err) {
        // hb_standby/hb_takeover is a process of its own, which a loaded machine may start
        // seconds late: when another fault had stopped that node's hbd by then, the command
        // found no hbd to ask. That is the schedule overtaking itself, not a failure of hbd.
        const until = Date.now();
        if ((fault.kind === 'standby' || fault.kind === 'takeover') && hbdDown.some((d) => d.node === fault.node && d.from < until && d.to > from)) {
          log(`  ${describe(fault)}: not applied: another fault had stopped ${fault.node}'s hbd before the command reached it`);
          return;
        }
        failed.push({ at: from, message: `${describe(fault)}: ${(err as Error).message}` });
      }
    }),
  );
  return { applied: applied.sort((a, b) => a.from - b.from), failed };
}

export async function runSchedule(s: Schedule, opts: RunOptions = {}): Promise<RunOutcome> {
  const log = opts.log ?? (() => undefined);
  return withLan(
    async (lan) => {
      const w = await World.create(lan, s, opts);
      // Every node's heartbeats go through its link emulator (pass-through until an impair fault).
      const links = await installEmulators(lan, s.nodes, s.seed, s.redundantMedia ? { ifaces: ['eth0', 'eth1'], broadcast: true } : {});
      // A request every 20 ms, each given 2 s: on a loaded host a late answer is an answer (a
      // 200 ms limit once failed a request the holder answered 7 ms late, seed 165); outages
      // are measured between answers, which overlapping requests keep precise.
      const probe = w.cluster.probe(VIP, 20, 2000, { overlap: true });
      try {
        w.startAll();
        await w.cluster.waitStable('the cluster to form with the group on its preferred node', { 0: s.nodes[0]! }, s.timers.initdeadMs + 30_000);
        await probe.waitFor('the group to answer', (a) => says(a.body) === s.nodes[0], 0, 10_000);
        const t0 = Date.now();
        const { applied, failed: failedFaults } = await inject(w, s, t0, links, log);
        const tailFrom = Math.max(t0 + s.windowMs, ...applied.map((a) => a.to));
        // A failed start (one that hung to its timeout may fail after the faults) puts off the
        // settle bound by its hold: wait until the bound as the logs show it now stays put.
        let end = settleFrom({ tailFrom, logs: w.logs() }, s) + 4000;
        while (Date.now() < end) {
          await sleep(end - Date.now());
          end = settleFrom({ tailFrom, logs: w.logs() }, s) + 4000;
        }
        const now = await w.holdersNow();
        const history: History = {
          t0,
          end,
          tailFrom,
          holdings: w.holdings(Date.now()),
          answers: probe.answers.map((a) => ({ sent: a.sent, t: a.t, node: says(a.body), ...(a.err ? { error: a.err } : {}) })),
          logs: w.logs(),
          applied,
          unexpectedExits: w.unexpectedExits,
        };
        const result = check(history, s);
        const fromMonitors = w.holdings(Infinity).filter((h) => h.to === Infinity).map((h) => h.node).sort();
        if (fromMonitors.join() !== now.join()) {
          result.violations.push({ invariant: 'recorder', at: end, message: `the address monitors say ${fromMonitors.join(',') || 'nobody'} holds the VIP, ip addr says ${now.join(',') || 'nobody'}` });
        }
        for (const e of failedFaults) result.violations.push({ invariant: 'fault-not-applied', at: e.at, message: e.message });
        const keptIn = result.violations.length ? keep(opts, s, history, result) : null;
        return { schedule: s, result, keptIn };
      } finally {
        probe.stop();
        for (const l of links.values()) await l.stop();
        await w.cluster.cleanup();
      }
    },
    { subnet: SUBNET, label: 'nem' },
  );
}

function keep(opts: RunOptions, s: Schedule, h: History, r: CheckResult): string {
  const dir = join(opts.keepDir ?? 'nemesis-runs', `seed-${s.seed}-${s.nodes.length}n`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'schedule.json'), `${JSON.stringify(s, null, 2)}\n`);
  writeFileSync(join(dir, 'violations.txt'), `${r.violations.map((v) => `${new Date(v.at).toISOString()} ${v.invariant}: ${v.message}`).join('\n')}\n\nrerun: ${opts.rerun ?? '(see schedule.json)'}\n`);
  writeFileSync(join(dir, 'client.jsonl'), h.answers.map((a) => JSON.stringify(a)).join('\n'));
  writeFileSync(join(dir, 'history.json'), `${JSON.stringify({ t0: h.t0, end: h.end, tailFrom: h.tailFrom, holdings: h.holdings, applied: h.applied, unexpectedExits: h.unexpectedExits }, null, 2)}\n`);
  for (const [node, lines] of Object.entries(h.logs)) writeFileSync(join(dir, `${node}.log`), lines.map((l) => `${new Date(l.at).toISOString()} ${l.text}`).join('\n'));
  return dir;
}
