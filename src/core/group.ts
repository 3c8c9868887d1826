// A resource group as the core knows it: one haresources line.

export interface GroupDef {
  /** The same on every node with the same line (adverts are keyed by it). */
  id: string;
  preferredNode: string;
  /** Resource names as written in haresources, in start order. */
  resources: string[];
}

/** How Heartbeat names a group in its logs: the haresources line itself. */
export function groupLabel(def: GroupDef): string {
  return [def.preferredNode, ...def.resources].join(' ');
}
