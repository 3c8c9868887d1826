// Switching by hand: hb_standby gives groups to the other nodes, hb_takeover asks them back.
// A takeover travels in our adverts as a serial and a list of groups, and a peer applies each
// serial once: it stands by for the groups asked. Pure: each function returns new switches.
import type { PeerAdvert } from './advert.js';
import type { GroupDef } from './group.js';

export type Scope = 'all' | 'local' | 'foreign';

export interface Switches {
  /** Groups (by index) this node refuses while another eligible node is up. */
  standby: Set<number>;
  /** When each group of `standby` was put in standby. */
  standbySince: Record<number, number>;
  /** Our latest takeover request (0: none yet) and the groups it asks for. */
  takeoverSerial: number;
  takeoverGroups: number[];
  /** Highest takeover serial applied per peer (per generation of that peer). */
  appliedTakeover: Record<string, number>;
}

export const NO_SWITCHES: Switches = { standby: new Set(), standbySince: {}, takeoverSerial: 0, takeoverGroups: [], appliedTakeover: {} };

/** The groups a request with this scope is about: ours (local), the others' (foreign), or all. */
export function inScope(groups: GroupDef[], me: string, scope: Scope): number[] {
  return groups.flatMap((def, g) => {
    const local = def.preferredNode === me;
    return scope === 'all' || (scope === 'local' ? local : !local) ? [g] : [];
  });
}

export function standBy(sw: Switches, gs: number[], now: number): Switches {
  const standby = new Set(sw.standby);
  const standbySince = { ...sw.standbySince };
  for (const g of gs) {
    standby.add(g);
    standbySince[g] = now;
  }
  return { ...sw, standby, standbySince };
}

/** We stand by no more for these groups (asking nobody for them). */
export function standByNoMore(sw: Switches, gs: number[]): Switches {
  const standby = new Set(sw.standby);
  const standbySince = { ...sw.standbySince };
  for (const g of gs) {
    standby.delete(g);
    delete standbySince[g];
  }
  return { ...sw, standby, standbySince };
}

/** Our hb_takeover: we stand by no more for these groups, and ask the peers for them. */
export function takeOver(sw: Switches, gs: number[]): Switches {
  return { ...standByNoMore(sw, gs), takeoverSerial: sw.takeoverSerial + 1, takeoverGroups: gs };
}

/**
 * A peer's advert may carry a takeover request we have not applied yet (serials count from 1
 * again in a peer's new run): we stand by for the groups it asks for that we have, as
 * Heartbeat's hb_takeover asks the other node to give them up. `asked`: those groups, `fresh`:
 * those we did not stand by for already; null when there is nothing new.
 */
export function peerAsks(sw: Switches, node: string, a: PeerAdvert, groups: GroupDef[], now: number): { switches: Switches; asked: number[]; fresh: number[] } | null {
  const tk = a.takeover;
  const key = `${node}#${a.gen}`;
  if (!tk || tk.serial <= (sw.appliedTakeover[key] ?? 0)) return null;
  const asked = groups.flatMap((def, g) => (tk.groups.includes(def.id) ? [g] : []));
  const fresh = asked.filter((g) => !sw.standby.has(g));
  return { switches: { ...standBy(sw, fresh, now), appliedTakeover: { ...sw.appliedTakeover, [key]: tk.serial } }, asked, fresh };
}

/**
 * The switches after a reload renumbered the groups (`renumber[old]`: the new index, or -1 for
 * a group no longer in haresources, whose standby and takeover go with it).
 */
export function renumbered(sw: Switches, renumber: readonly number[]): Switches {
  const to = (g: number) => renumber[g] ?? -1;
  const standby = new Set([...sw.standby].map(to).filter((g) => g >= 0));
  const standbySince: Record<number, number> = {};
  for (const [g, since] of Object.entries(sw.standbySince)) if (to(Number(g)) >= 0) standbySince[to(Number(g))] = since;
  return { ...sw, standby, standbySince, takeoverGroups: sw.takeoverGroups.map(to).filter((g) => g >= 0) };
}
