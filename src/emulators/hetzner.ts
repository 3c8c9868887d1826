// An emulator of the parts of the Hetzner Cloud API v1 and server metadata service that a
// floating-IP failover uses, following the public API reference:
//
//   GET  /v1/floating_ips?page=&per_page=              200 {"floating_ips": [...], "meta": {"pagination": {page, per_page,
//                                                      previous_page, next_page, last_page, total_entries}}}
//   GET  /v1/floating_ips/{id}                         200 {"floating_ip": {id, name, description, ip, type:"ipv4", server|null,
//                                                      dns_ptr, home_location, blocked, protection, labels, created}} | 404
//   POST /v1/floating_ips/{id}/actions/assign          {"server": N}  201 {"action": {id, command:"assign_floating_ip",
//                                                      status:"running", progress:0, started, finished:null,
//                                                      resources:[{id,type:"server"},{id,type:"floating_ip"}], error:null}}
//   POST /v1/floating_ips/{id}/actions/unassign        201 {"action": {command:"unassign_floating_ip", ...}}
//   GET  /v1/floating_ips/actions/{id}, /v1/floating_ips/{id}/actions/{action_id}, /v1/actions/{id}
//                                                      200 {"action": ...}: "running", then "success" (progress 100)
//   errors                                             {"error": {"code": "not_found"|"unauthorized"|"invalid_input"|
//                                                      "locked"|"rate_limit_exceeded"|"server_error", "message", "details"}};
//                                                      423 locked while an action on the address runs
//   every answer                                       RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (Unix seconds)
//   metadata: GET /hetzner/v1/metadata/instance-id, /hetzner/v1/metadata/hostname, /hetzner/v1/metadata/public-ipv4
//
// Not covered: creating, deleting and labelling floating IPs, label selectors, sorting, IPv6,
// DNS pointers, protection.
import { EmulatedCloud, isoNow, type ApiAnswer, type EmulatorHooks, type Machine } from './api-server.js';

interface Action {
  id: number;
  command: 'assign_floating_ip' | 'unassign_floating_ip';
  status: 'running' | 'success' | 'error';
  progress: number;
  started: string;
  finished: string | null;
  resources: { id: number; type: string }[];
  error: { code: string; message: string } | null;
}

export interface HetznerOptions {
  token: string;
  servers: Machine[];
  ips: { ip: string; id: number; server: string | null }[];
  actionMs?: number;
}

const LOCATION = { id: 1, name: 'fsn1', description: 'Falkenstein DC Park 1', country: 'DE', city: 'Falkenstein', latitude: 50.47612, longitude: 12.370071, network_zone: 'eu-central' };

export class HetznerEmulator extends EmulatedCloud {
  private readonly ips = new Map<number, { ip: string; server: string | null; locked: boolean }>();
  private readonly actions = new Map<number, Action>();
  private nextAction = 13;
  protected readonly words = {
    unauthorized: ['unauthorized', 'unable to authenticate'] as [string, string],
    rateLimited: ['rate_limit_exceeded', 'limit of 3600 requests per hour reached'] as [string, string],
    serverError: ['server_error', 'an internal error occurred'] as [string, string],
  };

  constructor(
    private readonly o: HetznerOptions,
    hooks: EmulatorHooks = {},
  ) {
    super(o.token, o.servers, hooks, 3600);
    for (const r of o.ips) this.ips.set(r.id, { ip: r.ip, server: r.server, locked: false });
  }

  holder(id: number): string | null {
    return this.ips.get(id)?.server ?? null;
  }

  protected error(_status: number, code: string, message: string): unknown {
    return { error: { code, message, details: {} } };
  }

  protected rateHeaders(remaining: number, resetAtS: number): Record<string, string> {
    return { 'RateLimit-Limit': String(this.limit), 'RateLimit-Remaining': String(remaining), 'RateLimit-Reset': String(resetAtS) };
  }

  protected metadata(path: string, m: Machine | null): ApiAnswer {
    if (!m) return { status: 404, text: 'not found' };
    const answers: Record<string, string> = {
      '/hetzner/v1/metadata/instance-id': m.id,
      '/hetzner/v1/metadata/hostname': m.name,
      '/hetzner/v1/metadata/public-ipv4': m.address,
    };
    const text = answers[path];
    return text === undefined ? { status: 404, text: 'not found' } : { status: 200, text };
  }

  private notFound(what = 'resource'): ApiAnswer {
    return { status: 404, body: this.error(404, 'not_found', `${what} not found`) };
  }

  private fipObject(id: number): unknown {
    const s = this.ips.get(id)!;
    return {
      id,
      name: `fip-${id}`,
      description: null,
      ip: s.ip,
      type: 'ipv4',
      server: s.server === null ? null : Number(s.server),
      dns_ptr: [{ ip: s.ip, dns_ptr: `static.${s.ip.split('.').reverse().join('.')}.clients.your-server.de` }],
      home_location: LOCATION,
      blocked: false,
      protection: { delete: false },
      labels: {},
      created: '2016-01-30T23:50:00Z',
    };
  }

  protected api(method: string, url: URL, body: unknown): ApiAnswer {
    const p = url.pathname.split('/').filter(Boolean);
    if (p[0] !== 'v1') return this.notFound();
    if (method === 'GET' && p[1] === 'actions' && p.length === 3) return this.action(Number(p[2]));
    if (p[1] !== 'floating_ips') return this.notFound();
    if (method === 'GET' && p.length === 2) return this.list(url);
    if (method === 'GET' && p[2] === 'actions' && p.length === 4) return this.action(Number(p[3]));
    const id = Number(p[2]);
    if (!this.ips.has(id)) return this.notFound(`Floating IP with ID ${p[2] ?? ''}`);
    if (method === 'GET' && p.length === 3) return { status: 200, body: { floating_ip: this.fipObject(id) } };
    if (p[3] !== 'actions') return this.notFound();
    if (method === 'GET' && p.length === 5) return this.action(Number(p[4]));
    if (method === 'POST' && p.length === 5 && (p[4] === 'assign' || p[4] === 'unassign')) return this.post(id, p[4], body);
    return this.notFound();
  }

  private list(url: URL): ApiAnswer {
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
    const per = Math.min(50, Math.max(1, Number(url.searchParams.get('per_page') ?? 25) || 25));
    const all = [...this.ips.keys()];
    const last = Math.max(1, Math.ceil(all.length / per));
    return {
      status: 200,
      body: {
        floating_ips: all.slice((page - 1) * per, page * per).map((id) => this.fipObject(id)),
        meta: { pagination: { page, per_page: per, previous_page: page > 1 ? page - 1 : null, next_page: page < last ? page + 1 : null, last_page: last, total_entries: all.length } },
      },
    };
  }

  private action(id: number): ApiAnswer {
    const a = this.actions.get(id);
    return a ? { status: 200, body: { action: a } } : this.notFound(`action with ID ${id}`);
  }

  private post(id: number, what: 'assign' | 'unassign', body: unknown): ApiAnswer {
    const state = this.ips.get(id)!;
    let target: Machine | null = null;
    if (what === 'assign') {
      const server = (body as { server?: unknown } | undefined)?.server;
      target = typeof server === 'number' ? this.machineById(String(server)) : null;
      if (!target) return { status: 400, body: { error: { code: 'invalid_input', message: "invalid input in field 'server'", details: { fields: [{ name: 'server', messages: ['server not found'] }] } } } };
    }
    if (state.locked) return { status: 423, body: this.error(423, 'locked', 'Floating IP is locked by a running action') };
    const action: Action = {
      id: this.nextAction++,
      command: what === 'assign' ? 'assign_floating_ip' : 'unassign_floating_ip',
      status: 'running',
      progress: 0,
      started: isoNow(),
      finished: null,
      resources: [...(target ? [{ id: Number(target.id), type: 'server' }] : []), { id, type: 'floating_ip' }],
      error: null,
    };
    this.actions.set(action.id, action);
    state.locked = true;
    setTimeout(() => {
      state.server = target?.id ?? null;
      state.locked = false;
      action.status = 'success';
      action.progress = 100;
      action.finished = isoNow();
      this.hooks.assigned?.(state.ip, target);
    }, this.o.actionMs ?? 300);
    return { status: 201, body: { action: { ...action } } };
  }
}
