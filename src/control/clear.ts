// `hbctl clear GROUP` on the control socket: the groups the name means, or a refusal with
// its stable code (E_UNKNOWN_GROUP).
import { groupsNamed } from '../config/monitor.js';
import type { StatusSnapshot } from '../status/snapshot.js';
import { ControlError } from './protocol.js';

export function groupsToClear(snapshot: StatusSnapshot, name: string): string[] {
  const ids = groupsNamed(snapshot.groups, name);
  if (ids.length === 0) throw new ControlError('E_UNKNOWN_GROUP', `no resource group "${name.slice(0, 80)}" here: name its haresources line, one of its resources, or all`);
  return ids;
}
