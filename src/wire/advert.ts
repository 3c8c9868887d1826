// A node's advert (core/advert.ts) in the fields of its status heartbeat. One bijection:
// what writeAdvert puts in a message, readAdvert gives back, for the groups the receiver
// has. Heartbeat's own fields (`hg`, `dt`) carry the generation and deadtime; ours start with
// `hts_`, so a real Heartbeat peer passes over them. Groups travel as a short hash of their
// id, so nodes whose haresources differ never confuse two groups; the resources a node holds
// travel the same way, so that a receiver can tell its own resources held under another line.
import { createHash } from 'node:crypto';
import type { Ack, GroupAdvert, GroupPhase, PeerAdvert } from '../core/advert.js';
import { F_DT, F_HBGENERATION, parseHex, toHex, type HbMessage } from './message.js';

const PHASE_CHAR: Record<GroupPhase, string> = { stopped: 's', starting: 'b', running: 'r', stopping: 'e', 'stop-failed': 'x' };
const CHAR_PHASE: Record<string, GroupPhase> = Object.fromEntries(Object.entries(PHASE_CHAR).map(([k, v]) => [v, k as GroupPhase]));
export const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

const keyMemo = new Map<string, string>();

/** A short, stable name for a resource group on the wire. */
export function groupKey(groupId: string): string {
  let key = keyMemo.get(groupId);
  if (key === undefined) {
    key = createHash('sha256').update(groupId).digest('hex').slice(0, 8);
    keyMemo.set(groupId, key);
  }
  return key;
}

/** The groups a receiver has, and their resources, by wire key: what it can read of others' adverts. */
export class GroupKeys {
  private readonly byKey = new Map<string, string>();
  private readonly resourceByKey = new Map<string, string>();

  constructor(groupIds: Iterable<string>, resources: Iterable<string> = []) {
    for (const id of groupIds) this.byKey.set(groupKey(id), id);
    for (const name of resources) this.resourceByKey.set(groupKey(name), name);
  }

  /** The resource names of a comma-separated key list, unknown keys left out. */
  resources(text: string | undefined): string[] {
    return (text ?? '').split(',').flatMap((k) => {
      const name = this.resourceByKey.get(k);
      return name === undefined ? [] : [name];
    });
  }

  idOf(key: string | undefined): string | undefined {
    return key === undefined ? undefined : this.byKey.get(key);
  }

  /** The ids of a comma-separated key list, unknown keys left out. */
  ids(text: string | undefined): string[] {
    if (!text) return [];
    return text.split(',').flatMap((k) => {
      const id = this.byKey.get(k);
      return id === undefined ? [] : [id];
    });
  }
}

/** Milliseconds as the wire carries them: whole, never negative. */
const ms = (t: number) => toHex(Math.max(0, Math.floor(t)));

/** Writes everything of `a` except the generation and deadtime, which travel as Heartbeat's `hg` and `dt`. */
export function writeAdvert(m: HbMessage, a: PeerAdvert): void {
  const entries = Object.entries(a.groups);
  m.set('hts_ph', entries.map(([id, g]) => `${groupKey(id)}:${PHASE_CHAR[g.phase]}`).join(','));
  if (a.standby.length) m.set('hts_sb', a.standby.map(groupKey).join(','));
  if (a.failed.length) m.set('hts_fl', a.failed.map(groupKey).join(','));
  if (a.takeover) m.set('hts_tk', `${a.takeover.serial}:${a.takeover.groups.map(groupKey).join(',')}`);
  if (a.leaving) m.set('hts_lv', '1');
  if (a.resources.length) m.set('hts_rs', a.resources.map(groupKey).join(','));
  if (a.pings !== undefined) m.set('hts_pn', toHex(a.pings));
  m.set('hts_at', ms(a.at));
  if (a.acks.length) m.set('hts_ak', a.acks.map((k) => `${k.node}:${toHex(k.gen)}:${ms(k.at)}`).join(','));
  const claims = entries.flatMap(([id, g]) => (g.claim !== null ? [`${groupKey(id)}:${toHex(g.claim)}`] : []));
  if (claims.length) m.set('hts_cl', claims.join(','));
  const grants = entries.flatMap(([id, g]) => (g.grant ? [`${groupKey(id)}:${g.grant.node}:${toHex(g.grant.gen)}:${toHex(g.grant.claim)}`] : []));
  if (grants.length) m.set('hts_gr', grants.join(','));
}

/**
 * The sender's advert as far as the receiver's groups go (`keys`); null when the message
 * carries none (a real Heartbeat node advertises no groups) or lacks its clock.
 */
export function readAdvert(m: HbMessage, keys: GroupKeys): PeerAdvert | null {
  const ph = m.getString('hts_ph');
  const gen = parseHex(m.getString(F_HBGENERATION));
  const deadtimeMs = parseHex(m.getString(F_DT));
  const at = parseHex(m.getString('hts_at'));
  if (ph === undefined || gen === undefined || deadtimeMs === undefined || at === undefined) return null;
  const groups: Record<string, GroupAdvert> = {};
  for (const item of ph.split(',')) {
    const [key, c] = item.split(':');
    const id = keys.idOf(key);
    if (id !== undefined) groups[id] = { phase: (c && CHAR_PHASE[c]) || 'stopped', claim: null, grant: null };
  }
  readClaims(m.getString('hts_cl'), keys, groups);
  readGrants(m.getString('hts_gr'), keys, groups);
  return {
    groups,
    standby: keys.ids(m.getString('hts_sb')),
    failed: keys.ids(m.getString('hts_fl')),
    takeover: readTakeover(m.getString('hts_tk'), keys),
    leaving: m.getString('hts_lv') === '1',
    gen,
    at,
    deadtimeMs,
    acks: readAcks(m.getString('hts_ak')),
    resources: keys.resources(m.getString('hts_rs')),
    ...pingsOf(parseHex(m.getString('hts_pn'))),
  };
}

const pingsOf = (n: number | undefined): { pings?: number } => (n === undefined ? {} : { pings: n });

function readTakeover(text: string | undefined, keys: GroupKeys): PeerAdvert['takeover'] {
  if (!text) return null;
  const [serialText, list] = text.split(':');
  const serial = Number(serialText);
  return Number.isSafeInteger(serial) && serial > 0 ? { serial, groups: keys.ids(list) } : null;
}

function readAcks(text: string | undefined): Ack[] {
  if (text === undefined) return [];
  return text.split(',').flatMap((item) => {
    const [node, g, t] = item.split(':');
    const gen = parseHex(g);
    const at = parseHex(t);
    return node && NODE_NAME.test(node) && gen !== undefined && at !== undefined ? [{ node, gen, at }] : [];
  });
}

/** Claims and grants of groups the sender has (listed in hts_ph); others are ignored. */
function readClaims(text: string | undefined, keys: GroupKeys, groups: Record<string, GroupAdvert>): void {
  for (const item of text?.split(',') ?? []) {
    const [key, c] = item.split(':');
    const g = groups[keys.idOf(key) ?? ''];
    const claim = parseHex(c);
    if (g && claim !== undefined) g.claim = claim;
  }
}

function readGrants(text: string | undefined, keys: GroupKeys, groups: Record<string, GroupAdvert>): void {
  for (const item of text?.split(',') ?? []) {
    const [key, node, gen, c] = item.split(':');
    const g = groups[keys.idOf(key) ?? ''];
    const grantGen = parseHex(gen);
    const claim = parseHex(c);
    if (g && node && NODE_NAME.test(node) && grantGen !== undefined && claim !== undefined) g.grant = { node, gen: grantGen, claim };
  }
}
