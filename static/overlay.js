// Other people's cursors and selections drawn over the textarea.
//
// A textarea cannot style parts of its text, so a "mirror" div lies
// exactly over the textarea's client area with the same font, padding and
// wrapping rules (the shared .doc-text class), holds the same text in
// transparent ink, and wraps each peer's selection in a tinted span and
// puts a coloured bar with the peer's name at each caret. Because the
// mirror wraps lines exactly like the textarea, the marks land on the
// right characters; it scrolls with the textarea and ignores the pointer.
//
// A name label would cover a little of the line above the caret, so it
// shows only while the pointer is on the caret; the caret itself carries
// a small flag in the gap between the lines, bigger while its owner is
// active: from each of their presence updates (they moved or typed) for
// LABEL_MS.
//
// layoutMarks and quietLabels are the pure part (tested under node);
// Overlay does the DOM.

import { inkFor } from './identity.js';

/** How long a caret counts as active after its owner's last move (ms). */
export const LABEL_MS = 4000;

/**
 * One peer's marks in textarea (view) indices; since is when the peer
 * last moved or typed (ms since the epoch).
 * @typedef {{from: number, to: number, head: number, name: string, color: string, since?: number}} Mark
 */

/**
 * Cuts [0, len) into pieces at every mark boundary and puts carets
 * between them: text pieces {kind: 'text', from, to, marks: [index...]}
 * (the marks whose selection covers the piece) and {kind: 'caret', at,
 * mark: index}, in text order. Positions are clamped to [0, len].
 * @param {number} len
 * @param {Mark[]} marks
 * @returns {Array<{kind: string, from?: number, to?: number, at?: number, marks?: number[], mark?: number}>}
 */
export function layoutMarks(len, marks) {
  const clamp = (x) => Math.max(0, Math.min(len, x));
  const ms = marks.map((m) => ({ from: clamp(Math.min(m.from, m.to)), to: clamp(Math.max(m.from, m.to)), head: clamp(m.head) }));
  const cuts = new Set([0, len]);
  for (const m of ms) {
    cuts.add(m.from);
    cuts.add(m.to);
    cuts.add(m.head);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const out = [];
  const caretsAt = (p) => {
    ms.forEach((m, i) => {
      if (m.head === p) out.push({ kind: 'caret', at: p, mark: i });
    });
  };
  for (let k = 0; k < points.length - 1; k++) {
    const from = points[k];
    const to = points[k + 1];
    caretsAt(from);
    const cover = [];
    ms.forEach((m, i) => {
      if (m.from <= from && to <= m.to && m.from < m.to) cover.push(i);
    });
    out.push({ kind: 'text', from, to, marks: cover });
  }
  caretsAt(len);
  return out;
}

/**
 * How much of view the mirror must hold to place marks: up to the end of
 * the line with the last mark (text after it cannot move anything before
 * it, and a line's own wrapping needs the whole line). On a long document
 * with the others near the top, this saves laying out the rest of the
 * text on every keystroke.
 * @param {string} view
 * @param {Mark[]} marks
 * @returns {number} a length of view
 */
export function mirrorLength(view, marks) {
  let last = -1;
  for (const m of marks) last = Math.max(last, m.from, m.to, m.head);
  if (last < 0) return 0;
  const nl = view.indexOf('\n', Math.min(last, view.length));
  return nl < 0 ? view.length : nl;
}

/**
 * Which marks' labels are quiet (their owner idle for ms or more) at now,
 * and in how many ms the next label goes quiet (-1: none will). A mark
 * without since is never quiet.
 * @param {Mark[]} marks
 * @param {number} now
 * @param {number} [ms=LABEL_MS]
 * @returns {{quiet: boolean[], next: number}}
 */
export function quietLabels(marks, now, ms = LABEL_MS) {
  let next = -1;
  const quiet = marks.map((m) => {
    if (typeof m.since !== 'number') return false;
    const left = m.since + ms - now;
    if (left <= 0) return true;
    if (next < 0 || left < next) next = left;
    return false;
  });
  return { quiet, next };
}

/** About how long a chunk of the mirror's text is (whole lines). */
export const CHUNK = 2048;

/**
 * Cuts text into chunks of whole lines for the mirror, reusing the
 * previous chunks (old, their texts in order) wherever they still are:
 * returns [from, to, reuse] triples covering text in order, reuse being
 * the index in old of a chunk with exactly text[from, to) (-1: a new
 * one). Every chunk starts at a line start and ends after a line break,
 * or at the end of text, so each wraps exactly as the same lines in the
 * textarea. An edit changes the chunk it is in; the chunks after it are
 * found again (indexOf), so the cost is in proportion to the chunks
 * changed plus the engine's string comparisons.
 * @param {string} text
 * @param {string[]} old
 * @returns {Array<[number, number, number]>}
 */
export function planChunks(text, old) {
  const out = [];
  const len = text.length;
  let pos = 0;
  let j = 0;
  const whole = (t, at) => t.endsWith('\n') || at + t.length === len;
  // fresh cuts [pos, end) into new chunks.
  const fresh = (end) => {
    while (pos < end) {
      let cut = end;
      if (end - pos > CHUNK) {
        const nl = text.indexOf('\n', pos + CHUNK - 1);
        if (nl >= 0 && nl + 1 < end) cut = nl + 1;
      }
      out.push([pos, cut, -1]);
      pos = cut;
    }
  };
  while (pos < len) {
    const t = j < old.length ? old[j] : null;
    if (t && t.length > 0 && text.startsWith(t, pos) && whole(t, pos)) {
      out.push([pos, pos + t.length, j]);
      pos += t.length;
      j++;
      continue;
    }
    // An edit: find where one of the next old chunks starts again.
    let found = -1;
    let at = -1;
    for (let k = j + 1; k < Math.min(old.length, j + 5) && found < 0; k++) {
      const q = text.indexOf(old[k], pos + 1);
      if (old[k].length > 0 && q > pos && text.charCodeAt(q - 1) === 10 && whole(old[k], q)) {
        found = k;
        at = q;
      }
    }
    if (found < 0) {
      fresh(len);
      break;
    }
    fresh(at);
    j = found;
  }
  return out;
}

/**
 * Draws marks in a mirror element over a textarea.
 */
export class Overlay {
  /**
   * @param {HTMLTextAreaElement} textarea
   * @param {HTMLElement} mirror positioned (absolute) in the textarea's
   *   positioned parent, with the textarea's .doc-text class
   */
  constructor(textarea, mirror) {
    this.ta = textarea;
    this.mirror = mirror;
    this._carets = []; // [{el, mark}] of the last render
    this._chunks = []; // [{text, el, marked}]: the mirror's text, in blocks of whole lines
    this._zw = null; // the U+200B after the text (see render)
    this._measureDue = false;
    this._text = null; // the text and marks (JSON) of the last render
    this._key = '';
    this._tail = null; // the spacer after the text (see render)
    this._quietTimer = null;
    this._px = NaN; // where the pointer is (viewport), NaN: not on the text
    this._py = NaN;
    textarea.addEventListener('scroll', () => this.syncScroll());
    // The mirror lets the pointer through (the textarea must get it), so
    // the textarea's pointer says which caret is pointed at.
    textarea.addEventListener('pointermove', (ev) => this.pointAt(ev.clientX, ev.clientY));
    // A touch has no hover: a tap on a caret shows its name.
    textarea.addEventListener('pointerdown', (ev) => this.pointAt(ev.clientX, ev.clientY));
    textarea.addEventListener('pointerleave', () => this.pointAt(NaN, NaN));
    if (typeof ResizeObserver !== 'undefined') new ResizeObserver(() => this.syncBox()).observe(textarea);
    this.syncBox();
  }

  /**
   * Redraws: view is the textarea's text, marks the peers to show.
   * @param {string} view
   * @param {Mark[]} marks
   */
  render(view, marks) {
    const text = view.slice(0, mirrorLength(view, marks));
    // Typing below everyone else's marks changes nothing drawn here, and
    // nothing is measured then: reading the textarea's size or scroll
    // height after a change lays its whole text out (some 20 ms for
    // 100,000 characters), outside the frame's own layout. Size changes
    // come from the ResizeObserver, scroll height from syncScroll.
    const key = JSON.stringify(marks);
    if (text === this._text && key === this._key) return;
    this._text = text;
    this._key = key;
    // The text goes in chunks of whole lines, each a block of its own:
    // a block's lines wrap as the textarea's do (a line break ends a line
    // either way), and a chunk whose text and marks did not change keeps
    // its element, so the browser lays out again only the chunks that
    // changed, not the whole mirror (see planChunks).
    const plan = planChunks(text, this._chunks.map((c) => c.text));
    const pieces = layoutMarks(text.length, marks);
    const chunks = [];
    const carets = [];
    let k = 0; // next piece
    for (const [from, to, reuse] of plan) {
      const last = to === text.length;
      // This chunk's pieces: text pieces cut at its ends, and the carets
      // at its start (and at its end for the last chunk).
      const own = [];
      let marked = false;
      while (k < pieces.length) {
        const p = pieces[k];
        if (p.kind === 'caret') {
          if (p.at < from || (p.at === to && !last) || p.at > to) break;
          own.push(p);
          marked = true;
          k++;
          continue;
        }
        if (p.from >= to) break;
        const a = Math.max(p.from, from);
        const b = Math.min(p.to, to);
        if (b > a) {
          own.push({ kind: 'text', from: a, to: b, marks: p.marks });
          if (p.marks.length) marked = true;
        }
        if (p.to > to) break; // the rest of it goes in the next chunk
        k++;
      }
      const old = reuse >= 0 ? this._chunks[reuse] : null;
      if (old && !old.marked && !marked) {
        chunks.push(old);
        continue;
      }
      const div = document.createElement('div');
      for (const p of own) {
        if (p.kind === 'caret') {
          const m = marks[p.mark];
          const c = el('span', 'peer-caret', m.color);
          const label = el('span', 'peer-name', m.color);
          label.style.setProperty('--peer-ink', inkFor(m.color));
          label.textContent = m.name;
          c.append(label);
          div.append(c);
          carets.push({ el: c, mark: m });
          continue;
        }
        const piece = text.slice(p.from, p.to);
        if (p.marks.length === 0) {
          div.append(document.createTextNode(piece));
        } else {
          // Overlapping selections show the colour of the latest peer.
          const sp = el('span', 'peer-sel', marks[p.marks[p.marks.length - 1]].color);
          sp.textContent = piece;
          div.append(sp);
        }
      }
      chunks.push({ text: text.slice(from, to), el: div, marked });
    }
    // A final line break only makes a line in a div when something follows
    // it; U+200B is invisible and, at the very end, moves no line break.
    if (!this._zw) this._zw = document.createTextNode('\u200b');
    // Room to scroll as far as the textarea (whose text may go on far
    // beyond the mirror's, and whose scroll height may round differently);
    // it comes after all text, so it moves no character.
    if (!this._tail) this._tail = document.createElement('div');
    this._place(chunks.map((c) => c.el));
    const lastEl = chunks.length ? chunks[chunks.length - 1].el : null;
    if (lastEl) {
      if (lastEl.lastChild !== this._zw) lastEl.append(this._zw);
    } else this.mirror.insertBefore(this._zw, this._tail);
    this._chunks = chunks;
    this._carets = carets;
    this._quieten();
    this._measureSoon();
  }

  // What needs the layout (the box, which names go below their caret,
  // the name pointed at) is read in a task after the frame, when the
  // browser has laid the page out anyway: read now, in the frame's
  // callbacks, it would lay the whole textarea out an extra time.
  _measureSoon() {
    if (this._measureDue) return;
    this._measureDue = true;
    setTimeout(() => {
      this._measureDue = false;
      this.syncBox();
      // Names go above the caret, except on the first line where they
      // would be cut off: there they go below.
      const first = parseFloat(getComputedStyle(this.mirror).paddingTop) + 4;
      for (const c of this._carets) c.el.classList.toggle('below', c.el.offsetTop < first);
      this.pointAt(this._px, this._py); // a redraw keeps the name pointed at
    }, 0);
  }

  // Makes the mirror's children els (in order) and the tail, moving no
  // element that stays: a node taken out and put back is laid out anew.
  _place(els) {
    const m = this.mirror;
    const keep = new Set(els);
    for (const c of [...m.childNodes]) {
      if (c !== this._tail && !keep.has(c)) c.remove();
    }
    if (this._tail.parentNode !== m) m.append(this._tail);
    let cur = m.firstChild;
    for (const e of els) {
      if (cur === e) {
        cur = cur.nextSibling;
        continue;
      }
      m.insertBefore(e, cur);
    }
  }

  // Fades the labels of idle peers, and comes back when the next one is due.
  _quieten() {
    clearTimeout(this._quietTimer);
    this._quietTimer = null;
    const { quiet, next } = quietLabels(this._carets.map((c) => c.mark), Date.now());
    this._carets.forEach((c, i) => c.el.classList.toggle('quiet', quiet[i]));
    if (next >= 0) this._quietTimer = setTimeout(() => this._quieten(), next + 20);
  }

  /**
   * Shows the name of the caret at (or within a few pixels of) the
   * viewport point x, y, and hides the others; NaN hides all.
   * @param {number} x
   * @param {number} y
   */
  pointAt(x, y) {
    this._px = x;
    this._py = y;
    for (const c of this._carets) {
      const r = c.el.getBoundingClientRect();
      const on = Math.abs(x - r.left) <= 8 && y >= r.top - 6 && y <= r.bottom + 2;
      c.el.classList.toggle('show', on);
    }
  }

  /** Follows the textarea's size (its scrollbar narrows the text). */
  syncBox() {
    const ta = this.ta;
    const st = this.mirror.style;
    st.top = `${ta.offsetTop + ta.clientTop}px`;
    st.left = `${ta.offsetLeft + ta.clientLeft}px`;
    st.width = `${ta.clientWidth}px`;
    st.height = `${ta.clientHeight}px`;
    if (this._tail) this._tail.style.height = `${ta.scrollHeight}px`;
    this.syncScroll();
  }

  /** Follows the textarea's scroll position. */
  syncScroll() {
    const ta = this.ta;
    const m = this.mirror;
    m.scrollTop = ta.scrollTop;
    m.scrollLeft = ta.scrollLeft;
    // The textarea grew since the spacer was sized (text typed below
    // the marks): make room, and scroll again.
    if (this._tail && Math.abs(m.scrollTop - ta.scrollTop) > 1) {
      this._tail.style.height = `${ta.scrollHeight}px`;
      m.scrollTop = ta.scrollTop;
    }
  }
}

function el(tag, cls, color) {
  const e = document.createElement(tag);
  e.className = cls;
  e.style.setProperty('--peer', color);
  return e;
}
