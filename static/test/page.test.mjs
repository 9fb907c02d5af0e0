// Tests of the pure helpers behind the pages: identity.js (names, colours,
// ids, links), format.js (sizes, times) and overlay.js's layoutMarks.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  validDocId, docIdProblem, docLink, docIdFromLocation, randomId, colorFor, safeColor, cleanName,
  loadIdentity, saveName, PALETTE, MAX_NAME, resolveColor, inkFor, suggestDocId,
} from '../identity.js';
import { formatSize, formatAgo, formatVersion } from '../format.js';
import { layoutMarks, quietLabels, LABEL_MS, mirrorLength } from '../overlay.js';

test('document ids and links', () => {
  for (const [id, ok] of [['notes', true], ['team.plan-2025_v2', true], ['a'.repeat(128), true],
    ['a'.repeat(129), false], ['', false], ['no/pe', false], ['sp ace', false], ['é', false],
    ['.', false], ['..', false], ['...', true], ['.a', true], ['a..', true], [undefined, false], [7, false]]) {
    assert.equal(validDocId(id), ok, String(id));
  }
  assert.equal(docLink('notes'), '/d/notes');
  assert.equal(docLink('...'), '/d/...');
  const loc = (pathname, search = '') => ({ pathname, search });
  assert.equal(docIdFromLocation(loc('/d/notes')), 'notes');
  assert.equal(docIdFromLocation(loc('/d/...')), '...');
  assert.equal(docIdFromLocation(loc('/d/%2E%2E')), null);
  assert.equal(docIdFromLocation(loc('/d/%2E')), null);
  assert.equal(docIdFromLocation(loc('/d/', '?id=notes')), null); // the query form served only "." and ".."
  assert.equal(docIdFromLocation(loc('/d/bad%20id')), null);
  assert.equal(docIdFromLocation(loc('/d/%E0%A4%A')), null); // malformed escape
  assert.equal(docIdFromLocation(loc('/')), null);
  const seq = [0, 0.5, 0.999];
  let i = 0;
  assert.equal(randomId(3, () => seq[i++]), '0iz');
  assert.match(randomId(), /^[0-9a-z]{10}$/);
});

test('colours: only hex colours from peers reach the page', () => {
  assert.equal(safeColor('#e91e63', 's'), '#e91e63');
  assert.equal(safeColor('#ABC', 's'), '#ABC');
  for (const bad of ['red; background: url(x)', 'url(http://x)', '', null, 42, '#12345']) {
    assert.equal(safeColor(bad, 'peer-1'), colorFor('peer-1'));
  }
  assert.ok(PALETTE.includes(colorFor('anything')));
  assert.equal(colorFor('same'), colorFor('same'));
});

test('identity: names are cleaned and kept; a colour is picked once', () => {
  const store = new Map();
  const storage = { getItem: (k) => (store.has(k) ? store.get(k) : null), setItem: (k, v) => store.set(k, v) };
  const first = loadIdentity(storage, () => 0.3);
  assert.equal(first.name, '');
  assert.equal(first.color, PALETTE[2]);
  assert.equal(loadIdentity(storage, () => 0.9).color, PALETTE[2]); // kept
  assert.equal(saveName(storage, '  Ann\n  Lee '), 'Ann Lee');
  assert.equal(loadIdentity(storage).name, 'Ann Lee');
  assert.equal([...cleanName('😀'.repeat(100))].length, MAX_NAME);
  // Storage that throws (private browsing) still gives an identity.
  const broken = { getItem() { throw new Error('denied'); }, setItem() { throw new Error('denied'); } };
  assert.ok(PALETTE.includes(loadIdentity(broken).color));
  assert.equal(saveName(broken, 'Bob'), 'Bob');
});

test('formatting sizes, times and versions', () => {
  assert.equal(formatSize(null), '—');
  assert.equal(formatSize(undefined), '—');
  assert.equal(formatSize(0), '0 characters');
  assert.equal(formatSize(1), '1 character');
  assert.equal(formatSize(12345), '12,345 characters');
  const now = new Date('2025-03-01T12:00:00Z');
  const ago = (s) => formatAgo(new Date(now.getTime() - s * 1000), now);
  assert.equal(ago(3), 'just now');
  assert.equal(ago(50), '1 minute ago');
  assert.equal(ago(5 * 60), '5 minutes ago');
  assert.equal(ago(3 * 3600), '3 hours ago');
  assert.equal(ago(26 * 3600), 'yesterday');
  assert.equal(ago(40 * 24 * 3600), 'last month');
  assert.equal(formatVersion(1234), 'Version 1,234');
});

test('layoutMarks: pieces and carets in text order', () => {
  const m = (from, to, head) => ({ from, to, head, name: 'x', color: '#000' });
  assert.deepEqual(layoutMarks(5, []), [{ kind: 'text', from: 0, to: 5, marks: [] }]);
  // A caret at 2 and a selection 1..4 (head at 1, backwards).
  assert.deepEqual(layoutMarks(6, [m(2, 2, 2), m(4, 1, 1)]), [
    { kind: 'text', from: 0, to: 1, marks: [] },
    { kind: 'caret', at: 1, mark: 1 },
    { kind: 'text', from: 1, to: 2, marks: [1] },
    { kind: 'caret', at: 2, mark: 0 },
    { kind: 'text', from: 2, to: 4, marks: [1] },
    { kind: 'text', from: 4, to: 6, marks: [] },
  ]);
  // Carets at the very end, positions past the end clamped.
  assert.deepEqual(layoutMarks(2, [m(9, 9, 9)]), [
    { kind: 'text', from: 0, to: 2, marks: [] },
    { kind: 'caret', at: 2, mark: 0 },
  ]);
  assert.deepEqual(layoutMarks(0, [m(0, 0, 0)]), [{ kind: 'caret', at: 0, mark: 0 }]);
  // Overlapping selections.
  assert.deepEqual(layoutMarks(4, [m(0, 3, 3), m(1, 4, 4)]).filter((p) => p.kind === 'text').map((p) => p.marks),
    [[0], [0, 1], [1]]);
});

test('resolveColor: of two people in one colour, only the later changes', () => {
  const [red, blue, green] = PALETTE;
  // Nobody else has it: kept.
  assert.equal(resolveColor(red, 'm', [{ session: 'a', color: blue }]), red);
  // Someone with a smaller session has it: another colour nobody uses.
  const mine = resolveColor(red, 'm', [{ session: 'a', color: red.toUpperCase() }, { session: 'b', color: blue }]);
  assert.ok(mine !== red && mine !== blue && PALETTE.includes(mine), mine);
  // The other side of the same clash keeps its colour: both pages agree.
  assert.equal(resolveColor(red, 'a', [{ session: 'm', color: red }]), red);
  // Every palette colour taken: keep yours rather than guess.
  assert.equal(resolveColor(green, 'z', PALETTE.map((c, i) => ({ session: `a${i}`, color: c }))), green);
});

test('inkFor: white on dark colours, black on light ones', () => {
  for (const c of ['#d81b60', '#2e7d32', '#8e24aa', '#00838f', '#6d4c41', '#3949ab', '#000000']) assert.equal(inkFor(c), '#fff', c);
  for (const c of ['#ef6c00', '#1e88e5', '#ffff00', '#ffffff']) assert.equal(inkFor(c), '#000', c);
  assert.equal(inkFor('#abc'), '#fff'); // short forms: not worked out, white
});

test('docIdProblem: why a name is refused, in words', () => {
  assert.equal(docIdProblem('notes'), '');
  assert.match(docIdProblem(''), /Type a name/);
  assert.match(docIdProblem('..'), /“\.\.” alone cannot be a name/);
  assert.match(docIdProblem('.'), /“\.” alone cannot be a name/);
  assert.match(docIdProblem('no/pe'), /only use letters/);
  assert.match(docIdProblem('a'.repeat(129)), /up to 128/);
});

test('suggestDocId: a valid name close to a refused one', () => {
  assert.equal(suggestDocId('My notes!'), 'My-notes');
  assert.equal(suggestDocId('  café plan / 2025 '), 'cafe-plan-2025');
  assert.equal(suggestDocId('日本語'), '');
  assert.equal(suggestDocId('x'.repeat(200)).length, 128);
  assert.ok(validDocId(suggestDocId('a b c')));
  assert.equal(suggestDocId('../'), ''); // ".." is no name
  assert.equal(suggestDocId('.../x'), '...-x');
});

test('quietLabels: a label goes quiet LABEL_MS after its owner last moved', () => {
  const marks = [{ since: 1000 }, { since: 3000 }, {}];
  assert.deepEqual(quietLabels(marks, 2000), { quiet: [false, false, false], next: LABEL_MS - 1000 });
  assert.deepEqual(quietLabels(marks, 1000 + LABEL_MS), { quiet: [true, false, false], next: 2000 });
  assert.deepEqual(quietLabels(marks, 3000 + LABEL_MS), { quiet: [true, true, false], next: -1 });
});

test('mirrorLength: the mirror holds text up to the end of the last marked line', () => {
  const view = 'one\ntwo\nthree';
  assert.equal(mirrorLength(view, []), 0);
  assert.equal(mirrorLength(view, [{ from: 1, to: 1, head: 1 }]), 3); // "one"
  assert.equal(mirrorLength(view, [{ from: 1, to: 5, head: 1 }, { from: 0, to: 0, head: 0 }]), 7); // "one\ntwo"
  assert.equal(mirrorLength(view, [{ from: 3, to: 3, head: 3 }]), 3); // a caret at the end of a line
  assert.equal(mirrorLength(view, [{ from: 9, to: 13, head: 13 }]), view.length);
  assert.equal(mirrorLength(view, [{ from: 99, to: 99, head: 99 }]), view.length); // clamped
});

// contrast is the WCAG 2 contrast ratio of two #rrggbb colours, worked out
// here from the definition rather than with identity.js's own code.
function contrast(a, b) {
  const lum = (hex) => {
    const [r, g, bl] = [1, 3, 5].map((i) => {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

test('palette: name labels meet WCAG AA (4.5:1) in every colour', () => {
  assert.ok(Math.abs(contrast('#ffffff', '#000000') - 21) < 1e-9);
  assert.ok(Math.abs(contrast('#767676', '#ffffff') - 4.54) < 0.01); // the well-known AA grey
  for (const c of PALETTE) {
    const ink = inkFor(c);
    assert.equal(ink, '#fff', `${c}: labels on palette colours are white`);
    const ratio = contrast(c, '#ffffff');
    // A margin over 4.5 so that anti-aliasing or a rounding in a checker
    // (axe-core rounds to two places) cannot take it below.
    assert.ok(ratio >= 4.6, `${c} with white text: ${ratio.toFixed(2)}:1, under 4.5:1`);
  }
  assert.equal(new Set(PALETTE.map((c) => c.toLowerCase())).size, PALETTE.length, 'colours are distinct');
});

test('planChunks: whole lines, covering the text, reusing what did not change', async () => {
  const { planChunks, CHUNK } = await import('../overlay.js');
  let seed = 7;
  const r = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const words = ['lorem ', 'ipsum ', 'dolor\n', 'sit ', 'amet\n', '\n', 'x'.repeat(300)];
  let text = '';
  while (text.length < 40000) text += words[r(words.length)];
  let old = [];
  for (let step = 0; step < 200; step++) {
    const plan = planChunks(text, old);
    let pos = 0;
    for (const [from, to, reuse] of plan) {
      assert.equal(from, pos, 'chunks cover the text in order');
      assert.ok(to > from);
      const t = text.slice(from, to);
      assert.ok(from === 0 || text[from - 1] === '\n', 'a chunk starts a line');
      assert.ok(t.endsWith('\n') || to === text.length, 'a chunk ends a line');
      if (reuse >= 0) assert.equal(old[reuse], t, 'a reused chunk has the same text');
      pos = to;
    }
    assert.equal(pos, text.length);
    const reused = plan.filter((c) => c[2] >= 0).length;
    if (step > 0) assert.ok(plan.length - reused <= 4, `step ${step}: ${plan.length - reused} of ${plan.length} chunks new after one edit`);
    // No chunk goes on past the first line break after CHUNK units.
    assert.ok(plan.every(([f, t]) => { const nl = text.indexOf('\n', f + CHUNK - 1); return nl < 0 || nl >= t - 1; }), 'chunks are about CHUNK long');
    old = plan.map(([f, t]) => text.slice(f, t));
    // One edit somewhere: an insert (maybe with line breaks) or a delete.
    const at = r(text.length);
    if (r(3) === 0) text = text.slice(0, at) + text.slice(Math.min(text.length, at + r(50)));
    else text = text.slice(0, at) + words[r(words.length)] + text.slice(at);
  }
  assert.deepEqual(planChunks('', ['a\n']), []);
  assert.deepEqual(planChunks('abc', []), [[0, 3, -1]]);
});
