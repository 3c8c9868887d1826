// The cloud's network, played by the "cloud" router namespace: traffic for a floating IP goes to
// whichever machine the emulator says it is assigned to. Two ways, as the providers do it:
//   dnat   DigitalOcean (the reserved IP reaches the droplet's anchor address) and AWS Elastic
//          IPs (1:1 NAT to the instance's private address): an nft DNAT rule per address;
//   route  Hetzner floating IPs and AWS secondary private IPs (the machine has the address
//          configured itself): a host route via the machine's address.
// An address assigned to nothing is unreachable, as in the cloud. Commands are argv arrays, run
// in the namespace the process is in (the router's).
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type Delivery = 'dnat' | 'route';

/** nft's table of the router's DNAT rules; rewritten whole on every change. */
const TABLE = 'cloudip';

export class CloudRouter {
  /** Floating IP -> the machine address it is delivered to, for the dnat ones. */
  private readonly nat = new Map<string, string>();
  /** Changes are applied one at a time, in order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly dev: string) {}

  /** Points `ip` at `target` (null: nowhere); resolves once the kernel has it. */
  point(ip: string, target: string | null, how: Delivery): Promise<void> {
    const next = this.queue.then(() => (how === 'dnat' ? this.pointNat(ip, target) : this.pointRoute(ip, target)));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async pointRoute(ip: string, target: string | null): Promise<void> {
    if (target) await run('ip', ['route', 'replace', `${ip}/32`, 'via', target, 'dev', this.dev]);
    else await run('ip', ['route', 'replace', 'unreachable', `${ip}/32`]);
  }

  private async pointNat(ip: string, target: string | null): Promise<void> {
    if (target) this.nat.set(ip, target);
    else this.nat.delete(ip);
    const rules = [...this.nat].map(([fip, to]) => `    ip daddr ${fip} dnat to ${to}`).join('\n');
    // The table is created if missing, then deleted and written again: one atomic nft batch.
    // An address with no rule is not routed anywhere: the client gets "unreachable".
    await nftScript(`table ip ${TABLE} {}\ndelete table ip ${TABLE}\ntable ip ${TABLE} {\n  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n${rules}\n  }\n}\n`);
  }
}

/** Runs an nft script given on stdin (no shell, no temp file). */
function nftScript(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('nft', ['-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += String(d)));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`nft -f -: exit ${code}: ${err.trim()}`))));
    p.stdin.end(script);
  });
}
