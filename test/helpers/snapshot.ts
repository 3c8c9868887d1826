// A status snapshot for tests of what reads one (hbctl's text, the systemd status line): node
// alpha, active and settled, with no drift; each test gives the parts it is about.
import type { NodeView, StatusSnapshot } from '../../src/status/snapshot.js';

export const selfNode: NodeView = { name: 'alpha', status: 'active', self: true, lastHeardMsAgo: 0, generation: 1, links: [], digest: 'd' };

export function snapshotWith(parts: Partial<StatusSnapshot>): StatusSnapshot {
  return { node: 'alpha', status: 'active', digest: 'd', drift: [], driftParts: {}, settled: true, nodes: [selfNode], groups: [], transitions: [], counters: {}, ...parts };
}
