// The etcd arbiter's shell (ha.cf `arbiter etcd`; the rules are core/arbiter.ts's): one etcd
// lease for this node, kept alive by our own keep-alives so that we know when each was sent;
// our node key PREFIX/nodes/ME on it (peers read from it that our lease lives); and, for each
// group the core campaigns for, the key PREFIX/groups/ID taken when it is free (a create-if-absent
// transaction with our lease). What we learn goes to the core as news; its campaign and resign
// effects come back here. Reads older than a transaction of ours are ignored.
import { readFileSync } from 'node:fs';
import { Etcd3, EtcdLeaseInvalidError, type IKeyValue, type Lease, type Watcher } from 'etcd3';
import type { ArbiterCf } from '../config/arbiter-types.js';
import type { ResourceGroup } from '../config/types.js';
import { budget, type ArbiterNews, type ArbiterTuning } from '../core/arbiter.js';
import { arbiterNumbers, type TimeoutOf } from './arbiter-numbers.js';
import type * as Node from '../core/node.js';
import type { Logger } from '../lib/logger.js';

export interface ArbiterHost {
  me: string;
  log: Logger;
  /** The monotonic clock the core runs on. */
  now: () => number;
  tell: (news: ArbiterNews) => void;
}

/** Resolves with `p`, or rejects after `ms`: an etcd cut off by a firewall answers nothing. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export class EtcdArbiter {
  private readonly client: Etcd3;
  private lease: Lease | null = null;
  private leaseId: string | null = null;
  private nodeKeyPut = false;
  private timer: NodeJS.Timeout | null = null;
  private watcher: Watcher | null = null;
  private readonly campaigns = new Set<string>();
  private readonly held = new Map<string, number>();
  /** Keys of ours given back (resigned) and not yet seen gone: not ours to take again until then (a new campaign would win the old key just before its delete lands). */
  private readonly giving = new Set<string>();
  private present = '';
  /** The newest etcd revision a transaction of ours saw: a read older than it is old news. */
  private newest = 0;
  private busy = false;
  private again = false;
  private closed = false;
  /** Whether the last round reached etcd, for one log line per change. */
  private reached: boolean | null = null;

  constructor(
    private readonly cf: ArbiterCf,
    private readonly tuning: ArbiterTuning,
    private readonly host: ArbiterHost,
  ) {
    const tls = cf.tls.ca || cf.tls.cert ? { credentials: { rootCertificate: readFileSync(cf.tls.ca ?? '/etc/ssl/certs/ca-certificates.crt'), ...(cf.tls.cert && cf.tls.key ? { certChain: readFileSync(cf.tls.cert), privateKey: readFileSync(cf.tls.key) } : {}) } } : {};
    const callMs = tuning.keepaliveMs;
    this.client = new Etcd3({
      hosts: cf.endpoints,
      ...tls,
      dialTimeout: callMs,
      // Every unary call is bounded: a partitioned member must not hold a round for long.
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callMs }),
    });
  }

  private key(kind: 'nodes' | 'groups', name: string): string {
    return `${this.cf.prefix}${kind}/${encodeURIComponent(name)}`;
  }

  start(): void {
    this.round();
    this.timer = setInterval(() => this.round(), this.tuning.keepaliveMs);
    void this.client
      .watch()
      .prefix(this.cf.prefix)
      .create()
      .then((w) => {
        if (this.closed) return void w.cancel();
        this.watcher = w;
        // Any change under our prefix (a key freed, a node gone): look again now, not at the next round.
        w.on('put', () => this.round());
        w.on('delete', () => this.round());
        w.on('error', () => undefined);
      })
      .catch(() => undefined);
  }

  /** The fencing token for a group's agents: the revision at which we took its key. */
  envFor(groupId: string): Record<string, string> | undefined {
    const rev = this.held.get(groupId);
    return rev === undefined ? undefined : { HA_ARBITER_REVISION: String(rev) };
  }

  /** The core's campaign and resign effects (group numbers are the step's). */
  effect(e: Node.NodeEffect, state: Node.NodeState): void {
    if (e.kind !== 'arbiter-campaign' && e.kind !== 'arbiter-resign') return;
    const id = e.id;
    if (this.closed) return;
    if (e.kind === 'arbiter-campaign') {
      this.campaigns.add(id);
      this.round();
    } else {
      this.campaigns.delete(id);
      if (this.held.delete(id)) this.giving.add(id);
      this.round(); // the next read gives the key back
    }
  }

  /** One round: the lease kept alive (or granted), then what etcd holds under our prefix. Rounds never overlap. */
  private round(): void {
    if (this.closed) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    void this.renew()
      .then(() => this.read())
      .then(
        () => this.reachedEtcd(true, ''),
        (err: unknown) => this.reachedEtcd(false, (err as Error).message),
      )
      .finally(() => {
        this.busy = false;
        if (this.again && !this.closed) {
          this.again = false;
          this.round();
        }
      });
  }

  private reachedEtcd(ok: boolean, why: string): void {
    if (this.reached === ok) return;
    this.reached = ok;
    if (ok) this.host.log.info(`arbiter: etcd reached (${this.cf.endpoints.join(', ')}); lease ${this.leaseId}.`);
    else this.host.log.warn(`arbiter: etcd not reached (${why}); our lease is counted on until its last answered keep-alive + TTL - margin.`);
  }

  private async renew(): Promise<void> {
    const ms = this.tuning.keepaliveMs;
    const sentAt = this.host.now();
    if (!this.lease) {
      const lease = this.client.lease(Math.round(this.tuning.ttlMs / 1000), { autoKeepAlive: false });
      lease.on('lost', () => undefined);
      try {
        this.leaseId = await within(lease.grant(), ms, 'lease grant');
      } catch (err) {
        lease.release();
        throw err;
      }
      this.lease = lease;
      this.nodeKeyPut = false;
      this.host.tell({ kind: 'renewed', sentAt });
    } else {
      await this.keepalive(this.lease);
    }
    if (!this.nodeKeyPut) {
      await within(this.lease!.put(this.key('nodes', this.host.me)).value(this.host.me).exec(), ms, 'node key');
      this.nodeKeyPut = true;
    }
  }

  /**
   * One keep-alive, tried on up to as many members as there are endpoints within the interval:
   * each attempt goes to a member drawn by the client, and one that is down fails at once.
   */
  private async keepalive(lease: Lease): Promise<void> {
    const each = Math.max(100, Math.floor(this.tuning.keepaliveMs / (this.cf.endpoints.length + 1)));
    let last: unknown = null;
    for (let attempt = 0; attempt < this.cf.endpoints.length; attempt++) {
      const sentAt = this.host.now();
      try {
        await within(lease.keepaliveOnce({ deadline: Date.now() + each }), each, 'keep-alive');
        this.host.tell({ kind: 'renewed', sentAt });
        return;
      } catch (err) {
        if (err instanceof EtcdLeaseInvalidError) {
          this.lost();
          throw err;
        }
        last = err;
      }
    }
    throw last;
  }

  /** etcd no longer knows our lease: our keys went with it. A new lease is granted at once. */
  private lost(): void {
    this.host.log.warn(`arbiter: etcd no longer knows our lease ${this.leaseId}: our keys are gone with it; asking for a new lease.`);
    this.lease?.release();
    this.lease = null;
    this.leaseId = null;
    this.held.clear();
    this.giving.clear();
    this.campaigns.clear();
    this.host.tell({ kind: 'lost' });
    this.again = true;
  }

  private async read(): Promise<void> {
    const res = await this.client.getAll().prefix(this.cf.prefix).exec();
    if (Number(res.header.revision) < this.newest) return;
    this.newest = Number(res.header.revision);
    const kvs = new Map(res.kvs.map((kv) => [kv.key.toString(), kv]));
    const nodes = res.kvs.flatMap((kv) => (kv.key.toString().startsWith(`${this.cf.prefix}nodes/`) ? [decodeURIComponent(kv.key.toString().slice(this.cf.prefix.length + 6))] : []));
    const present = nodes.sort().join(' ');
    if (present !== this.present) {
      this.present = present;
      this.host.tell({ kind: 'present', nodes });
    }
    for (const id of [...this.held.keys()]) {
      const kv = kvs.get(this.key('groups', id));
      if (kv && kv.lease === this.leaseId) continue;
      this.held.delete(id);
      this.host.log.warn(`arbiter: the etcd key of group ${id} is gone or another node's (${kv ? kv.value.toString() : 'deleted'}).`);
      this.host.tell({ kind: 'key', group: id, revision: null });
    }
    // A key of ours that the core no longer wants (a campaign won after its resignation): give it back.
    for (const [k, kv] of kvs) {
      const id = k.startsWith(`${this.cf.prefix}groups/`) ? decodeURIComponent(k.slice(this.cf.prefix.length + 7)) : null;
      if (id !== null && kv.lease === this.leaseId && !this.held.has(id) && (this.giving.has(id) || !this.campaigns.has(id))) await this.client.if(k, 'Create', '==', kv.create_revision).then(this.client.delete().key(k)).commit(); // as read: never a key taken again since
    }
    for (const id of this.giving) if (kvs.get(this.key('groups', id))?.lease !== this.leaseId) this.giving.delete(id);
    for (const id of this.campaigns) {
      if (this.held.has(id) || this.giving.has(id)) continue;
      const kv = kvs.get(this.key('groups', id));
      if (!kv) await this.campaign(id);
      else if (kv.lease === this.leaseId) this.won(id, kv);
    }
  }

  /** Takes the group's key if it is free: create-if-absent, with our lease. */
  private async campaign(id: string): Promise<void> {
    if (!this.leaseId) return;
    const key = this.key('groups', id);
    const res = await this.client.if(key, 'Create', '==', 0).then(this.client.put(key).value(this.host.me).lease(this.leaseId)).else(this.client.get(key)).commit();
    this.newest = Math.max(this.newest, Number(res.header.revision));
    if (res.succeeded) return this.won(id, { create_revision: res.header.revision } as IKeyValue);
    const kv = res.responses[0]?.response_range?.kvs[0];
    if (kv && kv.lease === this.leaseId) this.won(id, kv);
  }

  private won(id: string, kv: Pick<IKeyValue, 'create_revision'>): void {
    if (!this.campaigns.has(id)) return; // resigned meanwhile
    const revision = Number(kv.create_revision);
    this.held.set(id, revision);
    this.host.log.info(`arbiter: we hold the etcd key of group ${id} (revision ${revision}).`);
    this.host.tell({ kind: 'key', group: id, revision });
  }

  /** Stops the rounds; `revoke`: give our lease (and every key on it) back at once, as on a clean shutdown. */
  async close(revoke: boolean): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.watcher?.cancel().catch(() => undefined);
    if (revoke && this.lease) await within(this.lease.revoke(), this.tuning.keepaliveMs, 'lease revoke').catch(() => undefined);
    else this.lease?.release();
    this.client.close();
  }
}

/**
 * `arbiter etcd` at start-up: the numbers checked and explained in one log line (hbd does not
 * start when they do not fit: it throws that line), then our lease and keys in etcd.
 */
export function startArbiter(cf: ArbiterCf, groups: readonly ResourceGroup[], timeoutOf: TimeoutOf, host: ArbiterHost): EtcdArbiter {
  const n = arbiterNumbers(cf, groups, timeoutOf);
  const b = budget(n.tuning, n.stopWhat);
  if (!b.ok) throw new Error(b.line);
  host.log.info(b.line);
  const arbiter = new EtcdArbiter(cf, n.tuning, host);
  arbiter.start();
  return arbiter;
}
