// The virtual IPs of our groups, where the daemon handles them outside the order of a group's
// start and stop: which copy each resource holds (so the address guard holds exactly those),
// announcing them again after a conflict, and taking them down at once at a fence. Groups are
// named by id: a reload may renumber them, never rename them.
//
// A cloud address is re-asserted by a provider call that may outlast the group's tenure here
// (rate limits, retries): it assigns only while the core still runs the resource here, and the
// core's stop of that resource waits for an assignment in flight, so every call this node makes
// for it reaches the provider before the node that takes the group over makes its own.
import { ipAddrAgent, runResource, type AgentCall, type AgentContext, type HeldAddress } from '../agents/index.js';
import type { ResourceGroup } from '../config/types.js';
import type { AddressGuard } from './guard.js';
import type { Logger } from './log.js';

/** A re-assignment after a healed partition: a few API calls with their retries. */
const REASSIGN_TIMEOUT_MS = 30_000;

type RunResource = (spec: ResourceGroup['resources'][number], action: 'start' | 'status', ctx: AgentContext) => Promise<AgentCall>;

const key = (groupId: string, resource: number): string => `${groupId}#${resource}`;

export class GroupAddresses {
  /** By "group id#resource index". */
  private readonly copies = new Map<string, HeldAddress>();
  /** Resources the core runs here and has not begun to stop. */
  private readonly running = new Set<string>();
  /** Re-assignments of cloud addresses in flight. */
  private readonly assigning = new Map<string, Promise<void>>();

  constructor(
    private readonly guard: () => AddressGuard | null,
    private readonly context: (timeoutMs: number) => AgentContext,
    private readonly log: Logger,
    private readonly run: RunResource = runResource,
  ) {}

  /** An agent call reported the copy of a virtual IP its resource holds. */
  noteCopy(groupId: string, resource: number, address: HeldAddress): void {
    this.copies.set(key(groupId, resource), address);
  }

  /** A resource now runs here, or no longer (the core's word): the guard follows. */
  resourceState(groupId: string, resource: number, running: boolean): void {
    if (running) this.running.add(key(groupId, resource));
    else this.running.delete(key(groupId, resource));
    const address = this.copies.get(key(groupId, resource));
    const guard = this.guard();
    if (!address || !guard) return;
    if (running) guard.hold(address);
    else guard.release(address);
  }

  /** Announce the group's addresses again: the LAN may still point at `from`. */
  reassert(g: ResourceGroup, from: string, why: 'released' | 'returned'): void {
    const because = why === 'released' ? `${from} no longer holds it` : `${from} is back and may have announced it while we could not hear it`;
    this.log.info(`Resource group ${g.id}: ${because}; announcing its addresses again.`);
    g.resources.forEach((spec, r) => {
      if (spec.agent.kind === 'cloud') this.reassign(g.id, r, spec);
      if (spec.agent.kind !== 'builtin') return;
      void ipAddrAgent.reannounce({ ...spec, agent: spec.agent }, this.context(10_000)).catch((err: unknown) => this.log.error(`${spec.raw}: ${(err as Error).message}`));
    });
  }

  /**
   * The core begins to stop a resource here: no re-assignment may start from now on, and the
   * stop waits for one in flight (resolves when there is none).
   */
  stopping(groupId: string, resource: number): Promise<void> {
    this.running.delete(key(groupId, resource));
    return this.assigning.get(key(groupId, resource)) ?? Promise.resolve();
  }

  /**
   * A cloud address is announced by its provider, not by ARP: while we could not hear `from`,
   * it may have pointed the address at itself. Ask the provider, and point it back here only
   * when it points elsewhere (a status first, so the usual case sends no assignment that could
   * race with a failback right after).
   */
  private reassign(groupId: string, resource: number, spec: ResourceGroup['resources'][number]): void {
    const k = key(groupId, resource);
    void (async () => {
      const status = await this.run(spec, 'status', this.context(REASSIGN_TIMEOUT_MS));
      if (!status.ok || status.running) return;
      if (!this.running.has(k)) {
        this.log.info(`${spec.raw}: the provider points the address elsewhere, and this node no longer runs it: leaving it there.`);
        return;
      }
      if (this.assigning.has(k)) return;
      this.log.warn(`${spec.raw}: the provider points the address elsewhere although this node holds the group: assigning it here again.`);
      const assigned = this.run(spec, 'start', this.context(REASSIGN_TIMEOUT_MS)).then(
        (start) => {
          if (!start.ok) this.log.error(`${spec.raw}: could not assign the address here again; see the lines above.`);
        },
        (err: unknown) => this.log.error(`${spec.raw}: ${(err as Error).message}`),
      );
      this.assigning.set(k, assigned);
      await assigned;
      this.assigning.delete(k);
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
    for (const k of [...this.copies.keys()]) if (!keep(k.slice(0, k.lastIndexOf('#')))) this.copies.delete(k);
    for (const k of [...this.running]) if (!keep(k.slice(0, k.lastIndexOf('#')))) this.running.delete(k);
  }
}
