// Telling the service manager how hbd is doing (systemd's sd_notify protocol): READY=1 once
// the media are open and the address guard is up, STATUS= lines for `systemctl status`,
// RELOADING=1 and READY=1 around a reload, STOPPING=1 when a clean stop begins.
// Node has no AF_UNIX datagram sockets, so each message goes through systemd-notify(1), a
// child of hbd (given VARIABLE=VALUE arguments, which every systemd-notify since Debian 11's
// understands); that is why the unit says NotifyAccess=all. systemd-notify waits until the
// manager has read the message (its barrier), so a message never outlives its sender's PID
// unread. Without NOTIFY_SOCKET (no systemd, or Type=simple) nothing is sent.
import { execFile } from 'node:child_process';
import type { StatusSnapshot } from '../status/snapshot.js';

export type Notify = (args: string[]) => Promise<void>;

const viaSystemdNotify: Notify = (args) =>
  new Promise((resolve, reject) => {
    execFile('systemd-notify', args, { timeout: 5000 }, (err, _out, stderr) => (err ? reject(new Error(`systemd-notify ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve()));
  });

export class ServiceManager {
  /** Messages go out one at a time, in order: a STATUS never overtakes the READY before it. */
  private queue: Promise<void> = Promise.resolve();
  private lastStatus = '';

  private constructor(
    private readonly notify: Notify,
    private readonly onError: (message: string) => void,
  ) {}

  /** The service manager hbd runs under, or null when it has none to tell. */
  static fromEnv(onError: (message: string) => void, env: NodeJS.ProcessEnv = process.env, notify: Notify = viaSystemdNotify): ServiceManager | null {
    return env.NOTIFY_SOCKET ? new ServiceManager(notify, onError) : null;
  }

  ready(status: string): Promise<void> {
    this.lastStatus = status;
    return this.send(['READY=1', `STATUS=${status}`]);
  }

  /** A new STATUS= line, only when the text changed. */
  status(text: string): Promise<void> {
    if (text === this.lastStatus) return this.queue;
    this.lastStatus = text;
    return this.send([`STATUS=${text}`]);
  }

  /** A reload is over: READY=1 again (systemd waits for it after RELOADING=1). */
  reloaded(status: string): Promise<void> {
    return this.ready(status);
  }

  reloading(): Promise<void> {
    return this.send(['RELOADING=1', 'STATUS=reloading the configuration']);
  }

  stopping(): Promise<void> {
    return this.send(['STOPPING=1', 'STATUS=releasing resource groups and stopping']);
  }

  private send(args: string[]): Promise<void> {
    // A lost status line must not stop hbd; it is logged once per failure.
    this.queue = this.queue.then(() => this.notify(args)).catch((err: Error) => this.onError(err.message));
    return this.queue;
  }
}

/** The one line `systemctl status` shows: who is up, and which groups run here. */
export function statusLine(s: StatusSnapshot): string {
  const up = s.nodes.filter((n) => n.status !== 'dead');
  const here = s.groups.filter((g) => g.owner === s.node);
  const groups = here.length ? `running here: ${here.map((g) => g.resources[0] ?? g.id).join(', ')}` : 'running no resource group here';
  return `${up.length}/${s.nodes.length} nodes up; ${groups}${s.settled ? '' : ' (settling)'}`;
}

/**
 * Keeps the manager's STATUS= line current as the view changes: at most one snapshot every
 * `everyMs`, and none while what the line reads stays the same (`inputs`, given by each
 * update: status/snapshot.ts `statusLineInputs`). Views update on every heartbeat; the line
 * changes only when a node or group does, and a timer per heartbeat would wake an idle hbd
 * twice a second for nothing.
 */
export function followView(sm: ServiceManager, onUpdate: (listener: (inputs: string) => void) => void, snapshot: () => StatusSnapshot, everyMs = 500): () => void {
  let timer: NodeJS.Timeout | null = null;
  let seen: string | null = null;
  onUpdate((inputs) => {
    if (inputs === seen) return;
    seen = inputs;
    // Already armed: it takes its snapshot when it fires, which sees this change too.
    timer ??= setTimeout(() => {
      timer = null;
      void sm.status(statusLine(snapshot()));
    }, everyMs);
  });
  return () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
}
