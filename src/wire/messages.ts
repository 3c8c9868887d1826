// Our messages in Heartbeat's wire format: what a status heartbeat and a goodbye carry, and
// how a received, verified packet becomes a core event. Fields Heartbeat knows keep its
// names and order; ours start with "hts_" so a real Heartbeat passes over them.
import { HbMessage, parseHex, toHex } from './message.js';
import type { StatusPayload } from '../core/node.js';
import { NODE_NAME, writeAdvert } from './advert.js';
import type { AdvertisedStatus } from '../core/membership.js';
import { decodeParts, encodeParts, type ConfigParts } from '../config/digest.js';

export interface Sender {
  node: string;
  uuid: Buffer;
  generation: number;
  deadtimeMs: number;
  /** Digests of ha.cf, authkeys and haresources, advertised as `hts_cfgp` so drift can name the part. */
  partDigests?: ConfigParts;
}

export function statusMessage(from: Sender, seq: number, wallSeconds: number, payload: StatusPayload, load?: string): HbMessage {
  const m = HbMessage.of([
    ['t', 'status'],
    ['st', payload.st],
    ['dt', toHex(from.deadtimeMs)],
    ['protocol', '1'],
    ['src', from.node],
  ]);
  addSender(m, from, seq, wallSeconds, load);
  writeAdvert(m, payload.advert);
  m.set('hts_cfg', payload.digest);
  if (from.partDigests) m.set('hts_cfgp', encodeParts(from.partDigests));
  return m;
}

/** Heartbeat's goodbye: peers mark the node dead at once instead of after deadtime. */
export function shutdoneMessage(from: Sender, seq: number, wallSeconds: number, load?: string): HbMessage {
  const m = HbMessage.of([
    ['t', 'shutdone'],
    ['st', 'dead'],
    ['src', from.node],
  ]);
  addSender(m, from, seq, wallSeconds, load);
  return m;
}

/**
 * How many sequence numbers one set of hbd's last words covers. A real Heartbeat takes a
 * message whose seq is one above the last it read from that sender; one further ahead is a
 * loss to it (a warning, retransmission requests, and past 250 "lost a lot of packets!":
 * heartbeat.c, should_drop_message), one below is an old copy it drops in silence. The guard
 * cannot know which seq hbd reached when it died, so the last words are a run of messages:
 * a pass for every seq from the next one on, then the goodbye. Whatever seq hbd reached
 * within the span, the passes up to it are old copies, those above it fill the stream in
 * order, and the goodbye comes exactly next. hbd renews them before it sends the span's end.
 */
export const LAST_WORDS_SPAN = 64;

/** A message for no one: addressed to its own sender, so a peer only counts its seq (Heartbeat drops what is not to it). */
const PASS = 'hts_pass';

/**
 * hbd's last words after our message `lastSeq`, signed in advance and kept by its address
 * guard: the passes, then a goodbye marked `hts_why=crash`, which the guard sends only after
 * hbd died and the guard removed its virtual IPs. Peers take over at once instead of after
 * deadtime (a real Heartbeat peer takes it as the goodbye it is). They cover our messages up
 * to lastSeq + LAST_WORDS_SPAN.
 */
export function lastWordsMessages(from: Sender, lastSeq: number, wallSeconds: number): HbMessage[] {
  const passes = Array.from({ length: LAST_WORDS_SPAN }, (_, i) => stampMessage(HbMessage.of([['t', PASS], ['dest', from.node]]), from, lastSeq + 1 + i, wallSeconds));
  const bye = shutdoneMessage(from, lastSeq + LAST_WORDS_SPAN + 1, wallSeconds);
  bye.set('hts_why', 'crash');
  return [...passes, bye];
}

/** The fields after `src` that every Heartbeat message carries, in its order (seq and `ld`: sequenced ones only). */
function addSender(m: HbMessage, from: Sender, seq: number | null, wallSeconds: number, load?: string): void {
  m.setBinary('srcuuid', from.uuid);
  if (seq !== null) m.set('seq', toHex(seq));
  m.set('hg', toHex(from.generation));
  m.set('ts', toHex(wallSeconds));
  if (seq !== null && load !== undefined) m.set('ld', load);
  m.set('ttl', '3');
}

/**
 * Any other message as Heartbeat's send_cluster_msg completes it: a directed one (`dest`)
 * gets the destination's uuid when we know it, then src, srcuuid, seq (none for the NS_
 * types), hg, ts, ld (sequenced ones) and ttl, in that order after the message's own fields.
 */
export function stampMessage(body: HbMessage, from: Sender, seq: number | null, wallSeconds: number, destUuid?: Buffer, load?: string): HbMessage {
  const m = body.clone();
  if (m.has('dest') && destUuid) m.setBinary('destuuid', destUuid);
  m.set('src', from.node);
  addSender(m, from, seq, wallSeconds, load);
  return m;
}

export type Incoming =
  /** A status heartbeat; its advert is read apart (wire/advert.ts), only when it is news. */
  | { kind: 'status'; src: string; generation: number; seq: number; st: AdvertisedStatus; digest: string | null; parts: ConfigParts | null }
  /** `crashed`: hbd's last words, sent by its address guard after it died (not a clean stop). */
  | { kind: 'shutdone'; src: string; generation: number; seq: number; crashed: boolean }
  | { kind: 'other'; src: string; type: string }
  | { kind: 'invalid'; reason: string; src: string | null };

const ST = new Set(['init', 'up', 'active']);

/** Reads what the core needs out of a verified message; anything odd is 'invalid' with a reason. */
export function readIncoming(m: HbMessage): Incoming {
  const src = m.getString('src');
  if (!src || !NODE_NAME.test(src)) return { kind: 'invalid', reason: 'no valid src field', src: null };
  const type = m.getString('t') ?? '';
  if (type !== 'status' && type !== 'shutdone') return { kind: 'other', src, type };
  const generation = parseHex(m.getString('hg'));
  const seq = parseHex(m.getString('seq'));
  if (generation === undefined || seq === undefined || seq < 1) return { kind: 'invalid', reason: `${type} without a valid hg/seq`, src };
  if (type === 'shutdone') return { kind: 'shutdone', src, generation, seq, crashed: m.getString('hts_why') === 'crash' };
  const st = m.getString('st') ?? '';
  if (!ST.has(st)) return { kind: 'invalid', reason: `status "${st.slice(0, 20)}" is not init/up/active`, src };
  return { kind: 'status', src, generation, seq, st: st as AdvertisedStatus, digest: m.getString('hts_cfg') ?? null, parts: decodeParts(m.getString('hts_cfgp')) };
}
