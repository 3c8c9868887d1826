// Hetzner Cloud: a floating IP pointed at a server through API v1. The server's id comes from
// the server metadata service (GET /hetzner/v1/metadata/instance-id). haresources may name the
// floating IP by id or by address; an address is looked up once in GET /v1/floating_ips (all
// pages). POST /v1/floating_ips/{id}/actions/assign {"server":ID} answers an action whose
// status goes from "running" to "success" (or "error"), polled at
// GET /v1/floating_ips/actions/{action id}.
import { CloudError } from './http.js';
import { ACTION_POLL_MS, type CloudIpProvider, type ProviderContext } from './provider.js';

export const HETZNER_API = 'https://api.hetzner.cloud';

type FloatingIp = { id?: number; ip?: string; server?: number | null };
type Action = { id?: number; status?: string; error?: { code?: string; message?: string } | null };
type ListBody = { floating_ips?: FloatingIp[]; meta?: { pagination?: { next_page?: number | null } } };

/** Pages of floating IPs read at most when looking an address up (50 each). */
const MAX_PAGES = 20;

export class Hetzner implements CloudIpProvider {
  readonly machineWord = 'server';
  /** Address -> floating IP id, per process. */
  private static readonly ids = new Map<string, string>();

  constructor(private readonly c: ProviderContext) {}

  private get base(): string {
    return `${this.c.spec.api ?? HETZNER_API}/v1`;
  }

  async whoAmI(): Promise<string> {
    const id = (await this.c.http.text({ operation: 'metadata_instance_id', method: 'GET', url: `${this.c.spec.metadata}/hetzner/v1/metadata/instance-id`, auth: false })).trim();
    if (!/^\d+$/.test(id)) throw new CloudError('bad_answer', `Hetzner metadata service: /hetzner/v1/metadata/instance-id answered "${id.slice(0, 40)}", not a server id`);
    return id;
  }

  private async id(): Promise<string> {
    const target = this.c.spec.target;
    if (/^\d+$/.test(target)) return target;
    const key = `${this.base} ${target}`;
    const known = Hetzner.ids.get(key);
    if (known) return known;
    for (let page = 1; page <= MAX_PAGES; page++) {
      const r = await this.c.http.json<ListBody>({ operation: 'list_floating_ips', method: 'GET', url: `${this.base}/floating_ips?page=${page}&per_page=50`, auth: true });
      const hit = r.body.floating_ips?.find((f) => f.ip === target);
      if (hit?.id !== undefined) {
        Hetzner.ids.set(key, String(hit.id));
        return String(hit.id);
      }
      if (!r.body.meta?.pagination?.next_page) break;
    }
    throw new CloudError('not_found', `Hetzner Cloud API: no floating IP ${target} in this project — check the address in haresources and the token's project`, 404);
  }

  async holder(): Promise<string | null> {
    const id = await this.id();
    const r = await this.c.http.json<{ floating_ip?: FloatingIp }>({ operation: 'get_floating_ip', method: 'GET', url: `${this.base}/floating_ips/${id}`, auth: true });
    const server = r.body.floating_ip?.server;
    return typeof server === 'number' ? String(server) : null;
  }

  async assign(server: string): Promise<void> {
    const id = await this.id();
    const what = `assign floating IP ${this.c.spec.target} to server ${server}`;
    const r = await this.c.http.json<{ action?: Action }>({ operation: 'assign', method: 'POST', url: `${this.base}/floating_ips/${id}/actions/assign`, body: { server: Number(server) }, auth: true });
    let action = r.body.action;
    if (typeof action?.id !== 'number') throw new CloudError('bad_answer', `Hetzner Cloud API: POST /v1/floating_ips/${id}/actions/assign answered without an action id`);
    const actionId = action.id;
    while (action?.status !== 'success') {
      if (action?.status === 'error') {
        const why = action.error ? `: ${action.error.code ?? ''} ${action.error.message ?? ''}`.trimEnd() : '';
        throw new CloudError('action_failed', `Hetzner action ${actionId} (${what}) ended in error${why}`);
      }
      if (this.c.http.remaining() < ACTION_POLL_MS) throw new CloudError('timeout', `Hetzner action ${actionId} (${what}) still "${action?.status}" when this call's time ran out`);
      await this.c.sleep(ACTION_POLL_MS);
      action = (await this.c.http.json<{ action?: Action }>({ operation: 'get_action', method: 'GET', url: `${this.base}/floating_ips/actions/${actionId}`, auth: true })).body.action;
    }
  }
}
