// The dashboard's script, run by the browser (compiled by tsc to dashboard/app.js and served
// by hbd at /dashboard.js). It reads GET /status once, then follows GET /events (server-sent
// events) and re-renders on every status. Standby/takeover buttons appear only once the user
// gives the bearer token (typed in, or as #token=... in the address; kept for the tab only).
// Types only come from status/: nothing of it is loaded in the browser.
import type { GroupView, NodeView, StatusSnapshot, Transition } from '../../status/snapshot.js';

type Status = StatusSnapshot & { api?: { controls: boolean; version: string; generatedAt: string } };

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`dashboard: #${id} missing`);
  return el as T;
};

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string | null | false)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') el.className = v;
    else el.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== false) el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

const TOKEN_KEY = 'hbd-token';
let last: Status | null = null;
let receivedAt = 0;
let token: string | null = sessionStorage.getItem(TOKEN_KEY);

// A token in the fragment (#token=...) is never sent to the server; take it and clean the address.
{
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m?.[1]) {
    token = decodeURIComponent(m[1]);
    sessionStorage.setItem(TOKEN_KEY, token);
    history.replaceState(null, '', location.pathname + location.search);
  }
}

// --- formatting -------------------------------------------------------------------------------

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
function clock(iso: string): string {
  const d = new Date(iso);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
function ago(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms ago`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s ago`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
  return `${Math.floor(ms / 3_600_000)} h ago`;
}
const STATUS_TONE: Record<string, string> = { active: 'green', up: 'blue', init: 'grey', dead: 'red' };

/** A resource group's display name: its resources, since its id repeats the preferred node. */
const groupTitle = (g: GroupView): string => g.resources.join(' ');

// --- rendering --------------------------------------------------------------------------------

function render(s: Status): void {
  last = s;
  receivedAt = performance.now();
  const me = s.nodes.find((n) => n.self);
  document.title = `${headline(s).text} · ${s.node} · heartbeat-ts`;
  $('served-by').textContent = `seen from ${s.node}${s.api?.version ? ` · v${s.api.version}` : ''}`;
  const hl = headline(s);
  $('health').dataset.state = hl.state;
  $('health-text').textContent = hl.text;
  renderDrift(s);
  renderGroups(s);
  renderNodes(s);
  renderTimeline(s);
  renderControls(s);
  $('foot').textContent = `${s.nodes.length} nodes · ${s.groups.length} resource group${s.groups.length === 1 ? '' : 's'} · this node ${me?.name ?? s.node} is ${s.status}${s.settled ? '' : ' (still settling)'} · updated ${clock(s.api?.generatedAt ?? new Date().toISOString())}`;
}

function headline(s: Status): { state: string; text: string } {
  const dead = s.nodes.filter((n) => n.status === 'dead').map((n) => n.name);
  const orphan = s.groups.filter((g) => !g.owner);
  if (orphan.length) return { state: 'bad', text: `${orphan.length} resource group${orphan.length > 1 ? 's' : ''} not running${dead.length ? ` · ${dead.join(', ')} dead` : ''}` };
  if (dead.length) return { state: 'warn', text: `${dead.join(', ')} ${dead.length > 1 ? 'are' : 'is'} dead · resources running` };
  if (s.drift.length) return { state: 'warn', text: 'Configuration drift' };
  if (s.nodes.some((n) => n.status !== 'active')) return { state: 'warn', text: 'Nodes starting' };
  return { state: 'ok', text: 'All nodes active' };
}

function renderDrift(s: Status): void {
  const box = $('drift');
  box.hidden = s.drift.length === 0;
  if (box.hidden) return;
  $('drift-text').textContent = s.drift
    .map((n) => {
      const parts = s.driftParts?.[n] ?? [];
      return `${n} and ${s.node} run different configurations${parts.length ? `: ${parts.join(', ')} ${parts.length > 1 ? 'differ' : 'differs'}` : ''}.`;
    })
    .join(' ');
}

function renderGroups(s: Status): void {
  const box = $('groups');
  box.replaceChildren();
  if (s.groups.length === 0) box.append(h('div', { class: 'empty' }, 'No resource groups in haresources.'));
  s.groups.forEach((g, index) => {
    const moving = Object.entries(g.phases).find(([, ph]) => ph === 'starting' || ph === 'stopping');
    const failed = Object.entries(g.phases).find(([, ph]) => ph === 'stop-failed');
    const state = g.owner ? 'running' : moving ? 'moving' : 'down';
    const badge = g.owner
      ? h('span', { class: 'badge green' }, 'running')
      : failed
        ? h('span', { class: 'badge red' }, `stop failed on ${failed[0]}`)
        : moving
          ? h('span', { class: 'badge blue' }, `${moving[1]} on ${moving[0]}`)
          : h('span', { class: 'badge red' }, 'not running');
    let note = '';
    if (g.owner && g.owner !== g.preferredNode) note = `failed over from ${g.preferredNode} (preferred node)`;
    else if (g.owner) note = 'on its preferred node';
    else note = `preferred node: ${g.preferredNode}`;
    const chips = h('div', { class: 'chips' });
    g.resources.forEach((r, i) => {
      if (i > 0) chips.append(h('span', { class: 'chip-arrow' }, '→'));
      chips.append(h('span', { class: 'chip' }, r));
    });
    const phases = h('div', { class: 'phases' });
    for (const n of s.nodes) {
      const ph = g.phases[n.name];
      phases.append(h('span', {}, h('b', {}, n.name), ' ', h('span', { class: `ph-${ph ?? 'stopped'}` }, ph ?? (n.status === 'dead' ? 'dead' : '—'))));
    }
    box.append(
      h(
        'article',
        { class: 'group', 'data-group': g.id, 'data-owner': g.owner ?? '', 'data-state': state },
        h('div', { class: 'group-top' }, h('span', { class: 'group-label', title: g.id }, `Resource group ${index + 1}`), badge),
        h('div', { class: 'owner-cap' }, g.owner ? 'owner' : moving ? 'moving to' : 'owner'),
        h('div', { class: 'owner' }, h('span', { class: 'owner-name', 'data-role': 'owner' }, g.owner ?? (moving ? moving[0] : 'no owner')), h('span', { class: `owner-note${g.owner && g.owner !== g.preferredNode ? ' moved' : ''}` }, g.owner ? note : moving ? `${moving[1]}…` : note)),
        chips,
        phases,
        ...monitorNotes(g),
      ),
    );
  });
}

/** Resource monitoring's word on a group (as cli/status-text.ts says it: this file is served alone). */
function monitorNotes(g: GroupView): HTMLElement[] {
  const m = g.monitor;
  const notes = Object.entries(m?.failures ?? {}).filter(([, n]) => n > 0).map(([r, n]) => `${r}: ${n} failed check${n === 1 ? '' : 's'} in a row here`);
  if (m?.keptOut) notes.push(`this node keeps out of it (monitor failures) ${m.keptOutForMs === null ? 'until cleared' : `for ${Math.ceil(m.keptOutForMs / 1000)} s more`}: hbctl clear lets it back`);
  if (g.heldOff?.length) notes.push(`held off: ${g.heldOff.join(', ')}`);
  return notes.map((t) => h('div', { class: 'monitor-note', 'data-role': 'monitor' }, t));
}

function renderNodes(s: Status): void {
  const box = $('nodes');
  box.replaceChildren();
  const owned = (n: string) => s.groups.filter((g) => g.owner === n).map(groupTitle);
  for (const n of s.nodes) box.append(nodeCard(s, n, owned(n.name)));
  for (const p of s.pingNodes ?? []) box.append(pingCard(p, s.pings?.ipfail === true));
}

/** A ping node (ha.cf ping, ping_group) as this node reaches it. */
function pingCard(p: NonNullable<Status['pingNodes']>[number], ipfail: boolean): HTMLElement {
  const tone = p.status === 'ping' ? 'green' : p.status === 'dead' ? 'red' : 'grey';
  return h(
    'article',
    { class: 'node', 'data-node': p.name, 'data-status': p.status, 'data-kind': 'ping' },
    h('div', { class: 'node-top' }, h('span', { class: 'node-dot' }), h('span', { class: 'node-name' }, p.name), h('span', { class: 'self-tag', title: ipfail ? 'ipfail on: a node that loses it hands its groups over' : 'reachability only' }, 'ping node'), h('span', { class: `badge ${tone}`, 'data-role': 'status' }, p.status)),
    h('dl', { class: 'kv' }, h('dt', {}, 'addresses'), h('dd', { class: 'mono' }, p.addresses.join(' ')), h('dt', {}, 'last reply'), h('dd', { 'data-role': 'heard' }, p.lastReplyMsAgo === null ? 'never' : ago(p.lastReplyMsAgo))),
  );
}

function nodeCard(s: Status, n: NodeView, owns: string[]): HTMLElement {
  const drifting = s.drift.includes(n.name);
  const links = h('div', { class: 'links' });
  if (n.self) links.append(h('span', { class: 'mono digest-ok' }, 'local'));
  for (const l of n.links) links.append(h('span', { class: `link${l.up ? ' up' : ''}`, title: l.up ? 'heartbeats arrive' : 'no heartbeats' }, l.name));
  const heard = n.self ? 'now' : n.lastHeardMsAgo === null ? 'never' : ago(n.lastHeardMsAgo);
  const digest = n.digest ? n.digest.slice(0, 12) : '—';
  const parts = s.driftParts?.[n.name] ?? [];
  return h(
    'article',
    { class: 'node', 'data-node': n.name, 'data-status': n.status },
    h(
      'div',
      { class: 'node-top' },
      h('span', { class: 'node-dot' }),
      h('span', { class: 'node-name' }, n.name),
      n.self ? h('span', { class: 'self-tag', title: 'the node serving this page' }, 'this node') : null,
      n.witness ? h('span', { class: 'self-tag', title: 'hbd --witness: a vote for one side of a partition; runs no group' }, 'witness') : null,
      h('span', { class: `badge ${STATUS_TONE[n.status] ?? 'grey'}`, 'data-role': 'status' }, n.status),
    ),
    h(
      'dl',
      { class: 'kv' },
      h('dt', {}, 'runs'),
      h('dd', { class: owns.length ? 'owns' : 'digest-ok', title: owns.join('\n') }, owns.length ? owns.join(' · ') : '—'),
      h('dt', {}, 'links'),
      h('dd', {}, links),
      h('dt', {}, 'last heard'),
      h('dd', { 'data-role': 'heard' }, heard),
      h('dt', {}, 'generation'),
      h('dd', { class: 'mono' }, n.generation === null ? (n.self ? 'this run' : '—') : String(n.generation)),
      h('dt', {}, 'config'),
      h('dd', { class: `mono ${drifting ? 'digest-drift' : 'digest-ok'}`, title: n.digest ?? '' }, drifting ? `${digest} · ${parts.length ? `${parts.join(', ')} differ${parts.length > 1 ? '' : 's'}` : 'differs'}` : `${digest}${n.digest && !n.self ? ' ✓' : ''}`),
    ),
  );
}

const EVENT_STYLE: Record<string, { label: string; tone: string }> = {
  'node-dead': { label: 'death', tone: 'red' },
  'node-active': { label: 'active', tone: 'green' },
  'node-up': { label: 'up', tone: 'blue' },
  'node-init': { label: 'init', tone: 'grey' },
  takeover: { label: 'takeover', tone: 'amber' },
  failback: { label: 'failback', tone: 'blue' },
  acquired: { label: 'acquire', tone: 'blue' },
  release: { label: 'release', tone: 'grey' },
  standby: { label: 'standby', tone: 'purple' },
  'start-failed': { label: 'start failed', tone: 'red' },
  'stop-failed': { label: 'stop failed', tone: 'red' },
  running: { label: 'running', tone: 'green' },
  stopped: { label: 'stopped', tone: 'grey' },
  'link-up': { label: 'link up', tone: 'grey' },
  'link-dead': { label: 'link dead', tone: 'orange' },
  drift: { label: 'drift', tone: 'orange' },
};

/** The core's wording, made to read as a sentence for node events ("alpha is dead (timeout)"). */
function eventText(t: Transition): string {
  const m = /^node (\S+): (\S+) -> (\S+)(?: \((\w+)\))?$/.exec(t.text);
  if (!m) return t.text;
  const [, node, , to, reason] = m;
  if (to === 'dead') {
    if (reason === 'shutdown') return `${node} shut down and left the cluster`;
    if (reason === 'crash') return `${node} is dead: its hbd died (its address guard said so)`;
    return `${node} is dead${reason === 'timeout' ? ': no heartbeat for deadtime' : ''}`;
  }
  if (to === 'active') return `${node} is active`;
  if (to === 'up') return `${node} is up`;
  return t.text;
}

const eventStyle = (t: Transition): { label: string; tone: string } => EVENT_STYLE[t.tag ?? ''] ?? { label: t.kind, tone: 'grey' };

function renderTimeline(s: Status): void {
  const list = $('timeline');
  const showLinks = ($<HTMLInputElement>('show-links')).checked;
  const items = s.transitions.filter((t) => showLinks || t.kind !== 'link').slice(-60).reverse();
  list.replaceChildren();
  if (items.length === 0) list.append(h('li', { class: 'empty' }, 'Nothing has happened yet.'));
  const now = Date.now();
  for (const t of items) {
    const st = eventStyle(t);
    const head = h('div', { class: 'ev-head' }, h('span', { class: `badge ${st.tone}` }, st.label), h('span', { class: 'ev-time' }, clock(t.at)), h('span', { class: 'ev-ago' }, ago(now - Date.parse(t.at))));
    list.append(h('li', { class: 'ev', 'data-tone': st.tone, 'data-tag': t.tag ?? t.kind }, h('span', { class: 'ev-dot' }), h('div', {}, head, h('div', { class: 'ev-text', title: t.text }, eventText(t)))));
  }
}

// --- controls (only with a token) -------------------------------------------------------------

let tokenFormOpen = false;

function renderControls(s: Status | null): void {
  const withToken = token !== null;
  $('controls').hidden = !withToken && !tokenFormOpen;
  $('token-form').hidden = !tokenFormOpen;
  const actions = $('actions');
  actions.hidden = !withToken || tokenFormOpen;
  $('unlock').hidden = withToken;
  if (!withToken || !s) return;
  $('actions-node').textContent = s.node;
  const disabled = s.api?.controls === false;
  for (const id of ['btn-standby', 'btn-takeover']) ($<HTMLButtonElement>(id)).disabled = disabled;
  if (disabled && !$('action-result').textContent) setResult('err', 'standby/takeover are disabled on this node (see its log)');
}

function setResult(kind: 'ok' | 'err' | '', text: string): void {
  const r = $('action-result');
  r.className = `action-result ${kind}`;
  r.textContent = text;
}

async function act(kind: 'standby' | 'takeover'): Promise<void> {
  if (!token) return;
  const scope = ($<HTMLSelectElement>('scope')).value;
  setResult('', `${kind}…`);
  try {
    const r = await fetch(`/${kind}`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ scope }) });
    const body = (await r.json().catch(() => ({}))) as { error?: { code: string; message: string } };
    if (r.ok) setResult('ok', `${kind} (${scope}) accepted at ${clock(new Date().toISOString())}`);
    else {
      setResult('err', `${body.error?.code ?? r.status}: ${body.error?.message ?? r.statusText}`);
      if (r.status === 401) {
        // Ask again rather than keep a token the node refuses.
        forgetToken(false);
        tokenFormOpen = true;
        renderControls(last);
      }
    }
  } catch (err) {
    setResult('err', `request failed: ${(err as Error).message}`);
  }
}

function forgetToken(clearMessage = true): void {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  if (clearMessage) setResult('', '');
  renderControls(last);
}

$('unlock').addEventListener('click', () => {
  tokenFormOpen = true;
  renderControls(last);
  $('token').focus();
});
$('token-cancel').addEventListener('click', () => {
  tokenFormOpen = false;
  renderControls(last);
});
$('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const v = ($<HTMLInputElement>('token')).value.trim();
  ($<HTMLInputElement>('token')).value = '';
  tokenFormOpen = false;
  if (v) {
    token = v;
    sessionStorage.setItem(TOKEN_KEY, v);
  }
  setResult('', '');
  renderControls(last);
});
$('token-forget').addEventListener('click', () => forgetToken());
$('btn-standby').addEventListener('click', () => void act('standby'));
$('btn-takeover').addEventListener('click', () => void act('takeover'));
$('show-links').addEventListener('change', () => last && renderTimeline(last));

// --- live updates -----------------------------------------------------------------------------

function setConn(state: 'connecting' | 'live' | 'lost', text: string): void {
  $('conn').dataset.state = state;
  $('conn-text').textContent = text;
}

function follow(): void {
  if (typeof EventSource === 'undefined') return poll();
  const es = new EventSource('/events');
  es.addEventListener('open', () => setConn('live', 'live'));
  es.addEventListener('status', (ev) => {
    try {
      render(JSON.parse((ev as MessageEvent<string>).data) as Status);
      setConn('live', 'live');
    } catch {
      /* a broken message: wait for the next one */
    }
  });
  es.addEventListener('error', () => setConn('lost', `connection to ${last?.node ?? 'hbd'} lost · retrying`));
}

function poll(): void {
  const once = async () => {
    try {
      const r = await fetch('/status', { cache: 'no-store' });
      if (r.ok) {
        render((await r.json()) as Status);
        setConn('live', 'polling');
      } else setConn('lost', `status answered ${r.status}`);
    } catch {
      setConn('lost', 'hbd unreachable · retrying');
    }
  };
  void once();
  setInterval(() => void once(), 2000);
}

// Between messages, keep "last heard" and "ago" moving; mark the data stale if the stream stops.
setInterval(() => {
  if (!last) return;
  const since = performance.now() - receivedAt;
  if (since > 7000) setConn('lost', `no update for ${Math.round(since / 1000)} s`);
  for (const el of document.querySelectorAll<HTMLElement>('.node')) {
    const n = last.nodes.find((x) => x.name === el.dataset.node);
    const dd = el.querySelector<HTMLElement>('[data-role="heard"]');
    // A live node is heard every keepalive: only a silent one's "last heard" grows between updates.
    if (n && dd && n.status === 'dead' && n.lastHeardMsAgo !== null) dd.textContent = ago(n.lastHeardMsAgo + since);
  }
}, 500);

renderControls(null);
fetch('/status', { cache: 'no-store' })
  .then(async (r) => (r.ok ? render((await r.json()) as Status) : undefined))
  .catch(() => undefined)
  .finally(follow);

export {};
