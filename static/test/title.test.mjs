// Tests of title.js: a document's title from its first line, and the
// names of downloaded files.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { readFileSync } from 'node:fs';

import { titleOf, fileName, MAX_TITLE, DOWNLOAD_TYPES } from '../title.js';

// The same cases test the server's copy of the rules (catalog/title.go).
const cases = JSON.parse(readFileSync(new URL('./title_cases.json', import.meta.url), 'utf8'));

test('the title is the first line with text, without Markdown markers', () => {
  for (const [text, want] of cases) {
    assert.equal(titleOf(text), want, JSON.stringify(text));
  }
  assert.equal(titleOf(undefined), '');
  assert.equal(titleOf(42), '');
});

test('long titles are cut by code points, with an ellipsis', () => {
  const long = 'x'.repeat(200);
  const t = titleOf(long);
  assert.equal([...t].length, MAX_TITLE);
  assert.ok(t.endsWith('…'));
  const emoji = '😀'.repeat(100);
  const te = titleOf(emoji, 10);
  assert.equal([...te].length, 10);
  assert.ok(!/[\uD800-\uDBFF]…$/.test(te), 'no half surrogate pair');
  assert.equal(titleOf('exactly ten', 11), 'exactly ten');
  // Only the start of a huge document is read.
  assert.equal(titleOf(`${' '.repeat(5000)}\nlate`), '');
});

test('download file names', () => {
  assert.equal(fileName('Plan for 2027', 'notes', '.md'), 'Plan for 2027.md');
  assert.equal(fileName('', 'notes', '.txt'), 'notes.txt');
  assert.equal(fileName('a/b\\c:d*e?f"g<h>i|j', 'x', '.md'), 'a b c d e f g h i j.md');
  assert.equal(fileName('...hidden', 'x', '.md'), 'hidden.md');
  assert.equal(fileName('trailing dots...', 'x', '.md'), 'trailing dots.md');
  assert.equal(fileName('///', 'notes', '.md'), 'notes.md');
  assert.equal(fileName('', '', '.md'), 'document.md');
  assert.equal([...fileName('y'.repeat(300), 'x', '.txt')].length, 104);
  assert.equal(DOWNLOAD_TYPES['.md'], 'text/markdown;charset=utf-8');
  assert.equal(DOWNLOAD_TYPES['.txt'], 'text/plain;charset=utf-8');
});
