// The virtual IPs of our groups, where the daemon handles them outside the order of a group's
// start and stop: which copy each resource holds (so the address guard holds exactly those),
// announcing them again after a conflict, and taking them down at once at a fence. Groups are
// named by id: a reload may renumber them, never rename them.
import { ipAddrAgent, runResource, type AgentContext, type HeldAddress } from '../agents/index.js';
import type { ResourceGroup } from '../config/types.js';
import type { AddressGuard } from './guard.js';
import type { Logger } from './log.js';

/** A re-assignment after a healed partition: a few API calls with their retries. */
const REASSIGN_TIMEOUT_MS = 30_000;

export class GroupAddresses {
  /** By "group id#resource index". */
  private readonly copies = new Map<string, HeldAddress>();

  constructor(
    private readonly guard: () => AddressGuard | null,
    private readonly context: (timeoutMs: number) => AgentContext,
    private readonly log: Logger,
  ) {}

  /** An agent call reported the copy of a virtual IP its resource holds. */
  noteCopy(groupId: string, resource: number, address: HeldAddress): void {
    this.copies.set(`${groupId}#${resource}`, address);
  }

  /** A resource now runs here, or no longer (the core's word): the guard follows. */
  resourceState(groupId: string, resource: number, running: boolean): void {
    const address = this.copies.get(`${groupId}#${resource}`);
    const guard = this.guard();
    if (!address || !guard) return;
    if (running) guard.hold(address);
    else guard.release(address);
  }

  /** Announce the group's addresses again: the LAN may still point at `from`. */
  reassert(g: ResourceGroup, from: string, why: 'released' | 'returned'): void {
    const because = why === 'released' ? `${from} no longer holds it` : `${from} is back and may have announced it while we could not hear it`;
    this.log.info(`Resource group ${g.id}: ${because}; announcing its addresses again.`);
    for (const spec of g.resources) {
      if (spec.agent.kind === 'cloud') this.reassign(spec);
      if (spec.agent.kind !== 'builtin') continue;
      void ipAddrAgent.reannounce({ ...spec, agent: spec.agent }, this.context(10_000)).catch((err: unknown) => this.log.error(`${spec.raw}: ${(err as Error).message}`));
    }
  }

  /**
   * A cloud address is announced by its provider, not by ARP: while we could not hear `from`,
   * it may have pointed the address at itself. Ask the provider, and point it back here only
   * when it points elsewhere (a status first, so the usual case sends no assignment that could
   * race with a failback right after).
   */
  private reassign(spec: ResourceGroup['resources'][number]): void {
    void (async () => {
      const status = await runResource(spec, 'status', this.context(REASSIGN_TIMEOUT_MS));
      if (!status.ok || status.running) return;
      this.log.warn(`${spec.raw}: the provider points the address elsewhere although this node holds the group: assigning it here again.`);
      const start = await runResource(spec, 'start', this.context(REASSIGN_TIMEOUT_MS));
      if (!start.ok) this.log.error(`${spec.raw}: could not assign the address here again; see the lines above.`);
    })().catch((err: unknown) => this.log.error(`${spec.raw}: ${(err as Error).message}`));
  }

  /**
   * The core's fence: our lease on the group is over while its stop still runs. Each virtual
   * IP of the group is stopped now, beside the stop in progress (the IP agent's stop is
   * idempotent: when the group's own stop reaches it, there is nothing left to remove).
   */
  fence(g: ResourceGroup): void {
    g.resources.forEach((spec, r) => {
      if (spec.agent.kind !== 'builtin') return;
      runResource(spec, 'stop', this.context(10_000))
        .then((call) => {
          if (call.ok) this.resourceState(g.id, r, false);
          else this.log.crit(`Fence: could not remove ${spec.raw}: ${call.output.slice(0, 300)}`);
        })
        .catch((err: unknown) => this.log.crit(`Fence: could not remove ${spec.raw}: ${(err as Error).message}`));
    });
  }

  /** The copies of groups no longer ours (a reload removed them, and they are stopped). */
  forget(keep: (groupId: string) => boolean): void {
    for (const key of [...this.copies.keys()]) if (!keep(key.slice(0, key.lastIndexOf('#')))) this.copies.delete(key);
  }
}
