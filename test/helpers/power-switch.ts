// A power switch for namespace hosts, as a fence device both Heartbeat 3.0.6 and hbd can use
// through ha.cf's `stonith_host`: a cluster-glue `external/` stonith plugin (the script below)
// that files a request in the switch's directory and waits for its answer, and the switch
// itself, run by the test: it powers the named host off (its cable pulled, its extra
// addresses gone as after a power cut, every process in it killed) and answers. The daemons
// run in private mount namespaces where `ip netns` sees nothing: the test, outside, can.
import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inNs, type Lan } from '../../src/lib/netns.js';

/** The plugin's name under external/ (stonith_host * external/ixpower DIR). */
export const PLUGIN = 'ixpower';

/** cluster-glue's external plugin protocol: an action as $1, the target as $2, the config as environment. */
function pluginScript(hosts: string[]): string {
  return `#!/bin/sh
# external/${PLUGIN}: the test's power switch (test/helpers/power-switch.ts).
case "$1" in
gethosts) for h in ${hosts.join(' ')}; do echo "$h"; done; exit 0 ;;
reset|off)
  req="$switchdir/req.$2.$$"
  echo "$2" > "$switchdir/new.$2.$$" && mv "$switchdir/new.$2.$$" "$req" || exit 1
  i=0
  while [ $i -lt 300 ]; do
    if [ -e "$req.done" ]; then rm -f "$req.done"; exit 0; fi
    sleep 0.1; i=$((i + 1))
  done
  exit 1 ;;
on) exit 1 ;;
status) exit 0 ;;
getconfignames) echo switchdir; exit 0 ;;
getinfo-devid|getinfo-devname) echo "${PLUGIN} test power switch"; exit 0 ;;
getinfo-devdescr) echo "Powers off a namespace host of the test"; exit 0 ;;
getinfo-devurl) echo "file://$switchdir"; exit 0 ;;
getinfo-xml) echo '<parameters><parameter name="switchdir" unique="1" required="1"><content type="string"/><shortdesc lang="en">switch directory</shortdesc></parameter></parameters>'; exit 0 ;;
*) exit 1 ;;
esac
`;
}

export class PowerSwitch {
  /** Hosts powered off, in order (a host powered off twice is listed twice). */
  readonly offs: string[] = [];
  private readonly dir: string;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(private readonly lan: Lan, private readonly hosts: string[]) {
    this.dir = join(lan.tempDir('ix-power-'), 'switch');
    mkdirSync(this.dir);
  }

  /** The ha.cf line and the plugin, for every node's files. */
  haCfLine(): string {
    return `stonith_host * external/${PLUGIN} ${this.dir}`;
  }

  plugins(): Record<string, string> {
    return { [PLUGIN]: pluginScript(this.hosts) };
  }

  start(): void {
    this.timer = setInterval(() => void this.serve(), 100);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Power back on: the cable plugged in again (the test starts its daemon). */
  async powerOn(host: string): Promise<void> {
    await this.lan.setCable(host, true);
  }

  private async serve(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (const name of readdirSync(this.dir)) {
        const m = /^req\.([A-Za-z0-9_-]+)\.\d+$/.exec(name);
        if (!m || !this.hosts.includes(m[1]!)) continue;
        await this.powerOff(m[1]!);
        renameSync(join(this.dir, name), join(this.dir, `${name}.answered`));
        writeFileSync(join(this.dir, `${name}.done`), 'off\n');
      }
    } finally {
      this.busy = false;
    }
  }

  private async powerOff(host: string): Promise<void> {
    const h = this.lan.host(host);
    await this.lan.setCable(host, false);
    await this.lan.killAllIn(host);
    // A power cut loses the addresses a daemon added: only the host's own stays configured.
    const { stdout } = await inNs(h.ns, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
    for (const m of stdout.matchAll(/ inet (\d+\.\d+\.\d+\.\d+\/\d+)/g)) {
      if (!m[1]!.startsWith(`${h.address}/`)) await inNs(h.ns, ['ip', 'addr', 'del', m[1]!, 'dev', 'eth0']);
    }
    this.offs.push(host);
  }
}
