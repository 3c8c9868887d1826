// What heartbeat-ts needs from a cloud to move an address: who am I, who holds the address now,
// and "point it at me". Each provider is one file implementing this (digitalocean.ts,
// hetzner.ts, aws.ts); a new cloud is one more file and one line in `providerFor` (agent.ts).
import type { CloudIpSpec } from '../../config/cloud.js';
import type { CloudSecret } from '../../config/cloud-secret.js';
import type { CloudHttp } from './http.js';

export interface CloudIpProvider {
  /** How messages name the provider's machines: "droplet", "server", "instance". */
  readonly machineWord: string;
  /** This machine's id in the provider's words, from the provider's metadata service. */
  whoAmI(): Promise<string>;
  /** The machine the address points at now, or null when it points nowhere. */
  holder(): Promise<string | null>;
  /**
   * Points the address at `machine` (taking it from whoever holds it) and resolves once the
   * provider reports the change done; rejects with a CloudError otherwise.
   */
  assign(machine: string): Promise<void>;
}

/** What a provider is made with, for one agent call. */
export interface ProviderContext {
  spec: CloudIpSpec;
  /** Calls to the API and to the metadata service, with the call's deadline. */
  http: CloudHttp;
  secret: CloudSecret | null;
  /** Waits between polls of an action (injected in tests). */
  sleep: (ms: number) => Promise<void>;
  log: (level: 'info' | 'warn' | 'debug', message: string) => void;
}

/** How often an action's status is asked while it runs. */
export const ACTION_POLL_MS = 250;
