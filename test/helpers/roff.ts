// Reading our man pages' roff source (man(7) macros) just enough to check what they document:
// the sections, the tags of their .TP/.TQ items, and the text of .EX/.EE examples, with the
// escapes the pages use turned back into plain characters.

/** Splits a macro line's arguments as troff does: by spaces, "double quotes" keep spaces. */
export function macroArgs(rest: string): string[] {
  const args: string[] = [];
  const re = /"((?:[^"]|"")*)"?|(\S+)/g;
  for (const m of rest.matchAll(re)) args.push(m[1] !== undefined ? m[1].replace(/""/g, '"') : (m[2] ?? ''));
  return args;
}

/** Plain text of a piece of roff: font changes dropped, escapes of the pages resolved. */
export function unescape(text: string): string {
  return text
    .replace(/\\f(\[[^\]]*\]|\(..|.)/g, '')
    .replace(/\\\(em/g, '—')
    .replace(/\\\(lq|\\\(rq|\\\(dq/g, '"')
    .replace(/\\\(aq/g, "'")
    .replace(/\\\(bu/g, '•')
    .replace(/\\-/g, '-')
    .replace(/\\[&%]/g, '')
    .replace(/\\c$/g, '')
    .replace(/\\e/g, '\\');
}

const JOINED = new Set(['BR', 'RB', 'BI', 'IB', 'IR', 'RI']);

/** The text a line shows: a font macro's arguments (joined as troff joins them), or the line. */
export function lineText(line: string): string {
  const m = /^\.([A-Za-z]+)\s*(.*)$/.exec(line);
  if (!m) return unescape(line);
  const [, name = '', rest = ''] = m;
  const args = macroArgs(rest);
  if (JOINED.has(name)) return unescape(args.join(''));
  if (name === 'B' || name === 'I' || name === 'SM') return unescape(args.join(' '));
  return '';
}

export interface Section {
  name: string;
  lines: string[];
}

/** The page's .SH sections in order (.SS subsections stay inside their section). */
export function sections(source: string): Section[] {
  const out: Section[] = [];
  for (const line of source.split('\n')) {
    const sh = /^\.SH\s+(.*)$/.exec(line);
    if (sh) out.push({ name: macroArgs(sh[1] ?? '').join(' '), lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

export function section(source: string, name: string): Section {
  const s = sections(source).find((x) => x.name === name);
  if (!s) throw new Error(`no section "${name}" (sections: ${sections(source).map((x) => x.name).join(', ')})`);
  return s;
}

/** The tag (the line after .TP or .TQ) of each item of a section, as plain text. */
export function tags(s: Section): string[] {
  const out: string[] = [];
  s.lines.forEach((line, i) => {
    if (/^\.T[PQ](\s|$)/.test(line)) out.push(lineText(s.lines[i + 1] ?? '').trim());
  });
  return out;
}

/** The words a tag names: "ping, ping_group, deadping" -> ping ping_group deadping. */
export function tagWords(tag: string): string[] {
  return tag.split(/[\s,|[\]]+/).filter(Boolean);
}

/** The text of each .EX/.EE block of a section. */
export function examples(s: Section): string[] {
  const out: string[] = [];
  let cur: string[] | null = null;
  for (const line of s.lines) {
    if (line.startsWith('.EX')) cur = [];
    else if (line.startsWith('.EE')) {
      if (cur) out.push(`${cur.join('\n')}\n`);
      cur = null;
    } else if (cur) cur.push(unescape(line));
  }
  return out;
}

/** Every cross reference `name(section)` a page makes with .BR/.IR. */
export function references(source: string): { name: string; section: string }[] {
  const out: { name: string; section: string }[] = [];
  for (const line of source.split('\n')) {
    const m = /^\.[BI]R\s+(\S+)\s+\((\d)\)/.exec(line);
    if (m) out.push({ name: unescape(m[1] ?? ''), section: m[2] ?? '' });
  }
  return out;
}
