// Tests of static/textview.js: textarea (UTF-16, normalised line breaks)
// ↔ document (code points) conversions and turning a textarea change into
// an op.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { apply } from '../ot.js';
import { TextView, toView, changedRange, localEdit, caretAfter } from '../textview.js';

test('toView normalises line breaks like a textarea', () => {
  for (const [text, view] of [
    ['plain', 'plain'],
    ['a\r\nb', 'a\nb'],
    ['a\rb', 'a\nb'],
    ['\r\n\r\n\r', '\n\n\n'],
    ['😀\r\n', '😀\n'],
  ]) assert.equal(toView(text), view);
});

test('TextView converts indices: code points, UTF-16, \\r\\n pairs', () => {
  const tv = new TextView('a😀\r\nb\r\nc');
  assert.equal(tv.view, 'a😀\nb\nc');
  // view index → code point: a=0, 😀=1 (two units), \n (the pair)=2, b=4, \n=5, c=7
  const cases = [[0, 0], [1, 1], [3, 2], [4, 4], [5, 5], [6, 7], [7, 8]];
  for (const [v, cp] of cases) {
    assert.equal(tv.viewToCp(v), cp, `view ${v}`);
    assert.equal(tv.cpToView(cp), v, `cp ${cp}`);
  }
  // Between "\r" and "\n" rounds to the pair; inside 😀 rounds down.
  assert.equal(tv.cpToView(3), 3);
  assert.equal(tv.viewToCp(2), 1);
  // Past the end clamps.
  assert.equal(tv.cpToView(99), tv.view.length);
  // Without "\r\n" text and view indices are the same.
  const plain = new TextView('x😀y');
  assert.equal(plain.viewToText(3), 3);
  assert.equal(plain.textToView(3), 3);
  assert.equal(plain.viewToCp(3), 2);
});

test('changedRange: table', () => {
  const cases = [
    // [a, b, caret, want]
    ['abc', 'abc', -1, null],
    ['abc', 'abXc', -1, { start: 2, oldEnd: 2, newEnd: 3 }],
    ['abc', 'ac', -1, { start: 1, oldEnd: 2, newEnd: 1 }],
    ['abc', 'aXYc', -1, { start: 1, oldEnd: 2, newEnd: 3 }],
    // Ambiguous insert: "a" typed into "aa" at the start, middle or end.
    ['aa', 'aaa', 1, { start: 0, oldEnd: 0, newEnd: 1 }],
    ['aa', 'aaa', 2, { start: 1, oldEnd: 1, newEnd: 2 }],
    ['aa', 'aaa', 3, { start: 2, oldEnd: 2, newEnd: 3 }],
    ['aa', 'aaa', -1, { start: 2, oldEnd: 2, newEnd: 3 }],
    // Ambiguous delete: one of "xx" removed, caret tells which.
    ['axxb', 'axb', 1, { start: 1, oldEnd: 2, newEnd: 1 }],
    ['axxb', 'axb', 2, { start: 2, oldEnd: 3, newEnd: 2 }],
    // Repeated words pasted: "ab" pasted after "ab".
    ['abab', 'ababab', 2, { start: 0, oldEnd: 0, newEnd: 2 }],
    ['abab', 'ababab', 4, { start: 2, oldEnd: 2, newEnd: 4 }],
    // Surrogates: 😀 → 😃 share the high unit; the change covers the pair.
    ['x😀y', 'x😃y', -1, { start: 1, oldEnd: 3, newEnd: 3 }],
    // Inserting 😀 before 😃: common low/high units must not split pairs.
    ['😃', '😀😃', 2, { start: 0, oldEnd: 0, newEnd: 2 }],
    ['', 'abc', 3, { start: 0, oldEnd: 0, newEnd: 3 }],
    ['abc', '', 0, { start: 0, oldEnd: 3, newEnd: 0 }],
  ];
  for (const [a, b, caret, want] of cases) {
    assert.deepEqual(changedRange(a, b, caret), want, `${a} → ${b} caret ${caret}`);
  }
});

test('changedRange never splits a surrogate pair (exhaustive over small strings)', () => {
  const units = ['a', '😀', '😃', '🇫', 'é'];
  const strs = [''];
  for (const u of units) for (const v of units) strs.push(u, u + v);
  const isHigh = (c) => c >= 0xd800 && c <= 0xdbff;
  for (const a of strs) {
    for (const b of strs) {
      for (let caret = -1; caret <= b.length; caret++) {
        const r = changedRange(a, b, caret);
        if (!r) {
          assert.equal(a, b);
          continue;
        }
        assert.equal(a.slice(0, r.start) + b.slice(r.start, r.newEnd) + a.slice(r.oldEnd), b, `${a}|${b}|${caret}`);
        assert.ok(!isHigh(a.charCodeAt(r.start - 1)), `start splits a pair: ${a}|${b}`);
        assert.ok(!isHigh(b.charCodeAt(r.newEnd - 1)) || r.newEnd === r.start, `end splits a pair: ${a}|${b}`);
      }
    }
  }
});

test('localEdit: ops in code points on the document text', () => {
  const cases = [
    // [text, new textarea value, caret, op]
    ['Hello', 'Hello😀', 7, [5, '😀']],
    ['😀😀', '😀x😀', 3, [1, 'x']],
    ['a\r\nb', 'a\nXb', 3, [3, 'X']], // after the pair: code point 3
    ['a\r\nb', 'ab', 1, [1, -2]], // deleting the view's "\n" deletes "\r\n"
    ['a\r\nb', 'a\n\nb', 2, [1, '\n']], // typed before the pair's "\n"
    ['a\rb', 'ab', 1, [1, -1]], // a lone "\r" shows as "\n", same length
    ['abc', 'abc', 0, null],
  ];
  for (const [text, value, caret, want] of cases) {
    const tv = new TextView(text);
    const op = localEdit(tv, value, caret);
    assert.deepEqual(op, want, `${JSON.stringify(text)} → ${JSON.stringify(value)}`);
    if (op) assert.equal(toView(apply(text, op)), value);
  }
  // A lone surrogate is sent as U+FFFD, as the server would store it.
  assert.deepEqual(localEdit(new TextView('a'), 'a\ud800', 2), [1, '\ufffd']);
});

test('caretAfter: where the last change of an op ends', () => {
  assert.equal(caretAfter([3, 'ab']), 5);
  assert.equal(caretAfter([3, -2]), 3);
  assert.equal(caretAfter(['😀', 4, -1, 2]), 5);
  assert.equal(caretAfter([]), 0);
});
