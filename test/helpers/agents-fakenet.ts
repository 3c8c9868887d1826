// A pretend host for IPaddr unit tests: answers `ip -json addr show`, applies `ip addr add/del`
// to its own table, and hands out fake arping processes the test can end at will.
import type { CommandOutcome, CommandRunner } from '../../src/agents/ipaddr.js';
import type { IpLink } from '../../src/agents/iproute.js';
import type { BackgroundOutcome, BackgroundProcess } from '../../src/agents/process.js';

export interface FakeArping extends BackgroundProcess {
  /** Ends the fake process as if arping exited by itself. */
  finish(outcome: Partial<BackgroundOutcome>): void;
  killedByAgent: boolean;
}

const ok = (stdout = ''): CommandOutcome => ({ exitCode: 0, signal: null, timedOut: false, stdout, output: stdout, spawnError: null });

export class FakeNet implements CommandRunner {
  readonly ran: string[][] = [];
  readonly arpings: FakeArping[] = [];
  /** Set to make the next `ip addr add` fail this way. */
  failAdd: CommandOutcome | null = null;
  arpingSpawnError: NodeJS.ErrnoException | null = null;

  constructor(public links: IpLink[]) {}

  static host(...ifaces: [name: string, ...cidrs: string[]][]): FakeNet {
    return new FakeNet(
      ifaces.map(([ifname, ...cidrs], i) => ({
        ifname,
        flags: ifname === 'lo' ? ['LOOPBACK', 'UP'] : ['BROADCAST', 'MULTICAST', 'UP'],
        link_type: ifname === 'lo' ? 'loopback' : 'ether',
        address: `02:00:00:00:00:0${i}`,
        addr_info: cidrs.map((c) => {
          const [local = '', prefix = '24', label] = c.split(/[/=]/);
          return { family: 'inet', local, prefixlen: Number(prefix), label: label ?? ifname };
        }),
      })),
    );
  }

  async run(argv: string[]): Promise<CommandOutcome> {
    this.ran.push(argv);
    const [cmd, ...rest] = argv;
    const args = rest.join(' ');
    if (cmd !== 'ip') throw new Error(`unexpected command ${argv.join(' ')}`);
    if (args === '-json addr show') return ok(JSON.stringify(this.links));
    const [, verb, cidr = ''] = rest;
    const dev = rest[rest.indexOf('dev') + 1];
    const link = this.links.find((l) => l.ifname === dev);
    const [local = '', prefix = ''] = cidr.split('/');
    if (verb === 'add') {
      if (this.failAdd) return this.failAdd;
      const labelAt = rest.indexOf('label');
      link?.addr_info.push({ family: 'inet', local, prefixlen: Number(prefix), label: labelAt >= 0 ? rest[labelAt + 1] : dev });
      return ok();
    }
    if (verb === 'del') {
      if (link) link.addr_info = link.addr_info.filter((a) => a.local !== local);
      return ok();
    }
    throw new Error(`unexpected ip command ${args}`);
  }

  background(argv: string[]): BackgroundProcess {
    this.ran.push(argv);
    let settle: (o: BackgroundOutcome) => void = () => undefined;
    let done = false;
    const exited = new Promise<BackgroundOutcome>((r) => (settle = r));
    const spawnError = this.arpingSpawnError;
    const p: FakeArping = {
      argv,
      pid: 4242 + this.arpings.length,
      spawned: Promise.resolve(spawnError),
      exited,
      killedByAgent: false,
      running: () => !done,
      kill: () => {
        if (done) return;
        p.killedByAgent = true;
        p.finish({ signal: 'SIGTERM', killed: true });
      },
      finish: (o) => {
        if (done) return;
        done = true;
        settle({ exitCode: null, signal: null, output: '', spawnError: null, killed: false, ...o });
      },
    };
    if (spawnError) p.finish({ spawnError });
    this.arpings.push(p);
    return p;
  }

  /** The commands run, as strings, leaving out the read-only `ip -json addr show`. */
  changes(): string[] {
    return this.ran.map((a) => a.join(' ')).filter((a) => a !== 'ip -json addr show');
  }
}
