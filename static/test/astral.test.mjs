// Tests of ot.js's astral index (the code-point ↔ UTF-16 conversions and
// apply of long texts): random texts with emoji, "\r" and BMP text, and
// chains of random ops, compared with a reference on arrays of code
// points. Run: node --test static/test/
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { apply, codePointLength, utf16ToCodePoint, codePointToUtf16, textStats, OpError } from '../ot.js';

// A tiny deterministic generator (the failures must be reproducible).
function rng(seed) {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

const PIECES = ['a', 'b', ' ', '\n', 'é', '😀', '👍🏽', '\r\n', '\r', '字', '𝄞'];

function randomText(r, n, astral) {
  let s = '';
  while (s.length < n) {
    const p = PIECES[r(PIECES.length)];
    if (!astral && p.length === 2 && p.codePointAt(0) > 0xffff) continue;
    s += p;
  }
  return s;
}

// refApply applies op to text as arrays of code points.
function refApply(text, op) {
  const cps = [...text];
  const out = [];
  let i = 0;
  for (const c of op) {
    if (typeof c === 'string') out.push(...c);
    else if (c > 0) {
      if (i + c > cps.length) throw new Error('past end');
      out.push(...cps.slice(i, i + c));
      i += c;
    } else {
      if (i - c > cps.length) throw new Error('past end');
      i -= c;
    }
  }
  out.push(...cps.slice(i));
  return out.join('');
}

function randomOp(r, len) {
  const op = [];
  let left = len;
  const parts = 1 + r(3);
  for (let k = 0; k < parts && left > 0; k++) {
    const skip = r(Math.min(left, 400) + 1);
    if (skip > 0) op.push(skip);
    left -= skip;
    const ins = randomText(r, 1 + r(6), true).replace(/\r/g, '');
    if (r(2) && ins) op.push(ins);
    if (r(2) && left > 0) {
      const d = 1 + r(Math.min(left, 30));
      op.push(-d);
      left -= d;
    }
  }
  return op;
}

function checkConversions(r, text) {
  const cps = [...text];
  // cp → UTF-16: the length of the first cp code points.
  for (let t = 0; t < 50; t++) {
    const cp = r(cps.length + 2);
    const want = cps.slice(0, cp).join('').length;
    assert.equal(codePointToUtf16(text, cp), want, `codePointToUtf16(${cp})`);
  }
  // UTF-16 → cp: the code points ending at or before u.
  for (let t = 0; t < 50; t++) {
    const u = r(text.length + 2);
    let n = 0;
    let end = 0;
    for (const c of cps) {
      if (end + c.length > u) break;
      end += c.length;
      n++;
    }
    assert.equal(utf16ToCodePoint(text, u), n, `utf16ToCodePoint(${u})`);
  }
  assert.equal(codePointLength(text), cps.length);
}

test('astral index: conversions on random long texts', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const r = rng(seed);
    checkConversions(r, randomText(r, 1024 + r(4000), seed % 4 !== 0));
  }
});

test('astral index: chains of random ops match the reference', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const r = rng(1000 + seed);
    let text = randomText(r, 1500 + r(3000), seed % 3 !== 0);
    for (let step = 0; step < 60; step++) {
      const op = randomOp(r, codePointLength(text));
      const want = refApply(text, op);
      const got = apply(text, op);
      assert.equal(got, want, `seed ${seed} step ${step} op ${JSON.stringify(op)}`);
      const indexed = text.length >= 1024; // shorter texts are walked
      text = got;
      const st = textStats(text);
      if (indexed && text.length >= 1024) {
        assert.ok(st, 'the result of apply is indexed');
        assert.equal(st.pairs, text.length - [...text].length, 'pairs');
        assert.equal(st.cr, text.split('\r').length - 1, '"\\r" count');
      }
      if (step % 10 === 0) checkConversions(r, text);
    }
  }
});

test('astral index: errors as without it', () => {
  const text = '😀'.repeat(600) + 'x'.repeat(600); // 1,800 units, 1,200 code points
  assert.throws(() => apply(text, [1201]), (e) => e instanceof OpError && e.message === 'invalid op: component 0: retain past end of document (length 1200)');
  assert.throws(() => apply(text, [1190, -11]), (e) => e instanceof OpError && e.message === 'invalid op: component 1: delete past end of document (length 1200)');
  assert.equal(apply(text, [1200, '!']), text + '!');
  assert.equal(apply(text, [599, -2, 'ab']), '😀'.repeat(599) + 'ab' + 'x'.repeat(599));
});

test('astral index: a text with a lone surrogate takes the slow path', () => {
  const text = 'x'.repeat(1500) + '\ud83d' + 'y'.repeat(10) + '😀';
  assert.equal(textStats(text), null);
  assert.equal(codePointLength(text), 1500 + 1 + 10 + 1);
  assert.equal(apply(text, [1501, -10]), 'x'.repeat(1500) + '\ud83d' + '😀');
  assert.equal(codePointToUtf16(text, 1512), 1513);
  assert.equal(utf16ToCodePoint(text, 1512), 1511); // inside the pair: its start
  assert.equal(utf16ToCodePoint(text, 1513), 1512);
});

test('astral index: pure BMP text converts without reading it', () => {
  const text = 'lorem ipsum\n'.repeat(10000);
  const next = apply(text, [60000, 'a']);
  assert.deepEqual(textStats(next), { pairs: 0, cr: 0 });
  assert.equal(codePointToUtf16(next, 70000), 70000);
  assert.equal(utf16ToCodePoint(next, 70000), 70000);
});
