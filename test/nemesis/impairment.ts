// What a link emulator does to each datagram (the netem substitute: this kernel has no
// sch_netem). Pure: the relay (link-relay.ts) does the sockets and timers, this decides, so
// a test can replay a seed's decisions without a network.
//
// Every datagram takes the same number of draws from its link's stream whatever happens to
// it, so the fate of a link's n-th datagram depends only on the seed, n and the impairment
// in force when it arrives.
import { derive, mulberry32, type Rng } from '../../src/sim/prng.js';

export interface Impairment {
  /** Datagrams dropped, 0-100. */
  lossPct: number;
  /** Added to every copy, in ms. */
  delayMs: number;
  /** Each copy's delay is delayMs ± a uniform draw up to this (never below 0): jitter reorders. */
  jitterMs: number;
  /** Datagrams sent twice, 0-100 (each copy draws its own delay and corruption). */
  duplicatePct: number;
  /** Datagrams held back until the link's next datagram has gone, 0-100. */
  reorderPct: number;
  /** Copies with one random bit of the UDP payload flipped, 0-100. */
  corruptPct: number;
}

export const PASS_THROUGH: Impairment = { lossPct: 0, delayMs: 0, jitterMs: 0, duplicatePct: 0, reorderPct: 0, corruptPct: 0 };

/** A held-back datagram goes anyway after this long without a next one (heartbeats may stop). */
export const MAX_HOLD_MS = 1000;

const LIMITS: Record<keyof Impairment, number> = {
  lossPct: 100,
  delayMs: 60_000,
  jitterMs: 60_000,
  duplicatePct: 100,
  reorderPct: 100,
  corruptPct: 100,
};

/**
 * An impairment from untrusted input (a control line): every field optional, absent is 0;
 * anything else (unknown field, wrong type, out of range) throws, naming it.
 */
export function readImpairment(x: unknown): Impairment {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new Error('an impairment is a JSON object');
  const out: Impairment = { ...PASS_THROUGH };
  for (const [k, v] of Object.entries(x)) {
    if (!(k in LIMITS)) throw new Error(`unknown impairment field ${JSON.stringify(k)} (known: ${Object.keys(LIMITS).join(', ')})`);
    const key = k as keyof Impairment;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > LIMITS[key]) {
      throw new Error(`${key} must be a number from 0 to ${LIMITS[key]}, not ${JSON.stringify(v)}`);
    }
    out[key] = v;
  }
  return out;
}

export function isPassThrough(imp: Impairment): boolean {
  return (Object.keys(PASS_THROUGH) as (keyof Impairment)[]).every((k) => imp[k] === 0);
}

export interface Counters {
  /** Datagrams that came to the relay for this link. */
  received: number;
  /** Copies handed to the kernel (duplicates included). */
  forwarded: number;
  dropped: number;
  /** Extra copies made. */
  duplicated: number;
  /** Datagrams held back behind the next one. */
  reordered: number;
  /** Copies with a flipped bit. */
  corrupted: number;
  /** Copies sent after a delay above 0. */
  delayed: number;
  /** Sends the kernel refused (a cable pulled, say). */
  sendErrors: number;
  /** Copies waiting (delayed or held back) at the time of the report. */
  pending: number;
}

export function zeroCounters(): Counters {
  return { received: 0, forwarded: 0, dropped: 0, duplicated: 0, reordered: 0, corrupted: 0, delayed: 0, sendErrors: 0, pending: 0 };
}

export function addCounters(into: Counters, c: Counters): Counters {
  for (const k of Object.keys(into) as (keyof Counters)[]) into[k] += c[k];
  return into;
}

/** One copy to send: its payload (maybe corrupted) after `delayMs`. */
export interface Copy {
  payload: Buffer;
  delayMs: number;
  corrupted: boolean;
}

/** What happens to one datagram. */
export type Fate = { drop: true } | { drop: false; copies: Copy[]; holdBack: boolean };

/** One link's decisions, from its own seeded stream. */
export class Shaper {
  private readonly rng: Rng;

  /** `seed` is the emulator's; `link` tells its links' streams apart. */
  constructor(seed: number, link: number) {
    this.rng = mulberry32(derive(seed, link));
  }

  /** `canHold` is false while another datagram of the link is held (only one waits at a time). */
  decide(payload: Buffer, imp: Impairment, canHold: boolean): Fate {
    const r = this.rng;
    const lose = r() * 100 < imp.lossPct;
    const twice = r() * 100 < imp.duplicatePct;
    const hold = r() * 100 < imp.reorderPct;
    const draws = [0, 1].map(() => ({ corrupt: r() * 100 < imp.corruptPct, bit: r(), jitter: r() }));
    if (lose) return { drop: true };
    const copies = draws.slice(0, twice ? 2 : 1).map((d): Copy => {
      const delayMs = Math.max(0, imp.delayMs + (d.jitter * 2 - 1) * imp.jitterMs);
      const corrupted = d.corrupt && payload.length > 0;
      return { payload: corrupted ? flipBit(payload, d.bit) : payload, delayMs, corrupted };
    });
    return { drop: false, copies, holdBack: hold && canHold };
  }
}

/** A copy of `payload` with bit floor(u * bits) flipped (u in [0, 1)). */
export function flipBit(payload: Buffer, u: number): Buffer {
  const out = Buffer.from(payload);
  const bit = Math.floor(u * out.length * 8);
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}
