// A resource group as the core knows it: one haresources line.

export interface GroupDef {
  /** The same on every node with the same line (adverts are keyed by it). */
  id: string;
  preferredNode: string;
  /** Resource names as written in haresources, in start order. */
  resources: string[];
  /** Resources checked while the group runs (ha.cf `monitor`); none: Heartbeat's behaviour. */
  monitors?: MonitorDef[];
}

/** How one resource of a group is monitored (see monitor.ts). */
export interface MonitorDef {
  /** Its index in the group. */
  resource: number;
  intervalMs: number;
  /** Failed checks in a row that make the resource restart. */
  failures: number;
  /** Restarts allowed within windowMs; the next failure moves the group and keeps this node out. */
  restarts: number;
  windowMs: number;
  /** How long a node keeps out of the group after it moved it away; null: until cleared. */
  keepOutMs: number | null;
}

/** How Heartbeat names a group in its logs: the haresources line itself. */
export function groupLabel(def: GroupDef): string {
  return [def.preferredNode, ...def.resources].join(' ');
}

/**
 * Two groups name the same resource (a virtual IP, a service). One haresources file never
 * does (a resource belongs to one group), but a reload that changes a group's line removes
 * the old group and adds the new one: both exist here until the old one is stopped.
 */
export function sharesResource(a: GroupDef, b: GroupDef): boolean {
  return a.resources.some((r) => b.resources.includes(r));
}
