// DigitalOcean: a reserved IP (called floating IP before 2022) pointed at a droplet through
// API v2. The droplet's id comes from the droplet metadata service (GET /metadata/v1/id). The
// address is looked up under /v2/reserved_ips first and, when the account answers 404 there,
// under the older /v2/floating_ips the seed tutorial's script uses; the one that answered is
// used from then on. An assignment is an action (POST .../actions {"type":"assign",
// "droplet_id":ID}) whose status goes from "in-progress" to "completed" (or "errored"); it is
// polled until it ends.
import { CloudError } from './http.js';
import { ACTION_POLL_MS, type CloudIpProvider, type ProviderContext } from './provider.js';

export const DIGITALOCEAN_API = 'https://api.digitalocean.com';

type Collection = 'reserved_ips' | 'floating_ips';
type IpBody = { reserved_ip?: IpObject; floating_ip?: IpObject };
type IpObject = { ip?: string; droplet?: { id?: number } | null };
type ActionBody = { action?: { id?: number; status?: string } };

export class DigitalOcean implements CloudIpProvider {
  readonly machineWord = 'droplet';
  /** Which collection answers for this address; remembered per process. */
  private static readonly collection = new Map<string, Collection>();

  constructor(private readonly c: ProviderContext) {}

  private get base(): string {
    return this.c.spec.api ?? DIGITALOCEAN_API;
  }

  private get ip(): string {
    return this.c.spec.target;
  }

  async whoAmI(): Promise<string> {
    const text = await this.c.http.text({ operation: 'metadata_id', method: 'GET', url: `${this.c.spec.metadata}/metadata/v1/id`, auth: false });
    const id = text.trim();
    if (!/^\d+$/.test(id)) throw new CloudError('bad_answer', `DigitalOcean metadata service: /metadata/v1/id answered "${id.slice(0, 40)}", not a droplet id`);
    return id;
  }

  /** The address's object, from whichever collection knows it. */
  private async lookup(): Promise<{ collection: Collection; ip: IpObject }> {
    const known = DigitalOcean.collection.get(`${this.base} ${this.ip}`);
    const order: Collection[] = known ? [known] : ['reserved_ips', 'floating_ips'];
    for (const collection of order) {
      const r = await this.c.http.json<IpBody>({ operation: `get_${collection.slice(0, -1)}`, method: 'GET', url: `${this.base}/v2/${collection}/${this.ip}`, auth: true, accept: [404] });
      if (r.status === 404) continue;
      const ip = r.body.reserved_ip ?? r.body.floating_ip;
      if (!ip) throw new CloudError('bad_answer', `DigitalOcean API: GET /v2/${collection}/${this.ip} answered without a ${collection.slice(0, -1)} object`);
      DigitalOcean.collection.set(`${this.base} ${this.ip}`, collection);
      return { collection, ip };
    }
    throw new CloudError('not_found', `DigitalOcean API: ${this.ip} is neither a reserved IP nor a floating IP of this account (404 from /v2/reserved_ips and /v2/floating_ips) — check the address in haresources and the token's account`, 404);
  }

  async holder(): Promise<string | null> {
    const { ip } = await this.lookup();
    const id = ip.droplet?.id;
    return typeof id === 'number' ? String(id) : null;
  }

  async assign(droplet: string): Promise<void> {
    const { collection } = await this.lookup();
    const url = `${this.base}/v2/${collection}/${this.ip}/actions`;
    const posted = await this.c.http.json<ActionBody>({ operation: 'assign', method: 'POST', url, body: { type: 'assign', droplet_id: Number(droplet) }, auth: true });
    let action = posted.body.action;
    if (typeof action?.id !== 'number') throw new CloudError('bad_answer', `DigitalOcean API: POST /v2/${collection}/${this.ip}/actions answered without an action id`);
    const id = action.id;
    this.c.log('debug', `DigitalOcean action ${id} (assign ${this.ip} to droplet ${droplet}): ${action.status}`);
    while (action?.status !== 'completed') {
      if (action?.status === 'errored') throw new CloudError('action_failed', `DigitalOcean action ${id} (assign ${this.ip} to droplet ${droplet}) ended "errored"`);
      if (this.c.http.remaining() < ACTION_POLL_MS) throw new CloudError('timeout', `DigitalOcean action ${id} (assign ${this.ip} to droplet ${droplet}) still "${action?.status}" when this call's time ran out`);
      await this.c.sleep(ACTION_POLL_MS);
      action = (await this.c.http.json<ActionBody>({ operation: 'get_action', method: 'GET', url: `${url}/${id}`, auth: true })).body.action;
    }
  }
}
