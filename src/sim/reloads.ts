// Reload faults: an operator changes the files and reloads hbd (SIGHUP) node after node, as
// seed 003 says: "change the three files on every node, then reload each node" (sometimes only
// some of them, and in any order). A round changes the cluster's files once: a group added,
// removed, or its line changed (another id sharing the old one's resources), and sometimes the
// timers. Drawn from a stream of the seed of their own, after every other fault, so that a
// schedule without reloads is exactly the schedule of before.
import { derive, chance, int, mulberry32, pick, shuffled, uniform, type Rng } from './prng.js';
import type { Fault, SimConfig, SimGroup } from './schedule.js';

type ReloadFault = Extract<Fault, { kind: 'reload' }>;

/** The cluster's files as a round leaves them. */
interface Files {
  keepaliveMs: number;
  deadtimeMs: number;
  groups: string[];
}

export function drawReloads(seed: number, config: SimConfig, windowMs: number, probability: number): { groups: SimGroup[]; faults: ReloadFault[] } | null {
  const rng = mulberry32(derive(seed, 9));
  if (!chance(rng, probability)) return null;
  const added: SimGroup[] = [];
  const faults: ReloadFault[] = [];
  let files: Files = { keepaliveMs: config.timers.keepaliveMs, deadtimeMs: config.timers.deadtimeMs, groups: config.groups.map((g) => g.id) };
  let at = Math.floor(uniform(rng, 0, windowMs / 2));
  for (let round = int(rng, 1, 2); round > 0 && at < windowMs; round--) {
    files = nextFiles(rng, files, config, added);
    const order = shuffled(rng, config.nodes);
    // Mostly every node; sometimes the operator stops half-way (the nodes' files differ then).
    const count = chance(rng, 0.8) ? order.length : int(rng, 1, order.length);
    for (const node of order.slice(0, count)) {
      faults.push({ kind: 'reload', at: Math.min(at, windowMs), node, ...files, groups: [...files.groups] });
      at += Math.floor(uniform(rng, 0, 2 * files.deadtimeMs));
    }
    at += Math.floor(uniform(rng, 1000, windowMs / 2));
  }
  return { groups: added, faults };
}

/** One round's change of the files: the groups, the timers, or both. */
function nextFiles(rng: Rng, files: Files, config: SimConfig, added: SimGroup[]): Files {
  const timers = chance(rng, 0.4);
  const next = { ...files, groups: [...files.groups] };
  if (timers) {
    next.keepaliveMs = pick(rng, [100, 150, 200, 250]);
    next.deadtimeMs = next.keepaliveMs * int(rng, 4, 8);
  }
  if (timers && chance(rng, 0.5)) return next;
  const all = [...config.groups, ...added];
  const newGroup = (preferredNode: string, resources: string[]): SimGroup => {
    const g: SimGroup = { id: [preferredNode, ...resources].join(' '), preferredNode, resources, fromReload: true };
    added.push(g);
    return g;
  };
  const fresh = (n: number) => Array.from({ length: n }, (_, r) => `g${all.length}r${r}`);
  const change = next.groups.length > 1 ? pick(rng, ['add', 'remove', 'change'] as const) : pick(rng, ['add', 'change'] as const);
  if (change === 'add') {
    next.groups.push(newGroup(pick(rng, config.nodes), fresh(int(rng, 1, 3))).id);
  } else if (change === 'remove') {
    next.groups.splice(int(rng, 0, next.groups.length - 1), 1);
  } else {
    // The same line with one more resource: another id, sharing every resource of the old one.
    const i = int(rng, 0, next.groups.length - 1);
    const old = all.find((g) => g.id === next.groups[i])!;
    next.groups[i] = newGroup(old.preferredNode, [...old.resources, ...fresh(1)]).id;
  }
  return next;
}
