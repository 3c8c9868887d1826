// The benchmarks' results file: a section is replaced in place, appended when new, and never
// rewritten when its markers are interleaved with another section's (as a line merge of two
// branches' results left them once: a rerun would have deleted half of the other section).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { replaceSection } from '../../bench/lib/report.js';
import { fromRoot } from '../helpers/repo.js';

const mark = (name: string, end: 'start' | 'end') => `<!-- bench:${name}:${end} -->`;

test('a section is replaced in place, and appended when the file has none', () => {
  const text = ['# results', '', mark('a', 'start'), 'old a', mark('a', 'end'), '', 'hand text', ''].join('\n');
  const replaced = replaceSection(text, 'a', 'new a');
  assert.equal(replaced, ['# results', '', mark('a', 'start'), 'new a', mark('a', 'end'), '', 'hand text', ''].join('\n'));
  const appended = replaceSection(replaced, 'b', 'b body');
  assert.ok(appended.startsWith(replaced.trimEnd()));
  assert.ok(appended.endsWith(`\n\n${mark('b', 'start')}\nb body\n${mark('b', 'end')}\n`));
});

test('interleaved sections are refused with the lines to repair, and nothing is rewritten', () => {
  const text = [mark('a', 'start'), 'a head', 'hand text', mark('b', 'start'), 'b head', 'a table', mark('a', 'end'), 'b table', mark('b', 'end')].join('\n');
  assert.throws(() => replaceSection(text, 'a', 'x'), /section a \(lines 1-7\) holds the start marker of section b \(line 4\)/);
  assert.throws(() => replaceSection(text, 'b', 'x'), /section b \(lines 4-9\) holds the end marker of section a \(line 7\)/);
  assert.throws(() => replaceSection(`${mark('c', 'end')}\n${mark('c', 'start')}`, 'c', 'x'), /section c has its end \(line 1\) before its start \(line 2\)/);
  assert.throws(() => replaceSection(`text\n${mark('c', 'end')}`, 'c', 'x'), /section c has an end marker \(line 2\) and no start/);
});

test('the committed results file has every section as a clean pair, so each can be rerun', () => {
  const text = readFileSync(fromRoot('bench', 'RESULTS.md'), 'utf8');
  const names = [...text.matchAll(/<!-- bench:(\S+):start -->/g)].map((m) => m[1]!);
  assert.ok(names.length > 10, `${names.length} sections`);
  for (const name of names) assert.doesNotThrow(() => replaceSection(text, name, 'rerun'), `section ${name}`);
});
