// Between LinkEmulator (net-faults.ts) and its relay process (link-relay.ts): what the relay
// is started with, and the control lines on its stdin. Every non-empty control line gets
// exactly one reply line, in order, bad ones included, so the parent matches replies to
// requests by order alone.
import { readImpairment, type Counters, type Impairment } from './impairment.js';

/** One impaired link: datagrams DNATed to `listen` go on to `to`, sent from `from`. */
export interface RelayTarget {
  /** `peer@iface`, or `broadcast@iface`. */
  id: string;
  listen: { address: string; port: number };
  to: { address: string; port: number };
  /** Our address on that link: the receiver sees it as the sender, as without the relay. */
  from: string;
  broadcast: boolean;
}

export interface RelaySpec {
  seed: number;
  /** The port the relay sends from; the DNAT rules leave it alone so forwarded copies do not loop. */
  sendPort: number;
  targets: RelayTarget[];
}

export interface CounterReport extends Counters {
  byTarget: Record<string, Counters>;
}

export type Command =
  | { kind: 'clear' }
  | { kind: 'counters' }
  | { kind: 'set'; impairment: Impairment | null; targets: string[] | null };

/** Lines from the relay: replies (one per command) and events. */
export type RelayLine =
  | { reply: 'ok' }
  | { reply: 'counters'; counters: CounterReport }
  | { reply: 'error'; error: string }
  | { event: 'ready' }
  | { event: 'final'; counters: CounterReport }
  | { event: 'fatal'; error: string };

/**
 * `clear`, `counters`, a bare impairment object (for every target), or
 * `{"impairment": {...} | null, "targets": ["b@eth0", ...]}`. Throws on anything else.
 */
export function parseCommand(line: string, known: readonly string[]): Command {
  const text = line.trim();
  if (text === 'clear') return { kind: 'clear' };
  if (text === 'counters') return { kind: 'counters' };
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch {
    throw new Error(`not a command: ${JSON.stringify(text.slice(0, 80))} (clear, counters or a JSON object)`);
  }
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new Error('a command is clear, counters or a JSON object');
  if (!('impairment' in x)) return { kind: 'set', impairment: readImpairment(x), targets: null };
  const { impairment, targets, ...rest } = x as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw new Error(`unknown command fields: ${Object.keys(rest).join(', ')}`);
  return { kind: 'set', impairment: impairment === null ? null : readImpairment(impairment), targets: readTargets(targets, known) };
}

function readTargets(x: unknown, known: readonly string[]): string[] | null {
  if (x === undefined || x === null) return null;
  if (!Array.isArray(x) || x.some((t) => typeof t !== 'string')) throw new Error('targets must be a list of target ids');
  const unknown = (x as string[]).filter((t) => !known.includes(t));
  if (unknown.length > 0) throw new Error(`unknown targets ${unknown.join(', ')} (known: ${known.join(', ')})`);
  return x as string[];
}
