// The demo's client host: the seed tutorial's curl loop against the virtual IP, and its
// neighbour entry for that IP, which gratuitous ARP moves to the new owner's MAC.
import { inNs, type Lan } from '../lib/netns.js';
import { onOutputLines } from '../lib/lines.js';
import { sleep, waitFor } from '../lib/wait.js';
import { headline, say, timedOut, wall } from './output.js';

const LOOP_SLEEP = '0.2';
/** Answers in a row from the expected host that close a phase of the demo. */
const SETTLE_ANSWERS = 10;

export interface Answer {
  at: number;
  text: string;
  /** Who answered ("primary", "secondary"), or null for an error line. */
  from: string | null;
}

export class Client {
  readonly answers: Answer[] = [];
  /** When the client's neighbour entry for the VIP changed, and to whose MAC. */
  readonly neighbour: { at: number; owner: string }[] = [];
  private stopped = false;

  constructor(
    readonly lan: Lan,
    readonly name: string,
    readonly vip: string,
    readonly servers: string[],
    /** Watch the client's neighbour entry for the address (not for a floating IP behind a router). */
    readonly watchArp = true,
  ) {}

  start(): void {
    headline(`The client runs the tutorial's curl loop against the ${this.watchArp ? 'virtual' : 'floating'} IP`);
    const loop = `while true; do curl -sS -m 1 http://${this.vip}/; sleep ${LOOP_SLEEP}; done`;
    say('client', `$ ${loop}    (the tutorial sleeps 1 s; ${LOOP_SLEEP} s shows the switch in more detail)`);
    const child = this.lan.spawnIn(this.name, ['sh', '-c', loop], { stdio: ['ignore', 'pipe', 'pipe'] });
    onOutputLines(child, (line) => {
      const at = wall();
      const text = line.trim();
      if (!text) return;
      const from = /^Droplet: (\w+),/.exec(text)?.[1] ?? null;
      this.answers.push({ at, text, from });
      say('client', text, at);
    });
    if (this.watchArp) void this.watchNeighbour();
  }

  /** Prints the client's neighbour entry for the VIP whenever its MAC changes. */
  private async watchNeighbour(): Promise<void> {
    const client = this.lan.host(this.name);
    const owners = new Map(this.servers.map((n) => [this.lan.host(n).mac, n]));
    let last: string | null = null;
    while (!this.stopped) {
      try {
        const { stdout } = await inNs(client.ns, ['ip', '-json', 'neigh', 'show', this.vip]);
        const row = (JSON.parse(stdout || '[]') as { lladdr?: string; state?: string[] }[])[0];
        const mac = row?.lladdr ?? null;
        if (mac && mac !== last) {
          this.neighbour.push({ at: wall(), owner: owners.get(mac) ?? 'unknown' });
          say('client', `ip neigh: ${this.vip} is at ${mac} (${owners.get(mac) ?? 'unknown'}'s MAC)${last ? '  <- gratuitous ARP' : ''}`);
          last = mac;
        }
      } catch {
        /* the world is going away */
      }
      await sleep(20);
    }
  }

  stopWatching(): void {
    this.stopped = true;
  }

  /** Waits for SETTLE_ANSWERS answers in a row from `who` after `after`; returns the first. */
  async answersFrom(who: string, after: number, timeoutMs: number): Promise<Answer> {
    return waitFor(
      `${SETTLE_ANSWERS} answers in a row from ${who}`,
      () => {
        const since = this.answers.filter((a) => a.at >= after);
        const tail = since.slice(-SETTLE_ANSWERS);
        if (tail.length < SETTLE_ANSWERS || tail.some((a) => a.from !== who)) return null;
        return since.find((a) => a.from === who) ?? null;
      },
      { timeoutMs, error: () => timedOut(`${SETTLE_ANSWERS} answers in a row from ${who}`, timeoutMs) },
    );
  }

  /**
   * What the switch of the answers from `from` to `to` after the event at `at` looked like:
   * when `to` had the group running (`runningAt`), when the client's neighbour entry
   * followed, the first answer from `to`, and the client-side gap since the last answer
   * from `from`.
   */
  report(what: string, from: string, to: string, at: number, first: Answer, runningAt: number | undefined): string {
    const ms = (t: number | undefined) => (t === undefined ? '?' : `+${Math.round(t - at)} ms`);
    const neigh = this.neighbour.find((n) => n.at >= at && n.owner === to)?.at;
    const before = this.answers.filter((a) => a.at < first.at);
    const lastFrom = [...before].reverse().find((a) => a.from === from);
    const failed = before.filter((a) => a.at >= at && a.from === null).length;
    const gap = lastFrom ? `${Math.round(first.at - lastFrom.at)} ms` : '?';
    const arp = this.watchArp ? `, client's neighbour entry on ${to}'s MAC ${ms(neigh)}` : '';
    const line = `${what}: ${to} running the group ${ms(runningAt)}${arp}, first answer from ${to} ${ms(first.at)}`;
    const line2 = `${' '.repeat(what.length + 2)}client-side gap (last "${from}" to first "${to}") ${gap}, ${failed} failed request(s)`;
    say('result', line);
    say('result', line2);
    return `${line}\n  ${line2}`;
  }

  summary(): string {
    return `client answers: ${this.answers.filter((a) => a.from).length}, failed requests: ${this.answers.filter((a) => !a.from).length}`;
  }
}
