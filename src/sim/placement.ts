// Where the failback rule expects a group in a settled quiet period (statements.ts, failback).
import type { SimConfig } from './schedule.js';
import type { SimNode } from './sim-node.js';

/** [preferred node, ha.cf order] among the eligible nodes, nodes in standby for the group last. */
export function expectedOwner(config: SimConfig, g: number, eligible: SimNode[]): SimNode | null {
  const def = config.groups[g]!;
  const order = [def.preferredNode, ...config.nodes.filter((x) => x !== def.preferredNode)]
    .map((name) => eligible.find((n) => n.name === name))
    .filter((n): n is SimNode => n !== undefined);
  const standby = (n: SimNode) => n.state?.ownership.switches.standby.has(n.localOf[g]!) ?? false;
  return order.find((n) => !standby(n)) ?? order[0] ?? null;
}
