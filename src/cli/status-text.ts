// `hbctl status` for people: who is up, over which links, who runs what, what happened.
import type { GroupView, StatusSnapshot } from '../status/snapshot.js';

export function renderStatus(s: StatusSnapshot): string {
  const out: string[] = [];
  out.push(`Node ${s.node} (${s.status})${s.drift.length ? `  CONFIG DRIFT with ${s.drift.join(', ')}` : ''}`);
  out.push('');
  out.push('Nodes:');
  for (const n of s.nodes) {
    const links = n.self ? '(this node)' : n.links.map((l) => `${l.name} ${l.up ? 'up' : 'dead'}`).join(', ') || 'no links';
    const heard = n.self || n.lastHeardMsAgo === null ? '' : `, heard ${n.lastHeardMsAgo} ms ago`;
    out.push(`  ${n.name.padEnd(16)} ${n.status.padEnd(7)} ${links}${heard}${n.witness ? '  (witness)' : ''}`);
  }
  if (s.pingNodes?.length) {
    out.push('');
    out.push(`Ping nodes (${s.pings?.reachable ?? 0} reached${s.pings?.ipfail ? ', ipfail on' : ''}):`);
    for (const p of s.pingNodes) out.push(`  ${p.name.padEnd(16)} ${p.status.padEnd(7)} ${p.addresses.join(' ')}${p.lastReplyMsAgo === null ? '' : `, answered ${p.lastReplyMsAgo} ms ago`}`);
  }
  out.push('');
  out.push('Resource groups:');
  for (const g of s.groups) {
    const busy = Object.entries(g.phases)
      .filter(([, p]) => p !== 'stopped' && p !== 'running')
      .map(([n, p]) => `${n} ${p}`);
    out.push(`  ${g.id}${g.removed ? '  (removed from haresources by a reload: stopping here)' : ''}`);
    out.push(`    preferred ${g.preferredNode}, owner ${g.owner ?? 'none'}${busy.length ? ` (${busy.join(', ')})` : ''}`);
    if (g.monitor) out.push(`    monitor here: ${monitorText(g.monitor)}`);
    if (g.heldOff?.length) out.push(`    held off: ${g.heldOff.join(', ')} (monitor failures or a failed start: not asked to run it)`);
  }
  if (s.transitions.length) {
    out.push('');
    out.push('Recent transitions:');
    for (const t of s.transitions.slice(-10)) out.push(`  ${t.at}  ${t.text}`);
  }
  return `${out.join('\n')}\n`;
}

/** What resource monitoring says of a group on this node, in one line; the way out when it keeps out. */
export function monitorText(m: NonNullable<GroupView['monitor']>): string {
  const failing = Object.entries(m.failures).filter(([, n]) => n > 0);
  const checks = failing.length ? failing.map(([r, n]) => `${r} failed ${n} check${n === 1 ? '' : 's'} in a row`).join(', ') : 'checks pass';
  const restarts = `${m.restarts} restart${m.restarts === 1 ? '' : 's'} in the window`;
  if (!m.keptOut) return `${checks}; ${restarts}`;
  const until = m.keptOutForMs === null ? 'until cleared' : `for ${Math.ceil(m.keptOutForMs / 1000)} s more`;
  return `${checks}; ${restarts}; KEEPS OUT of this group ${until} ("hbctl clear GROUP" lets it back)`;
}
