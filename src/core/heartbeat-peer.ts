// A peer that speaks Heartbeat 3.0.6's protocol alone (a real Heartbeat in haresources mode,
// nice_failback: hb_resource.c) seen through our core. It sends no advert; it says what it
// holds in its own words, and negotiates every move of a group by messages:
//
//   starting                      "I just came up: tell me what you hold"; answered with
//   resource rsc_hold rtype isstable [info]
//                                 what the sender holds: none, local (groups whose haresources
//                                 line names the sender first), foreign (the others') or all;
//                                 isstable=0 while it is still taking or giving up groups
//   ask_resources rsc_hold info   hb_standby's three phases: me (the sender will give up
//                                 rsc_hold, in its own words), other (the receiver is ready to
//                                 take them), done (released, or taken)
//   hb_takeover rsc_hold          "run hb_standby with the other half of rsc_hold"
//   ip-request ipaddr             auto_failback legacy (rc.d/ip-request, ResourceManager): a node
//                                 coming up asks for each of its groups by its first resource;
//                                 the holder stops the group, then answers ip-request-resp
//                                 (weown yes or no, ok=OK) and the asker takes it. Such a peer
//                                 sends no resource messages: it holds its groups once answered
//
// Here those messages become a synthetic advert the rest of the core reads like any other
// (policy.ts and ownership.ts do not know the difference), and our own moves become the
// messages such a peer expects: the resources we hold after each step, `me` and `done` around
// a group we give to it, `other` and `done` around one it gives to us. A group we give it keeps
// running here until it answered `other`: Heartbeat ignores a `me` while a move is in flight
// ("Standby in progress", "Other side is in flux"), and a group stopped on an ignored `me`
// would run nowhere. Pure: state in, state and messages out. Heartbeat's haresources mode is
// a two-node protocol; so is this.
import type { GroupPhase, PeerAdvert } from './advert.js';
import type { GroupDef } from './group.js';
import { holds } from './advert.js';

export type Hold = 'none' | 'local' | 'foreign' | 'all';
export const HOLDS: readonly Hold[] = ['none', 'local', 'foreign', 'all'];

/** A message for a Heartbeat peer: its type and fields in Heartbeat's order (the runtime adds the rest). */
export interface HbSend {
  kind: 'send-hb';
  fields: [string, string][];
}

/** What a Heartbeat peer said, as the runtime read it. */
export type HbPeerEvent =
  | { kind: 'starting' }
  | { kind: 'resource'; hold: Hold; full: boolean; stable: boolean | null; info: string | null }
  | { kind: 'ask'; hold: Hold; info: 'me' | 'other' | 'done' }
  | { kind: 'hb-takeover'; hold: Hold }
  | { kind: 'ip-request'; key: string };

export interface HbPeer {
  gen: number;
  /** What it holds in its own words; null until it said (its starting, or a resource message). */
  hold: Hold | null;
  stable: boolean;
  leaving: boolean;
  /** Groups it gave up by hb_standby (or asked us to run by hb_takeover): it is no candidate for them. */
  standby: string[];
  /** It asked to go standby (`me`) and we answered `other`: waiting for its `done`. */
  giving: Hold | null;
  /** It gave us these (its words) with `done`: we say `done` once we run them. */
  taken: Hold | null;
  /** We give it these (our words): `me` sent, `done` due once they are stopped here. */
  releasing: Hold | null;
  /** We said `done` for these (our words): it acquires them now, and says `done` when it runs them. */
  handing: Hold | null;
  /** Since when a move is in flight (inFlight); one that never ends is forgotten after MOVE_TIMEOUT_MS. */
  flightSince: number | null;
  /** The groups (ids) `releasing` covers; it answered `other` for them: we may stop them now. */
  releasingGroups: string[];
  accepted: boolean;
  /** When we last sent `me` for `releasing`: asked again after ASK_AGAIN_MS without an answer. */
  askedAt: number;
  /** We said `starting` to this run of it. */
  greeted: boolean;
  /**
   * The halves without any group that we claim (our words, bits: 1 local, 2 foreign); null
   * until the peer said what it holds. Heartbeat claims such a half like any other (its
   * "local" after acquiring nothing, "all" after a standby of all), and its audit looks for
   * an owner of each: they move with the negotiation, as the groups do.
   */
  emptyClaim: number | null;
  /** The last resource message we sent it, to send again only on a change. */
  lastSent: string | null;
  /** Its ip-requests not answered yet (a group we hold answers once stopped), and whether we held it. */
  asked: { key: string; held: boolean }[];
}

export function newPeer(gen: number): HbPeer {
  return { gen, hold: null, stable: false, leaving: false, standby: [], giving: null, taken: null, releasing: null, handing: null, flightSince: null, releasingGroups: [], accepted: false, askedAt: 0, greeted: false, emptyClaim: null, lastSent: null, asked: [] };
}

/** A `me` the peer ignored (it was in flux) is sent again after this long. */
export const ASK_AGAIN_MS = 3000;
/** A move whose end never came (a peer that cancelled its standby, a start that failed here) stops blocking the next after this long. */
export const MOVE_TIMEOUT_MS = 60_000;

const LOCAL = 1;
const FOREIGN = 2;
const bits = (h: Hold): number => HOLDS.indexOf(h);
const word = (b: number): Hold => HOLDS[b & 3]!;

/** The other half of a hold: the same groups in the other node's words. */
export function mirror(h: Hold): Hold {
  return h === 'local' ? 'foreign' : h === 'foreign' ? 'local' : h;
}

/** The groups a hold of `node` covers: its own (local), the others' (foreign), all or none. */
export function groupsOf(groups: readonly GroupDef[], node: string, h: Hold): GroupDef[] {
  const b = bits(h);
  return groups.filter((g) => (g.preferredNode === node ? b & LOCAL : b & FOREIGN));
}

/** What `node` holds in Heartbeat's words, from the phases of its groups. */
export function holdOf(groups: readonly GroupDef[], node: string, phaseOf: (g: number) => GroupPhase): Hold {
  let b = 0;
  groups.forEach((def, g) => {
    if (holds(phaseOf(g))) b |= def.preferredNode === node ? LOCAL : FOREIGN;
  });
  return word(b);
}

/** The halves (in `node`'s words, as bits) that have no group at all. */
function emptyHalves(groups: readonly GroupDef[], node: string): number {
  let b = LOCAL | FOREIGN;
  for (const g of groups) b &= ~(g.preferredNode === node ? LOCAL : FOREIGN);
  return b;
}

/** A group is moving between us: given, accepted or handed, and not yet done on both sides. */
export function moving(p: HbPeer): boolean {
  return p.giving !== null || p.taken !== null || p.handing !== null || (p.releasing !== null && p.accepted);
}

/** A move is under way, or asked for (our `me` not answered yet): the peer's new requests wait. */
export function inFlight(p: HbPeer): boolean {
  return moving(p) || p.releasing !== null;
}

/** One message of the peer: its new state, what we answer at once, and whether we ignored it (a `me` while a move is in flight). */
export function onPeerEvent(p: HbPeer, ev: HbPeerEvent, groups: readonly GroupDef[], node: string): { peer: HbPeer; sends: HbSend[]; ignored: boolean } {
  const peer: HbPeer = { ...p, standby: [...p.standby] };
  const sends: HbSend[] = [];
  let ignored = false;
  switch (ev.kind) {
    case 'starting':
      // A run that has just come up holds nothing and asks what we hold: answered after this step.
      Object.assign(peer, newPeer(p.gen), { hold: 'none', greeted: p.greeted, emptyClaim: p.emptyClaim });
      break;
    case 'resource': {
      const before = peer.hold === null ? 0 : bits(peer.hold);
      peer.hold = ev.full ? ev.hold : ev.hold === 'none' ? 'none' : word(before | bits(ev.hold));
      if (ev.stable !== null) peer.stable = ev.stable;
      peer.leaving = ev.info === 'shutdown';
      // A half it claims is not ours (its words mirrored to ours).
      if (peer.emptyClaim !== null) peer.emptyClaim &= ~bits(mirror(peer.hold));
      // What it holds again, it is no longer in standby for.
      const held = new Set(groupsOf(groups, node, peer.hold).map((g) => g.id));
      peer.standby = peer.standby.filter((id) => !held.has(id));
      break;
    }
    case 'ask':
      if (ev.info === 'me' && inFlight(peer)) {
        // A move is under way between us: as Heartbeat, we ignore a new one ("Standby in progress").
        ignored = true;
      } else if (ev.info === 'me') {
        // It stands by for its own groups until it holds them again (hb_standby is sticky);
        // giving back ours (its auto_failback) needs no such note: our policy prefers us anyway.
        for (const g of groupsOf(groups, node, ev.hold)) if (g.preferredNode === node && !peer.standby.includes(g.id)) peer.standby.push(g.id);
        peer.giving = ev.hold;
        sends.push(ask(ev.hold, 'other'));
      } else if (ev.info === 'other' && peer.releasing !== null) {
        // Ready to take what we give it: now we stop it here (ownership reads `accepts`).
        peer.accepted = true;
      } else if (ev.info === 'done' && peer.giving !== null) {
        // Released: what it held of those is stopped there (its resource message says so too).
        peer.hold = word((peer.hold === null ? 0 : bits(peer.hold)) & ~bits(peer.giving));
        peer.taken = peer.giving;
        // Its empty halves among them are ours now.
        if (peer.emptyClaim !== null) peer.emptyClaim |= bits(mirror(peer.giving)) & bits(mirror(word(emptyHalves(groups, node))));
        peer.giving = null;
      } else if (ev.info === 'done' && peer.handing !== null) {
        // It runs what we gave it: that move is over.
        peer.handing = null;
      }
      break;
    case 'hb-takeover':
      // The caller turns it into our standby (rc.d/hb_takeover runs hb_standby here), which
      // Heartbeat ignores while a move is under way.
      ignored = inFlight(peer);
      break;
    case 'ip-request':
      // It asks before it holds anything of its own (req_resource); answered after this step.
      peer.hold ??= 'none';
      if (!peer.asked.some((a) => a.key === ev.key)) peer.asked = [...peer.asked, { key: ev.key, held: false }];
      break;
  }
  return { peer, sends, ignored };
}

export function ask(hold: Hold, info: 'me' | 'other' | 'done'): HbSend {
  return { kind: 'send-hb', fields: [['t', 'ask_resources'], ['rsc_hold', hold], ['info', info]] };
}

export const starting = (): HbSend => ({ kind: 'send-hb', fields: [['t', 'starting']] });

export const takeoverRequest = (hold: Hold): HbSend => ({ kind: 'send-hb', fields: [['t', 'hb_takeover'], ['rsc_hold', hold]] });

/** What our core knows after a step, for the messages a Heartbeat peer expects of us. */
export interface OurSide {
  me: string;
  groups: readonly GroupDef[];
  phase: (g: number) => GroupPhase;
  desired: (g: number) => string | null;
  leaving: boolean;
  /** The peer is alive and active in our view. */
  peerActive: boolean;
  now: number;
}

/**
 * After each step of ours: the resource message when what we hold or our stability changed,
 * `starting` to a new run of the peer, `done` when we run what it gave us, `me` when the
 * policy gives it a group we run (again if it did not answer), and `done` once that group is
 * stopped here, after its `other`.
 */
export function afterStep(p: HbPeer, node: string, us: OurSide): { peer: HbPeer; sends: HbSend[] } {
  const peer: HbPeer = { ...p };
  const sends: HbSend[] = [];
  if (!us.peerActive) return { peer, sends };
  if (!peer.greeted) {
    peer.greeted = true;
    sends.push(starting());
  }
  // Nothing more until it said what it holds (its answer to our starting, or its own starting):
  // what we claim depends on it.
  if (peer.hold === null) return { peer, sends };
  // At first our own empty half is ours, unless the peer claims it (it took over from us).
  peer.emptyClaim ??= emptyHalves(us.groups, us.me) & LOCAL & ~bits(mirror(peer.hold));
  const gs = us.groups.map((_, g) => g);
  // First what ends a move: a move after it then finds the peer settled, not "in flux".
  if (peer.taken !== null) {
    const mine = groupsOf(us.groups, node, peer.taken).filter((d) => us.desired(us.groups.indexOf(d)) === us.me);
    if (mine.every((d) => us.phase(us.groups.indexOf(d)) === 'running')) {
      sends.push(ask(peer.taken, 'done'));
      peer.taken = null;
      peer.lastSent = null; // Heartbeat says what it holds after each completed standby: so do we
    }
  }
  answerRequests(peer, node, us, sends);
  if (!inFlight(peer)) peer.flightSince = null;
  else if (peer.flightSince === null) peer.flightSince = us.now;
  else if (us.now - peer.flightSince >= MOVE_TIMEOUT_MS) Object.assign(peer, { giving: null, taken: null, handing: null, flightSince: null });
  giveToPeer(peer, node, us, gs, sends);
  // Stable, as Heartbeat means it: taking or giving up nothing now. A group we want while the
  // peer holds it is no transition of ours (the peer gives it back, auto_failback, when it
  // hears we are stable); one we want that nobody holds is about to start here; one the peer
  // is to have moves only once it accepted.
  const peerHolds = new Set(groupsOf(us.groups, node, peer.hold ?? 'none').map((d) => d.id));
  const transitioning = gs.some((g) => {
    const ph = us.phase(g);
    const want = us.desired(g);
    const starting = ph === 'stopped' && want === us.me && !peerHolds.has(us.groups[g]!.id);
    const leaving = ph === 'running' && want !== us.me && want !== null && (want !== node || peer.accepted);
    return (ph !== 'stopped' && ph !== 'running') || starting || leaving;
  });
  const hold = word(bits(holdOf(us.groups, us.me, us.phase)) | (us.leaving ? 0 : peer.emptyClaim ?? 0));
  // A move it began is not over before our done (it audits what each side holds once both are stable).
  const stable = !us.leaving && !transitioning && !peer.accepted && peer.giving === null && peer.taken === null;
  const text = `${hold}:${stable ? 1 : 0}:${us.leaving ? 'shutdown' : ''}`;
  if (text !== peer.lastSent) {
    peer.lastSent = text;
    const fields: [string, string][] = [['t', 'resource'], ['rsc_hold', hold], ['rtype', 'full'], ['isstable', stable ? '1' : '0']];
    if (us.leaving) fields.push(['info', 'shutdown']);
    sends.push({ kind: 'send-hb', fields });
  }
  return { peer, sends };
}

/** The group an ip-request names: the haresources line whose first resource it is (ResourceManager's key). */
export function groupByKey(groups: readonly GroupDef[], key: string): GroupDef | undefined {
  return groups.find((g) => g.resources[0] === key);
}

/**
 * rc.d/ip-request's answer: a group we do not hold (or do not know), at once with weown=no; one
 * we hold once its stop here is over (ownership stops it: the advert accepts it), with
 * weown=yes. Either way ok=OK, and the peer takes the group: it holds it from then on.
 */
function answerRequests(peer: HbPeer, node: string, us: OurSide, sends: HbSend[]): void {
  peer.asked = peer.asked.flatMap((a) => {
    const def = groupByKey(us.groups, a.key);
    const ph = def ? us.phase(us.groups.indexOf(def)) : 'stopped';
    if (ph !== 'stopped') return [{ ...a, held: true }];
    sends.push({ kind: 'send-hb', fields: [['t', 'ip-request-resp'], ['dest', node], ['ipaddr', a.key], ['weown', a.held ? 'yes' : 'no'], ['ok', 'OK']] });
    if (def) peer.hold = word(bits(peer.hold ?? 'none') | (def.preferredNode === node ? LOCAL : FOREIGN));
    return [];
  });
}

/** Our part of a group moving to the peer (hb_resource.c's standby): `me`, its `other`, our stop, `done`. */
function giveToPeer(peer: HbPeer, node: string, us: OurSide, gs: number[], sends: HbSend[]): void {
  // (A group it asked for by ip-request is not negotiated again: ownership stops it already.)
  const requested = new Set(peer.asked.map((a) => a.key));
  const given = gs.filter((g) => us.phase(g) === 'running' && us.desired(g) === node && !requested.has(us.groups[g]!.resources[0]!));
  const phases = peer.releasingGroups.map((id) => us.phase(us.groups.findIndex((d) => d.id === id)));
  const stopping = phases.some((ph) => ph === 'stopping' || ph === 'stop-failed');
  const stopped = phases.every((ph) => ph === 'stopped');
  // Wanted here again before its stop began: nothing moved (the peer forgets an unfinished standby by itself).
  if (peer.releasing !== null && given.length === 0 && !stopping && !(peer.accepted && stopped)) Object.assign(peer, { releasing: null, releasingGroups: [], accepted: false });
  if (peer.releasing === null && given.length > 0 && !us.leaving && !inFlight(peer)) {
    // Giving up every group we hold gives our empty halves with them (a standby of all).
    const keep = gs.some((g) => !given.includes(g) && holds(us.phase(g)));
    const empty = keep ? 0 : peer.emptyClaim ?? 0;
    peer.releasing = word(bits(holdOf(us.groups, us.me, (g) => (given.includes(g) ? 'running' : 'stopped'))) | empty);
    peer.releasingGroups = given.map((g) => us.groups[g]!.id);
    peer.accepted = false;
    peer.askedAt = -Infinity;
  }
  if (peer.releasing !== null && !peer.accepted && us.now - peer.askedAt >= ASK_AGAIN_MS) {
    sends.push(ask(peer.releasing, 'me'));
    peer.askedAt = us.now;
  }
  if (peer.releasing !== null && peer.accepted && stopped) {
    sends.push(ask(peer.releasing, 'done'));
    // It acquires them now: held there as far as we know, until it says otherwise. Our empty
    // halves among them go with them only now: claimed until then, or its audit finds them
    // owned by no one while we still say we are stable.
    peer.hold = word(bits(peer.hold ?? 'none') | bits(mirror(peer.releasing)));
    peer.emptyClaim = (peer.emptyClaim ?? 0) & ~bits(peer.releasing);
    Object.assign(peer, { handing: peer.releasing, releasing: null, releasingGroups: [], accepted: false, lastSent: null });
  }
}

/** The advert our core reads for the peer: its groups held or not, its standby, its leaving. */
export function advertOfPeer(p: HbPeer, node: string, groups: readonly GroupDef[], deadtimeMs: number, now: number): PeerAdvert | null {
  if (p.hold === null) return null;
  // What it gives us is held there until its done: it says it holds nothing before its stop (go_standby).
  const held = new Set([...groupsOf(groups, node, p.hold), ...(p.giving === null ? [] : groupsOf(groups, node, p.giving))].map((g) => g.id));
  return {
    groups: Object.fromEntries(groups.map((g) => [g.id, { phase: held.has(g.id) ? 'running' : 'stopped', claim: null, grant: null }])),
    standby: p.standby,
    failed: [],
    takeover: null,
    leaving: p.leaving,
    gen: p.gen,
    at: Math.floor(now),
    deadtimeMs,
    acks: [],
    resources: groups.filter((g) => held.has(g.id)).flatMap((g) => g.resources),
    heartbeatPeer: true,
    accepts: [...(p.accepted ? p.releasingGroups : []), ...p.asked.flatMap((a) => groupByKey(groups, a.key)?.id ?? [])],
  };
}
