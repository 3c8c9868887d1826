// hbd's role on this host: a node of ha.cf, or (hbd --witness) the witness ha.cf names. A
// witness is a third host's vote in a two-node cluster (core/policy.ts keeps it out of every
// group's candidates; core/lease.ts counts its grants like any node's).
import type { HaCf } from '../config/types.js';
import { quorumSourceWarning } from '../config/hacf-quorum.js';
import type { Logger } from '../lib/logger.js';

/** Throws, saying what to do, when this host cannot run in the role asked for; else whether it is the witness. */
export function checkRole(ha: HaCf, me: string, witness: boolean): boolean {
  const named = ha.quorum.witness?.name ?? null;
  if (witness) {
    if (named === null) throw new Error('hbd --witness, but ha.cf names no witness: add "witness ' + me + '" to ha.cf on every node and on this host');
    if (named !== me) throw new Error(`hbd --witness on "${me}", but ha.cf's witness is "${named}": start it on that host, or with --node ${named}`);
    return true;
  }
  if (named === me) throw new Error(`this host "${me}" is ha.cf's witness: start it with hbd --witness`);
  if (!ha.nodes.includes(me)) throw new Error(`this node "${me}" is not a node of ha.cf (${ha.nodes.join(', ')})`);
  return false;
}

/** At start-up: the one warning of two nodes without a quorum source, or the witness's role. */
export function announceRole(ha: HaCf, me: string, witness: boolean, log: Logger): void {
  const warning = quorumSourceWarning(ha, me);
  if (warning) log.warn(warning);
  if (witness) log.info(`Running as the witness of ${ha.nodes.join(' and ')}: voting for one side of a partition, running no resource group.`);
}
