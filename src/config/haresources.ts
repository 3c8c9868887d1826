// haresources: one resource group per line, "preferred-node resource resource::arg ...",
// backslash continuation and # comments, as Heartbeat's ResourceManager reads it. What each
// resource word names (a built-in, a script, an OCF agent, a unit) is resource-spec.ts's job.
import { IssueList, splitConfigLines } from './issues.js';
import { parseResource, type ResourceRoots } from './resource-spec.js';
import type { ResourceGroup, ResourceSpec } from './types.js';

export type { ResourceRoots } from './resource-spec.js';

export function parseHaresources(
  text: string,
  file: string,
  nodes: string[],
  roots: ResourceRoots,
  issues: IssueList,
): ResourceGroup[] {
  const lines = splitConfigLines(text, file, issues);
  if (!lines) return [];
  if (lines.every((l) => l.replace(/#.*$/, '').replace(/\\\s*$/, '').trim() === '')) {
    // Heartbeat accepts it: the nodes form a membership and run no resources (a cluster used
    // only for its membership, or a node still being set up).
    issues.info(file, 0, 'lists no resource groups: membership only, no resources will be run');
    return [];
  }
  const groups: ResourceGroup[] = [];
  const seenResources = new Map<string, number>();

  // Join continuation lines first, remembering where each logical line starts.
  const logical: { text: string; line: number }[] = [];
  let pending: { text: string; line: number } | null = null;
  lines.forEach((raw, i) => {
    const stripped = raw.replace(/#.*$/, '');
    const continues = /\\\s*$/.test(stripped);
    const body = stripped.replace(/\\\s*$/, ' ');
    if (pending) pending.text += ` ${body}`;
    else pending = { text: body, line: i + 1 };
    if (!continues) {
      logical.push(pending);
      pending = null;
    }
  });
  if (pending) logical.push(pending);

  for (const { text, line } of logical) {
    const words = text.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) continue;
    const [node = '', ...rest] = words;
    const known = nodes.find((n) => n.toLowerCase() === node.toLowerCase());
    if (!known) {
      issues.error(file, line, `preferred node "${node}" is not a node of ha.cf (${nodes.join(', ') || 'none defined'}) — the first word of a line must be a "node" name from ha.cf`);
      continue;
    }
    if (rest.length === 0) {
      issues.error(file, line, `resource group of "${node}" lists no resources — add resources after the node name, e.g. "${node} IPaddr::10.0.0.10"`);
      continue;
    }
    const resources: ResourceSpec[] = [];
    for (const word of rest) {
      const spec = parseResource(word, roots, file, line, issues);
      if (!spec) continue;
      const earlier = seenResources.get(spec.raw);
      if (earlier !== undefined) {
        issues.error(file, line, `resource "${spec.raw}" is already in the group on line ${earlier} — a resource can belong to one group only`);
        continue;
      }
      seenResources.set(spec.raw, line);
      resources.push(spec);
    }
    groups.push({ id: [known, ...resources.map((r) => r.raw)].join(' '), preferredNode: known, resources, file, line });
  }
  return groups;
}
