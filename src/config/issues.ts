// Collects what is wrong with a configuration, each with file:line, and renders it the way
// a person reads it: `file:line: what is wrong — what to do`.
import type { ConfigIssue } from './types.js';

export class IssueList {
  readonly items: ConfigIssue[] = [];

  error(file: string, line: number, message: string): void {
    this.items.push({ severity: 'error', file, line, message });
  }

  warn(file: string, line: number, message: string): void {
    this.items.push({ severity: 'warning', file, line, message });
  }

  info(file: string, line: number, message: string): void {
    this.items.push({ severity: 'info', file, line, message });
  }

  get errors(): ConfigIssue[] {
    return this.items.filter((i) => i.severity === 'error');
  }

  get warnings(): ConfigIssue[] {
    return this.items.filter((i) => i.severity === 'warning');
  }

  get notes(): ConfigIssue[] {
    return this.items.filter((i) => i.severity === 'info');
  }
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}` : issue.file;
  return `${where}: ${issue.severity}: ${issue.message}`;
}

/**
 * Splits file text into lines, refusing what cannot be a config file (NUL bytes, invalid
 * UTF-8 garbage) and cutting absurdly long lines, so a hostile file yields one clear error.
 */
export function splitConfigLines(text: string, file: string, issues: IssueList, maxLine = 4096): string[] | null {
  if (text.includes('\0')) {
    issues.error(file, 0, 'contains NUL bytes: this is not a text file — check that the right file is at this path');
    return null;
  }
  const lines = text.split(/\r?\n/);
  return lines.map((line, i) => {
    if (line.length > maxLine) {
      issues.error(file, i + 1, `line is ${line.length} characters long (limit ${maxLine}) — this does not look like a config line; remove it`);
      return '';
    }
    if (line.includes('\uFFFD')) {
      issues.error(file, i + 1, 'contains bytes that are not valid UTF-8 text — remove them');
      return '';
    }
    return line;
  });
}
