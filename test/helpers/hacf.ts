// ha.cf read from lines, with its errors and warnings as "line: message": for the tests of the
// directives (quorum sources, the arbiter) and of what a reload makes of them.
import { IssueList } from '../../src/config/issues.js';
import { parseHaCf } from '../../src/config/hacf.js';
import type { HaCf } from '../../src/config/types.js';

export function parseHaCfLines(lines: readonly string[]): { cf: HaCf; errors: string[]; warnings: string[] } {
  const issues = new IssueList();
  const cf = parseHaCf(lines.join('\n'), 'ha.cf', issues);
  return { cf, errors: issues.errors.map((i) => `${i.line}: ${i.message}`), warnings: issues.warnings.map((i) => `${i.line}: ${i.message}`) };
}
