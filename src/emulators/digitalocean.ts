// An emulator of the parts of DigitalOcean's API v2 and droplet metadata service that a
// floating-IP failover uses, following the public API reference:
//
//   GET  /v2/reserved_ips/{ip}                    200 {"reserved_ip": {ip, region, droplet|null, locked, project_id}} | 404
//   POST /v2/reserved_ips/{ip}/actions            {"type":"assign","droplet_id":N} | {"type":"unassign"}
//                                                 201 {"action": {id, status:"in-progress", type:"assign_ip"|"unassign_ip",
//                                                 started_at, completed_at:null, resource_id, resource_type:"reserved_ip",
//                                                 region, region_slug}}; 422 for an unknown droplet, a bad type or a
//                                                 pending action on the address
//   GET  /v2/reserved_ips/{ip}/actions/{id}       200 {"action": ...}: "in-progress", then "completed" once done
//   the same three under /v2/floating_ips (key "floating_ip", resource_type "floating_ip"), and GET /v2/actions/{id}
//   errors                                        {"id": "not_found"|"unauthorized"|"unprocessable_entity"|
//                                                 "too_many_requests"|"server_error", "message": ..., "request_id"}
//   every answer                                  ratelimit-limit, ratelimit-remaining, ratelimit-reset (Unix seconds)
//   metadata: GET /metadata/v1/id, /metadata/v1/hostname, /metadata/v1/interfaces/public/0/ipv4/address (text)
//
// Not covered: listing, creating and deleting reserved IPs, projects, pagination, IPv6, the
// per-minute burst limit. `legacyOnly` plays an account that answers only /v2/floating_ips.
import { randomUUID } from 'node:crypto';
import { EmulatedCloud, isoNow, type ApiAnswer, type EmulatorHooks, type Machine } from './api-server.js';

type Collection = 'reserved_ips' | 'floating_ips';

interface Action {
  id: number;
  status: 'in-progress' | 'completed' | 'errored';
  type: 'assign_ip' | 'unassign_ip';
  started_at: string;
  completed_at: string | null;
  resource_id: number;
  resource_type: 'reserved_ip' | 'floating_ip';
  region: { name: string; slug: string; available: boolean };
  region_slug: string;
}

export interface DigitalOceanOptions {
  token: string;
  droplets: Machine[];
  /** Reserved IPs and the droplet each points at first (null: unassigned). */
  ips: { ip: string; droplet: string | null }[];
  /** How long an action stays "in-progress" (DigitalOcean takes a few seconds). */
  actionMs?: number;
  /** Only /v2/floating_ips answers (an account from before reserved IPs). */
  legacyOnly?: boolean;
}

const REGION = { name: 'New York 3', slug: 'nyc3', available: true };

const ipNumber = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);

export class DigitalOceanEmulator extends EmulatedCloud {
  private readonly ips = new Map<string, { droplet: string | null; locked: boolean }>();
  private readonly actions = new Map<number, Action>();
  private nextAction = 1_000_001;
  protected readonly words = {
    unauthorized: ['unauthorized', 'Unable to authenticate you'] as [string, string],
    rateLimited: ['too_many_requests', 'API Rate limit exceeded.'] as [string, string],
    serverError: ['server_error', 'Server was unable to give you a response.'] as [string, string],
  };

  constructor(
    private readonly o: DigitalOceanOptions,
    hooks: EmulatorHooks = {},
  ) {
    super(o.token, o.droplets, hooks, 5000);
    for (const r of o.ips) this.ips.set(r.ip, { droplet: r.droplet, locked: false });
  }

  /** The droplet an address points at now (null: none), as the emulator's state says. */
  holder(ip: string): string | null {
    return this.ips.get(ip)?.droplet ?? null;
  }

  protected error(_status: number, id: string, message: string): unknown {
    return { id, message, request_id: randomUUID() };
  }

  protected rateHeaders(remaining: number, resetAtS: number): Record<string, string> {
    return { 'ratelimit-limit': String(this.limit), 'ratelimit-remaining': String(remaining), 'ratelimit-reset': String(resetAtS) };
  }

  protected metadata(path: string, m: Machine | null): ApiAnswer {
    if (!m) return { status: 404, text: 'not found' };
    const answers: Record<string, string> = {
      '/metadata/v1/id': m.id,
      '/metadata/v1/hostname': m.name,
      '/metadata/v1/interfaces/public/0/ipv4/address': m.address,
    };
    const text = answers[path];
    return text === undefined ? { status: 404, text: 'not found' } : { status: 200, text };
  }

  private notFound(): ApiAnswer {
    return { status: 404, body: this.error(404, 'not_found', 'The resource you were accessing could not be found.') };
  }

  private unprocessable(message: string): ApiAnswer {
    return { status: 422, body: this.error(422, 'unprocessable_entity', message) };
  }

  private ipObject(ip: string): unknown {
    const s = this.ips.get(ip)!;
    const d = s.droplet ? this.machineById(s.droplet) : null;
    return { ip, region: REGION, droplet: d ? { id: Number(d.id), name: d.name, status: 'active' } : null, locked: s.locked, project_id: '00000000-0000-4000-8000-000000000000' };
  }

  protected api(method: string, url: URL, body: unknown): ApiAnswer {
    const p = url.pathname.split('/').filter(Boolean);
    if (p[0] !== 'v2') return this.notFound();
    if (method === 'GET' && p[1] === 'actions' && p.length === 3) return this.action(Number(p[2]));
    const coll = p[1] as Collection;
    if (coll !== 'reserved_ips' && coll !== 'floating_ips') return this.notFound();
    if (coll === 'reserved_ips' && this.o.legacyOnly) return this.notFound();
    const ip = p[2] ?? '';
    if (!this.ips.has(ip)) return this.notFound();
    const key = coll === 'reserved_ips' ? 'reserved_ip' : 'floating_ip';
    if (method === 'GET' && p.length === 3) return { status: 200, body: { [key]: this.ipObject(ip) } };
    if (p[3] !== 'actions') return this.notFound();
    if (method === 'GET' && p.length === 5) return this.action(Number(p[4]));
    if (method === 'POST' && p.length === 4) return this.post(ip, key, body);
    return this.notFound();
  }

  private action(id: number): ApiAnswer {
    const a = this.actions.get(id);
    return a ? { status: 200, body: { action: a } } : this.notFound();
  }

  private post(ip: string, key: 'reserved_ip' | 'floating_ip', body: unknown): ApiAnswer {
    const b = (body ?? {}) as { type?: unknown; droplet_id?: unknown };
    const state = this.ips.get(ip)!;
    if (b.type !== 'assign' && b.type !== 'unassign') return this.unprocessable('Action type must be one of: assign, unassign.');
    let target: Machine | null = null;
    if (b.type === 'assign') {
      target = typeof b.droplet_id === 'number' ? this.machineById(String(b.droplet_id)) : null;
      if (!target) return this.unprocessable('Droplet ID is not valid.');
    }
    if (state.locked) return this.unprocessable('Reserved IP has a pending event.');
    const action: Action = {
      id: this.nextAction++,
      status: 'in-progress',
      type: b.type === 'assign' ? 'assign_ip' : 'unassign_ip',
      started_at: isoNow(),
      completed_at: null,
      resource_id: ipNumber(ip),
      resource_type: key,
      region: REGION,
      region_slug: REGION.slug,
    };
    this.actions.set(action.id, action);
    state.locked = true;
    setTimeout(() => {
      state.droplet = target?.id ?? null;
      state.locked = false;
      action.status = 'completed';
      action.completed_at = isoNow();
      this.hooks.assigned?.(ip, target);
    }, this.o.actionMs ?? 300);
    return { status: 201, body: { action: { ...action } } };
  }
}
