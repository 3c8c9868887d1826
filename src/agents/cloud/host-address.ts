// AWSSecondaryIP's second half: a VPC secondary private IP reaches the instance whose network
// interface it is assigned to, but the instance's OS must also have the address configured on
// that interface. Added with `ip addr add` on start, removed on stop (the AWS assignment stays,
// see agent.ts), and reported to the address guard so a crashed hbd does not leave it behind.
import { findAddress, parseIpAddrJson, placeVip } from '../iproute.js';
import { baseEnv } from '../env.js';
import { runProcess } from '../process.js';
import type { AgentContext, HeldAddress } from '../types.js';
import type { LocalAddress } from './agent.js';

const IP_TIMEOUT_MS = 5000;

export class HostAddress implements LocalAddress {
  constructor(
    private readonly want: { ip: string; prefix: number | null; iface: string | null },
    private readonly ctx: AgentContext,
  ) {}

  private async ip(args: string[]): Promise<string> {
    const r = await runProcess(['ip', ...args], { timeoutMs: IP_TIMEOUT_MS, killGraceMs: 500, env: baseEnv(), outputLimitBytes: 16 * 1024 * 1024 });
    if (r.exitCode !== 0) throw new Error(`ip ${args.join(' ')}: ${r.spawnError?.message ?? (r.output.text().trim() || `exit ${r.exitCode ?? r.signal}`)}`);
    return r.stdout.text();
  }

  async present(): Promise<HeldAddress | null> {
    const links = parseIpAddrJson(await this.ip(['-json', 'addr', 'show']));
    const hit = findAddress(links, this.want.ip, this.want.iface);
    return hit ? { ip: this.want.ip, prefix: hit.addr.prefixlen, dev: hit.link.ifname } : null;
  }

  async ensure(): Promise<HeldAddress> {
    const links = parseIpAddrJson(await this.ip(['-json', 'addr', 'show']));
    const hit = findAddress(links, this.want.ip, this.want.iface);
    if (hit) return { ip: this.want.ip, prefix: hit.addr.prefixlen, dev: hit.link.ifname };
    const place = placeVip(links, { ip: this.want.ip, cidr: this.want.prefix, iface: this.want.iface, broadcast: null, gateway: null }, 'AWSSecondaryIP');
    if (!place.ok) throw new Error(place.error);
    const { link, cidr } = place.placement;
    await this.ip(['addr', 'add', `${this.want.ip}/${cidr}`, 'dev', link.ifname]);
    this.ctx.log('info', `AWSSecondaryIP: ip addr add ${this.want.ip}/${cidr} dev ${link.ifname}`, 'AWSSecondaryIP');
    return { ip: this.want.ip, prefix: cidr, dev: link.ifname };
  }

  async remove(): Promise<void> {
    const held = await this.present();
    if (!held) return;
    await this.ip(['addr', 'del', `${held.ip}/${held.prefix}`, 'dev', held.dev]);
    this.ctx.log('info', `AWSSecondaryIP: ip addr del ${held.ip}/${held.prefix} dev ${held.dev}`, 'AWSSecondaryIP');
  }
}
