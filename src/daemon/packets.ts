// Our messages in Heartbeat's wire format: what a status heartbeat and a goodbye carry, and
// how a received, verified packet becomes a core event. Fields Heartbeat knows keep its
// names and order; ours start with "hts_" so a real Heartbeat passes over them.
import { createHash } from 'node:crypto';
import { HbMessage, parseHex, toHex } from '../wire/message.js';
import type { GroupPhase, PeerAdvert, StatusPayload } from '../core/node.js';
import type { AdvertisedStatus } from '../core/membership.js';
import { decodeParts, encodeParts, type ConfigParts } from '../config/digest.js';

export { decodeParts, differingParts, encodeParts, type ConfigParts } from '../config/digest.js';

const PHASE_CHAR: Record<GroupPhase, string> = { stopped: 's', starting: 'b', running: 'r', stopping: 'e', 'stop-failed': 'x' };
const CHAR_PHASE: Record<string, GroupPhase> = Object.fromEntries(Object.entries(PHASE_CHAR).map(([k, v]) => [v, k as GroupPhase]));

/** A short, stable name for a resource group on the wire: nodes whose haresources differ never confuse two groups. */
export function groupKey(groupId: string): string {
  return createHash('sha256').update(groupId).digest('hex').slice(0, 8);
}

export interface Sender {
  node: string;
  uuid: Buffer;
  generation: number;
  deadtimeMs: number;
  /** Digests of ha.cf, authkeys and haresources, advertised as `hts_cfgp` so drift can name the part. */
  partDigests?: ConfigParts;
}

export function statusMessage(from: Sender, seq: number, wallSeconds: number, payload: StatusPayload, groupKeys: string[]): HbMessage {
  const m = HbMessage.of([
    ['t', 'status'],
    ['st', payload.st],
    ['dt', toHex(from.deadtimeMs)],
    ['protocol', '1'],
    ['src', from.node],
  ]);
  addSender(m, from, seq, wallSeconds);
  const a = payload.advert;
  m.set('hts_ph', groupKeys.map((k, i) => `${k}:${PHASE_CHAR[a.phases[i] ?? 'stopped']}`).join(','));
  if (a.standby.length) m.set('hts_sb', a.standby.map((g) => groupKeys[g]).join(','));
  if (a.failed.length) m.set('hts_fl', a.failed.map((g) => groupKeys[g]).join(','));
  if (a.takeover) m.set('hts_tk', `${a.takeover.serial}:${a.takeover.groups.map((g) => groupKeys[g]).join(',')}`);
  if (a.leaving) m.set('hts_lv', '1');
  // The sender's clock (for echoes and ordering) and, in quorum clusters, echoes, claims and grants.
  const ms = (t: number) => toHex(Math.max(0, Math.floor(t)));
  if (a.at !== undefined) m.set('hts_at', ms(a.at));
  if (a.acks?.length) m.set('hts_ak', a.acks.map((k) => `${k.node}:${toHex(k.gen)}:${ms(k.at)}`).join(','));
  const claims = (a.claims ?? []).flatMap((c, g) => (c !== null && groupKeys[g] ? [`${groupKeys[g]}:${toHex(c)}`] : []));
  if (claims.length) m.set('hts_cl', claims.join(','));
  const grants = (a.grants ?? []).flatMap((gr, g) => (gr && groupKeys[g] ? [`${groupKeys[g]}:${gr.node}:${toHex(gr.gen)}:${toHex(gr.claim)}`] : []));
  if (grants.length) m.set('hts_gr', grants.join(','));
  m.set('hts_cfg', payload.digest);
  if (from.partDigests) m.set('hts_cfgp', encodeParts(from.partDigests));
  return m;
}

/** Heartbeat's goodbye: peers mark the node dead at once instead of after deadtime. */
export function shutdoneMessage(from: Sender, seq: number, wallSeconds: number): HbMessage {
  const m = HbMessage.of([
    ['t', 'shutdone'],
    ['st', 'dead'],
    ['src', from.node],
  ]);
  addSender(m, from, seq, wallSeconds);
  return m;
}

/**
 * Sequence number of hbd's last words: above any a run reaches, so peers take it as the
 * newest message of the run whenever it comes (at most 13 hex digits, as parseHex reads).
 */
export const LAST_WORDS_SEQ = 0xf_ffff_ffff_ffff;

/**
 * hbd's last words, signed in advance and kept by its address guard: a goodbye marked
 * `hts_why=crash`, which the guard sends only after hbd died and the guard removed its
 * virtual IPs. Peers take over at once instead of after deadtime (a real Heartbeat peer
 * takes it as the goodbye it is).
 */
export function lastWordsMessage(from: Sender, wallSeconds: number): HbMessage {
  const m = shutdoneMessage(from, LAST_WORDS_SEQ, wallSeconds);
  m.set('hts_why', 'crash');
  return m;
}

/** The fields after `src` that every sequenced Heartbeat message carries, in its order. */
function addSender(m: HbMessage, from: Sender, seq: number, wallSeconds: number): void {
  m.setBinary('srcuuid', from.uuid);
  m.set('seq', toHex(seq));
  m.set('hg', toHex(from.generation));
  m.set('ts', toHex(wallSeconds));
  m.set('ttl', '3');
}

export type Incoming =
  | { kind: 'status'; src: string; generation: number; seq: number; st: AdvertisedStatus; advert: PeerAdvert | null; digest: string | null; parts: ConfigParts | null }
  /** `crashed`: hbd's last words, sent by its address guard after it died (not a clean stop). */
  | { kind: 'shutdone'; src: string; generation: number; seq: number; crashed: boolean }
  | { kind: 'other'; src: string; type: string }
  | { kind: 'invalid'; reason: string; src: string | null };

const ST = new Set(['init', 'up', 'active']);
const NODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Reads what the core needs out of a verified message; anything odd is 'invalid' with a reason. */
export function readIncoming(m: HbMessage, groupKeys: string[]): Incoming {
  const src = m.getString('src');
  if (!src || !NODE.test(src)) return { kind: 'invalid', reason: 'no valid src field', src: null };
  const type = m.getString('t') ?? '';
  if (type !== 'status' && type !== 'shutdone') return { kind: 'other', src, type };
  const generation = parseHex(m.getString('hg'));
  const seq = parseHex(m.getString('seq'));
  if (generation === undefined || seq === undefined || seq < 1) return { kind: 'invalid', reason: `${type} without a valid hg/seq`, src };
  if (type === 'shutdone') return { kind: 'shutdone', src, generation, seq, crashed: m.getString('hts_why') === 'crash' };
  const st = m.getString('st') ?? '';
  if (!ST.has(st)) return { kind: 'invalid', reason: `status "${st.slice(0, 20)}" is not init/up/active`, src };
  return { kind: 'status', src, generation, seq, st: st as AdvertisedStatus, advert: readAdvert(m, groupKeys), digest: m.getString('hts_cfg') ?? null, parts: decodeParts(m.getString('hts_cfgp')) };
}

function indexList(text: string | undefined, groupKeys: string[]): number[] {
  if (!text) return [];
  return text.split(',').map((k) => groupKeys.indexOf(k)).filter((i) => i >= 0);
}

/** A peer's advert in our group numbering; groups we don't have are left out (drift is reported elsewhere). */
function readAdvert(m: HbMessage, groupKeys: string[]): PeerAdvert | null {
  const ph = m.getString('hts_ph');
  if (ph === undefined) return null; // e.g. a real Heartbeat node: it advertises no phases
  const phases: GroupPhase[] = groupKeys.map(() => 'stopped');
  const present = new Set<number>();
  for (const item of ph.split(',')) {
    const [key, c] = item.split(':');
    const i = key ? groupKeys.indexOf(key) : -1;
    const phase = c ? CHAR_PHASE[c] : undefined;
    if (i >= 0) present.add(i);
    if (i >= 0 && phase) phases[i] = phase;
  }
  let takeover: PeerAdvert['takeover'] = null;
  const tk = m.getString('hts_tk');
  if (tk) {
    const [serialText, list] = tk.split(':');
    const serial = Number(serialText);
    if (Number.isSafeInteger(serial) && serial > 0) takeover = { serial, groups: indexList(list, groupKeys) };
  }
  return {
    phases,
    standby: indexList(m.getString('hts_sb'), groupKeys),
    failed: indexList(m.getString('hts_fl'), groupKeys),
    takeover,
    leaving: m.getString('hts_lv') === '1',
    ...quorumFields(m, groupKeys, present),
  };
}

/** Generation, clock, deadtime, the groups the sender lacks, and (quorum clusters) echoes, claims and grants. */
function quorumFields(m: HbMessage, groupKeys: string[], present: Set<number>): Partial<PeerAdvert> {
  const out: Partial<PeerAdvert> = {};
  const gen = parseHex(m.getString('hg'));
  const dt = parseHex(m.getString('dt'));
  const at = parseHex(m.getString('hts_at'));
  if (gen !== undefined) out.gen = gen;
  if (dt !== undefined) out.deadtimeMs = dt;
  if (at !== undefined) out.at = at;
  out.absent = groupKeys.flatMap((_, i) => (present.has(i) ? [] : [i]));
  const ak = m.getString('hts_ak');
  if (ak !== undefined) {
    out.acks = [];
    for (const item of ak.split(',')) {
      const [node, g, t] = item.split(':');
      const ackGen = parseHex(g);
      const ackAt = parseHex(t);
      if (node && NODE.test(node) && ackGen !== undefined && ackAt !== undefined) out.acks.push({ node, gen: ackGen, at: ackAt });
    }
  }
  const cl = m.getString('hts_cl');
  if (cl !== undefined) {
    out.claims = groupKeys.map(() => null);
    for (const item of cl.split(',')) {
      const [key, c] = item.split(':');
      const i = key ? groupKeys.indexOf(key) : -1;
      const claim = parseHex(c);
      if (i >= 0 && claim !== undefined) out.claims[i] = claim;
    }
  }
  const gr = m.getString('hts_gr');
  if (gr !== undefined) {
    out.grants = groupKeys.map(() => null);
    for (const item of gr.split(',')) {
      const [key, node, g, c] = item.split(':');
      const i = key ? groupKeys.indexOf(key) : -1;
      const grantGen = parseHex(g);
      const claim = parseHex(c);
      if (i >= 0 && node && NODE.test(node) && grantGen !== undefined && claim !== undefined) out.grants[i] = { node, gen: grantGen, claim };
    }
  }
  return out;
}

