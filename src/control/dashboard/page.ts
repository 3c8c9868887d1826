// The dashboard's page and style sheet, served by hbd at / and /dashboard.css. Its script is
// app.ts beside this file, compiled by tsc to dashboard/app.js and served at /dashboard.js.
// No inline script or style: the page runs under a strict Content-Security-Policy.

export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<title>heartbeat-ts</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/dashboard.css">
<script type="module" src="/dashboard.js"></script>
</head>
<body>
<header class="top">
  <div class="brand">
    <svg class="logo" viewBox="0 0 32 32" aria-hidden="true"><path d="M2 17h7l3-8 5 15 3-10 2 3h8" /></svg>
    <div>
      <div class="brand-name">heartbeat-ts</div>
      <div class="brand-sub" id="served-by">connecting…</div>
    </div>
  </div>
  <div class="health" id="health" data-state="unknown">
    <span class="health-dot"></span><span id="health-text">Waiting for status…</span>
  </div>
  <div class="top-right">
    <div class="conn" id="conn" data-state="connecting"><span class="conn-dot"></span><span id="conn-text">connecting</span></div>
    <button type="button" class="ghost" id="unlock">Controls…</button>
  </div>
</header>

<section class="banner" id="drift" hidden>
  <strong>Configuration drift.</strong> <span id="drift-text"></span>
</section>

<section class="controls" id="controls" hidden>
  <form id="token-form" class="token-form" hidden>
    <label for="token">Bearer token (from <code>http_token_file</code>)</label>
    <input id="token" type="password" autocomplete="off" spellcheck="false" placeholder="token">
    <button type="submit">Use token</button>
    <button type="button" class="ghost" id="token-cancel">Cancel</button>
  </form>
  <div id="actions" class="actions" hidden>
    <span class="actions-label">Act on <strong id="actions-node"></strong>:</span>
    <select id="scope" aria-label="scope">
      <option value="all">all resource groups</option>
      <option value="local">groups it prefers (local)</option>
      <option value="foreign">other groups (foreign)</option>
    </select>
    <button type="button" id="btn-standby" class="warn">Standby</button>
    <button type="button" id="btn-takeover" class="primary">Takeover</button>
    <button type="button" class="ghost" id="token-forget">Forget token</button>
  </div>
  <div id="action-result" class="action-result" role="status"></div>
</section>

<main class="layout">
  <div class="col-main">
    <section>
      <h2>Resource groups</h2>
      <div id="groups" class="groups"></div>
    </section>
    <section>
      <h2>Nodes</h2>
      <div id="nodes" class="nodes"></div>
    </section>
  </div>
  <aside class="col-side">
    <section class="timeline-box">
      <div class="timeline-head">
        <h2>Timeline</h2>
        <label class="toggle"><input type="checkbox" id="show-links"> link events</label>
      </div>
      <ol id="timeline" class="timeline"></ol>
    </section>
  </aside>
</main>
<footer class="foot" id="foot"></footer>
</body>
</html>
`;

export const STYLE_CSS = `:root {
  --bg: #0b0f14;
  --panel: #121821;
  --panel-2: #171f2a;
  --line: #232d3b;
  --text: #e7edf5;
  --muted: #8a97a8;
  --faint: #5d6a7b;
  --green: #34d399;
  --green-bg: rgba(52, 211, 153, 0.12);
  --blue: #60a5fa;
  --blue-bg: rgba(96, 165, 250, 0.12);
  --amber: #fbbf24;
  --amber-bg: rgba(251, 191, 36, 0.12);
  --red: #f87171;
  --red-bg: rgba(248, 113, 113, 0.13);
  --purple: #c084fc;
  --purple-bg: rgba(192, 132, 252, 0.13);
  --orange: #fb923c;
  --orange-bg: rgba(251, 146, 60, 0.13);
  --radius: 12px;
  --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html, body { margin: 0; background: var(--bg); color: var(--text); }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; min-height: 100vh; }
h2 { font-size: 12px; letter-spacing: .09em; text-transform: uppercase; color: var(--muted); font-weight: 600; margin: 0 0 12px; }
code { font-family: var(--mono); font-size: 12px; }
button, select, input { font: inherit; color: inherit; }

.top { display: flex; align-items: center; gap: 24px; padding: 14px 28px; border-bottom: 1px solid var(--line); background: linear-gradient(180deg, #101721, var(--bg)); position: sticky; top: 0; z-index: 5; }
.brand { display: flex; align-items: center; gap: 12px; min-width: 220px; }
.logo { width: 34px; height: 34px; fill: none; stroke: var(--green); stroke-width: 2.4; stroke-linecap: round; stroke-linejoin: round; background: var(--green-bg); border-radius: 9px; padding: 4px; }
.brand-name { font-weight: 700; font-size: 16px; letter-spacing: .01em; }
.brand-sub { color: var(--muted); font-size: 12px; }
.health { display: flex; align-items: center; gap: 10px; padding: 8px 16px; border-radius: 999px; font-weight: 600; font-size: 15px; background: var(--panel-2); border: 1px solid var(--line); }
.health-dot { width: 10px; height: 10px; border-radius: 50%; background: var(--faint); }
.health[data-state="ok"] { color: var(--green); background: var(--green-bg); border-color: rgba(52,211,153,.35); }
.health[data-state="ok"] .health-dot { background: var(--green); box-shadow: 0 0 0 4px rgba(52,211,153,.18); }
.health[data-state="warn"] { color: var(--amber); background: var(--amber-bg); border-color: rgba(251,191,36,.35); }
.health[data-state="warn"] .health-dot { background: var(--amber); }
.health[data-state="bad"] { color: var(--red); background: var(--red-bg); border-color: rgba(248,113,113,.4); }
.health[data-state="bad"] .health-dot { background: var(--red); }
.top-right { margin-left: auto; display: flex; align-items: center; gap: 14px; }
.conn { display: flex; align-items: center; gap: 8px; color: var(--muted); font-size: 12px; }
.conn-dot { width: 8px; height: 8px; border-radius: 50%; background: var(--faint); }
.conn[data-state="live"] .conn-dot { background: var(--green); animation: beat 2s ease-in-out infinite; }
.conn[data-state="lost"] { color: var(--red); }
.conn[data-state="lost"] .conn-dot { background: var(--red); }

button { cursor: pointer; border-radius: 8px; border: 1px solid var(--line); background: var(--panel-2); padding: 7px 14px; font-weight: 600; }
button:hover { border-color: #3a475a; }
button:disabled { opacity: .5; cursor: default; }
button.ghost { background: transparent; color: var(--muted); font-weight: 500; }
button.primary { background: #1d3b2f; border-color: rgba(52,211,153,.45); color: var(--green); }
button.warn { background: #3a2f12; border-color: rgba(251,191,36,.45); color: var(--amber); }
select, input { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 7px 10px; }

.banner { margin: 16px 28px 0; padding: 12px 16px; border-radius: var(--radius); background: var(--orange-bg); border: 1px solid rgba(251,146,60,.45); color: #fed7aa; }
.banner strong { color: var(--orange); }
.controls { margin: 16px 28px 0; padding: 12px 16px; border-radius: var(--radius); background: var(--panel); border: 1px solid var(--line); }
.token-form, .actions { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
.token-form label, .actions-label { color: var(--muted); }
.token-form input { width: 320px; font-family: var(--mono); }
.action-result { color: var(--muted); font-size: 13px; margin-top: 8px; }
.action-result:empty { display: none; }
.action-result.ok { color: var(--green); }
.action-result.err { color: var(--red); }

.layout { display: grid; grid-template-columns: minmax(0, 1fr) 400px; gap: 28px; padding: 22px 28px 28px; align-items: start; }
.col-main > section + section { margin-top: 28px; }
@media (max-width: 980px) { .layout { grid-template-columns: 1fr; } }

.groups { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 16px; }
.group { background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); padding: 18px 20px; position: relative; overflow: hidden; }
.group::before { content: ""; position: absolute; inset: 0 auto 0 0; width: 4px; background: var(--faint); }
.group[data-state="running"]::before { background: var(--green); }
.group[data-state="moving"]::before { background: var(--blue); }
.group[data-state="down"]::before { background: var(--red); }
.group-top { display: flex; justify-content: space-between; align-items: center; gap: 12px; }
.group-label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .08em; font-weight: 600; }
.owner-cap { margin-top: 14px; color: var(--faint); font-size: 11px; text-transform: uppercase; letter-spacing: .1em; font-weight: 600; }
.owner { margin: 2px 0 4px; display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
.owner-name { font-size: 34px; font-weight: 750; letter-spacing: -.01em; line-height: 1.1; }
.group[data-state="running"] .owner-name { color: var(--green); }
.group[data-state="moving"] .owner-name { color: var(--blue); }
.group[data-state="down"] .owner-name { color: var(--red); }
.owner-note { color: var(--muted); font-size: 13px; }
.owner-note.moved { color: var(--amber); }
.chips { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 12px; }
.chip { font-family: var(--mono); font-size: 12px; padding: 3px 8px; border-radius: 6px; background: var(--panel-2); border: 1px solid var(--line); color: #c9d4e2; }
.chip-arrow { color: var(--faint); align-self: center; font-size: 11px; }
.phases { display: flex; gap: 14px; margin-top: 14px; padding-top: 12px; border-top: 1px solid var(--line); font-size: 12px; color: var(--muted); flex-wrap: wrap; }
.phases b { color: var(--text); font-weight: 600; }
.monitor-note { margin-top: 8px; font-size: 12px; color: var(--red); }
.ph-running { color: var(--green); } .ph-starting, .ph-stopping { color: var(--blue); } .ph-stop-failed { color: var(--red); } .ph-stopped { color: var(--faint); }

.badge { display: inline-flex; align-items: center; gap: 6px; font-size: 11px; font-weight: 700; letter-spacing: .08em; text-transform: uppercase; padding: 4px 9px; border-radius: 999px; background: var(--panel-2); color: var(--muted); border: 1px solid var(--line); white-space: nowrap; }
.badge.green { color: var(--green); background: var(--green-bg); border-color: rgba(52,211,153,.35); }
.badge.blue { color: var(--blue); background: var(--blue-bg); border-color: rgba(96,165,250,.35); }
.badge.amber { color: var(--amber); background: var(--amber-bg); border-color: rgba(251,191,36,.35); }
.badge.red { color: var(--red); background: var(--red-bg); border-color: rgba(248,113,113,.4); }
.badge.purple { color: var(--purple); background: var(--purple-bg); border-color: rgba(192,132,252,.35); }
.badge.orange { color: var(--orange); background: var(--orange-bg); border-color: rgba(251,146,60,.4); }
.badge.grey { color: var(--muted); }

.nodes { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 16px; }
.node { background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); padding: 16px 18px; }
.node[data-status="dead"] { border-color: rgba(248,113,113,.45); background: linear-gradient(180deg, rgba(248,113,113,.07), var(--panel) 60%); }
.node-top { display: flex; align-items: center; gap: 10px; }
.node-dot { width: 12px; height: 12px; border-radius: 50%; background: var(--faint); flex: none; }
.node[data-status="active"] .node-dot { background: var(--green); animation: beat 1.6s ease-in-out infinite; }
.node[data-status="up"] .node-dot { background: var(--blue); }
.node[data-status="dead"] .node-dot { background: var(--red); }
.node-name { font-size: 18px; font-weight: 700; }
.node-top { margin-bottom: 14px; }
.node-top .badge { margin-left: auto; }
.self-tag { font-size: 11px; color: var(--blue); border: 1px solid rgba(96,165,250,.35); border-radius: 6px; padding: 1px 6px; }
.owns { color: var(--green); font-family: var(--mono); font-size: 12px; }
.kv { display: grid; grid-template-columns: 90px 1fr; gap: 5px 10px; font-size: 13px; }
.kv dt { color: var(--muted); }
.kv dd { margin: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.links { display: flex; gap: 8px; flex-wrap: wrap; }
.link { display: inline-flex; align-items: center; gap: 5px; font-family: var(--mono); font-size: 12px; }
.link::before { content: ""; width: 7px; height: 7px; border-radius: 50%; background: var(--red); }
.link.up::before { background: var(--green); }
.mono { font-family: var(--mono); font-size: 12px; }
.digest-ok { color: var(--muted); }
.digest-drift { color: var(--orange); font-weight: 600; }

.timeline-box { background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); padding: 16px 18px; }
.timeline-head { display: flex; justify-content: space-between; align-items: baseline; }
.toggle { color: var(--muted); font-size: 12px; display: flex; align-items: center; gap: 6px; cursor: pointer; }
.timeline { list-style: none; margin: 0; padding: 0; max-height: calc(100vh - 190px); overflow-y: auto; }
.ev { display: grid; grid-template-columns: 14px 1fr; gap: 0 10px; padding: 9px 0; border-top: 1px solid var(--line); }
.ev:first-child { border-top: 0; }
.ev-dot { width: 10px; height: 10px; border-radius: 50%; margin-top: 5px; background: var(--faint); }
.ev-head { display: flex; align-items: center; gap: 8px; }
.ev-time { font-family: var(--mono); font-size: 12px; color: var(--muted); }
.ev-ago { font-size: 11px; color: var(--faint); margin-left: auto; }
.ev-text { margin-top: 3px; font-size: 13px; color: #c9d4e2; word-break: break-word; }
.ev .badge { padding: 2px 7px; font-size: 10px; }
.ev[data-tone="red"] .ev-dot { background: var(--red); box-shadow: 0 0 0 3px var(--red-bg); }
.ev[data-tone="amber"] .ev-dot { background: var(--amber); box-shadow: 0 0 0 3px var(--amber-bg); }
.ev[data-tone="blue"] .ev-dot { background: var(--blue); }
.ev[data-tone="green"] .ev-dot { background: var(--green); }
.ev[data-tone="purple"] .ev-dot { background: var(--purple); }
.ev[data-tone="orange"] .ev-dot { background: var(--orange); }
.ev[data-tone="grey"] .ev-text { color: var(--muted); }
.empty { color: var(--faint); font-size: 13px; padding: 8px 0; }
.foot { color: var(--faint); font-size: 12px; padding: 0 28px 22px; }

@keyframes beat { 0%, 100% { box-shadow: 0 0 0 0 rgba(52,211,153,.45); } 50% { box-shadow: 0 0 0 5px rgba(52,211,153,0); } }
@media (prefers-reduced-motion: reduce) { * { animation: none !important; } }
`;

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#0b0f14"/><path d="M3 17h6l3-8 5 15 3-10 2 3h7" fill="none" stroke="#34d399" stroke-width="2.6" stroke-linecap="round" stroke-linejoin="round"/></svg>
`;
