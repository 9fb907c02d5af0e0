// Tests of markdown.js, marked as the preview uses it. Sanitizing needs a
// DOM: the browser test (e2e/markdown_test.go) covers it.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { toHTML } from '../markdown.js';

test('headings, lists, links, code and tables render', () => {
  const html = toHTML('# Title\n\n- one\n- [two](https://example.com/2)\n\n`x < y`\n\n| a | b |\n|---|---|\n| 1 | 2 |\n');
  assert.match(html, /<h1>Title<\/h1>/);
  assert.match(html, /<ul>\s*<li>one<\/li>\s*<li><a href="https:\/\/example\.com\/2">two<\/a><\/li>\s*<\/ul>/);
  assert.match(html, /<code>x &lt; y<\/code>/);
  assert.match(html, /<table>/);
});

test('raw HTML passes through marked: the page must sanitize it', () => {
  const html = toHTML('<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">');
  assert.match(html, /<script>/);
  assert.match(html, /onerror/);
});

test('an empty or blank text renders as nothing', () => {
  assert.equal(toHTML(''), '');
  assert.equal(toHTML('\n \n').trim(), '');
});
