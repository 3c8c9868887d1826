// The built-in cloud IP agents (DigitalOceanIP, HetznerFloatingIP, AWSElasticIP,
// AWSSecondaryIP) as resource agents: `start` points the address at this machine and succeeds
// only once the provider says it is done; `status` asks the provider whether the address points
// here; `stop` leaves the assignment alone, as the seed's floatip script does (whichever node
// starts the group next takes the address; unassigning first would only add an outage).
// Everything one call does happens before its deadline (the agent timeout), so a hung API is a
// failed start and the group's usual rollback and failover follow.
import { performance } from 'node:perf_hooks';
import type { CloudIpSpec } from '../../config/cloud.js';
import { readCloudSecret, type CloudSecret } from '../../config/cloud-secret.js';
import type { ResourceSpec } from '../../config/types.js';
import type { AgentAction, AgentCall, AgentContext, HeldAddress } from '../types.js';
import { DigitalOcean } from './digitalocean.js';
import { Hetzner } from './hetzner.js';
import { CloudError, CloudHttp, realHttpDeps, type HttpDeps } from './http.js';
import type { CloudIpProvider, ProviderContext } from './provider.js';

type CloudSpec = ResourceSpec & { agent: { kind: 'cloud'; cloud: CloudIpSpec } };

/** What the AWS secondary IP adds on the host: the address itself (see aws.ts). */
export interface LocalAddress {
  ensure(): Promise<HeldAddress>;
  present(): Promise<HeldAddress | null>;
  remove(): Promise<void>;
}

export interface CloudAgentDeps {
  http: HttpDeps;
  /** Makes the provider for a call; tests may substitute one. */
  provider: (c: ProviderContext) => Promise<CloudIpProvider>;
  /** AWSSecondaryIP's address on this host; null for the others. */
  local: (spec: CloudIpSpec, ctx: AgentContext) => Promise<LocalAddress | null>;
}

/** Time kept back from the agent timeout, so the call ends (and says why) before it is cut off. */
const DEADLINE_MARGIN_MS = 200;

async function defaultProvider(c: ProviderContext): Promise<CloudIpProvider> {
  switch (c.spec.provider) {
    case 'digitalocean':
      return new DigitalOcean(c);
    case 'hetzner':
      return new Hetzner(c);
    case 'aws': {
      // The AWS SDK is large: loaded only by nodes that use it. Its multi-line warning about
      // Node versions it will drop would land in hbd's log on every start: not ours to print.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const { Aws } = await import('./aws.js');
      return new Aws(c);
    }
  }
}

async function defaultLocal(spec: CloudIpSpec, ctx: AgentContext): Promise<LocalAddress | null> {
  if (!spec.local) return null;
  const { HostAddress } = await import('./host-address.js');
  return new HostAddress(spec.local, ctx);
}

export class CloudIpAgent {
  /** This machine's id per provider and metadata URL: it never changes while hbd runs. */
  private readonly me = new Map<string, string>();
  private readonly deps: CloudAgentDeps;

  constructor(deps: Partial<CloudAgentDeps> = {}) {
    this.deps = { http: deps.http ?? realHttpDeps, provider: deps.provider ?? defaultProvider, local: deps.local ?? defaultLocal };
  }

  async run(spec: CloudSpec, action: AgentAction, ctx: AgentContext): Promise<AgentCall> {
    const started = performance.now();
    const cloud = spec.agent.cloud;
    const tag = cloud.kind;
    const lines: string[] = [];
    let secret: CloudSecret | null = null;
    // Belt and braces: whatever a provider's error text holds, a log line never shows the secret.
    const hide = (text: string): string => {
      let t = text;
      for (const s of secretStrings(secret)) t = t.split(s).join('(redacted)');
      return t;
    };
    const say = (level: 'info' | 'warn' | 'error' | 'debug', text: string): void => {
      const t = hide(text);
      if (level !== 'debug') lines.push(t);
      ctx.log(level, `${tag}: ${t}`, tag);
    };
    const base = { resource: spec.raw, action, argv: [spec.name, ...spec.args, action], signal: null };
    // Exit codes as a resource.d wrapper's (IPaddr's): 0 done, 1 failed, 7 (OCF_NOT_RUNNING) for a status that found it elsewhere.
    const finish = (ok: boolean, extra: Partial<AgentCall> = {}): AgentCall => ({
      ...base,
      exitCode: !ok ? 1 : extra.running === false ? 7 : 0,
      timedOut: false,
      output: lines.join('\n'),
      durationMs: performance.now() - started,
      ok,
      ...extra,
    });

    try {
      const local = await this.deps.local(cloud, ctx);
      if (action === 'stop') {
        if (local) await local.remove();
        say('info', `${cloud.target}: left assigned here until another node takes it (the provider moves it on that node's start)`);
        return finish(true);
      }
      if (cloud.secretFile) {
        const s = await readCloudSecret(cloud.secretFile, cloud.provider);
        if (!s.ok) throw new CloudError('unauthorized', `${cloud.provider === 'aws' ? 'credentials' : 'token'} file ${cloud.secretFile} ${s.problem}`);
        secret = s.secret;
      }
      const http = new CloudHttp({
        provider: cloud.provider,
        apiName: API_NAME[cloud.provider],
        callTimeoutMs: cloud.callTimeoutMs,
        deadline: started + Math.max(0, ctx.timeoutMs - DEADLINE_MARGIN_MS),
        token: secret?.kind === 'token' ? secret.token : null,
        tokenFile: cloud.secretFile,
        log: (level, text) => say(level, text),
        observe: (r) => ctx.apiCall?.(r),
        deps: this.deps.http,
      });
      const provider = await this.deps.provider({ spec: cloud, http, secret, sleep: this.deps.http.sleep, log: (level, text) => say(level, text) });
      const meKey = `${cloud.provider} ${cloud.metadata}`;
      const me = this.me.get(meKey) ?? (await provider.whoAmI());
      this.me.set(meKey, me);
      const holder = await provider.holder();
      if (action === 'status') {
        const present = local ? await local.present() : null;
        const running = holder === me && (!local || present !== null);
        say('debug', `${cloud.target} points at ${holder ? `${provider.machineWord} ${holder}` : 'nothing'}; this is ${provider.machineWord} ${me}: ${running ? 'running' : 'not running'}`);
        return finish(true, { running, ...(running && present ? { address: present } : {}) });
      }
      if (holder === me) {
        say('info', `${cloud.target} already points at this ${provider.machineWord} (${me})`);
      } else {
        say('info', `assigning ${cloud.target} to this ${provider.machineWord} (${me}); it points at ${holder ? `${provider.machineWord} ${holder}` : 'nothing'} now`);
        await provider.assign(me);
        const after = await provider.holder();
        if (after !== me) throw new CloudError('action_failed', `the provider reported the assignment done, but ${cloud.target} points at ${after ?? 'nothing'}, not ${me}`);
        say('info', `${cloud.target} now points at this ${provider.machineWord} (${me}), after ${Math.round(performance.now() - started)} ms`);
      }
      const address = local ? await local.ensure() : undefined;
      return finish(true, address ? { address } : {});
    } catch (err) {
      const timedOut = err instanceof CloudError && err.reason === 'timeout';
      say('error', `${action} failed: ${(err as Error).message}`);
      return finish(false, { timedOut, ...(action === 'status' ? { running: false } : {}) });
    }
  }
}

const API_NAME: Record<CloudIpSpec['provider'], string> = { digitalocean: 'DigitalOcean API', hetzner: 'Hetzner Cloud API', aws: 'AWS EC2 API' };

function secretStrings(s: CloudSecret | null): string[] {
  if (!s) return [];
  return (s.kind === 'token' ? [s.token] : [s.secretAccessKey, s.sessionToken ?? '']).filter((x) => x.length >= 4);
}
