// Textarea coordinates ↔ document coordinates.
//
// A document is a string counted in code points on the wire (an emoji is
// one), while a textarea counts UTF-16 code units (an emoji is two) and
// shows line breaks normalised: its value has "\n" where the text has
// "\r\n" or a lone "\r" (HTML's API value). TextView keeps both forms of
// one text and converts indices exactly between them; changedRange and
// localEdit turn what the user did to the textarea into an op.
//
// Pure functions and plain data: no DOM, tested under node.

import { codePointLength, utf16ToCodePoint, codePointToUtf16, fromPatch, toWellFormed, textStats } from './ot.js';

/**
 * Returns text as a textarea's value shows it: "\r\n" and lone "\r"
 * become "\n".
 * @param {string} text
 * @returns {string}
 */
export function toView(text) {
  return text.indexOf('\r') < 0 ? text : text.replace(/\r\n?/g, '\n');
}

// What makes a text's indices differ between view, UTF-16 and code points.
const COMPLEX = /[\r\ud800-\udfff]/;

/**
 * Whether s has a "\r" or a surrogate (see TextView.simple).
 * @param {string} s
 * @returns {boolean}
 */
export function isComplex(s) {
  return COMPLEX.test(s);
}

function isHigh(c) {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLow(c) {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * One document text and its textarea form (view), with index conversions.
 * Indices named "view" are UTF-16 indices into the view, "text" UTF-16
 * indices into the text, "cp" code-point positions (op positions).
 */
export class TextView {
  /**
   * @param {string} text
   * @param {boolean} [simple] known to have no "\r" and no surrogate
   *   (skips the scan for them)
   */
  constructor(text, simple = false) {
    /** The document text. */
    this.text = text;
    /**
     * The text has no "\r" and no surrogate: view, text and code-point
     * indices are all the same, and converting them costs nothing.
     */
    // A text made by ot.apply is indexed: no need to read it.
    const st = simple ? null : textStats(text);
    this.simple = simple || (st ? st.pairs === 0 && st.cr === 0 : !COMPLEX.test(text));
    /** What the textarea shows. */
    this.view = this.simple ? text : toView(text);
    // UTF-16 indices in text of every "\r" that starts a "\r\n": each
    // such pair is one "\n" in the view. Empty for the usual text without
    // "\r\n", where view and text indices are the same.
    this._pairs = [];
    if (!this.simple && this.view.length !== text.length) {
      for (let i = text.indexOf('\r\n'); i >= 0; i = text.indexOf('\r\n', i + 2)) this._pairs.push(i);
    }
  }

  // Number of pairs j with key(j) < x, by binary search.
  _count(x, key) {
    let lo = 0;
    let hi = this._pairs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (key(mid) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * View index → text index. The view's "\n" of a "\r\n" pair maps to
   * the "\r", so a change starting there covers the whole pair.
   * @param {number} v
   * @returns {number}
   */
  viewToText(v) {
    if (this._pairs.length === 0) return v;
    return v + this._count(v, (j) => this._pairs[j] - j);
  }

  /**
   * Text index → view index. An index between "\r" and "\n" rounds down
   * to the pair's start.
   * @param {number} t
   * @returns {number}
   */
  textToView(t) {
    if (this._pairs.length === 0) return t;
    // Each pair that starts before t is one unit shorter in the view;
    // for t between "\r" and "\n" that lands on the pair's "\n".
    return t - this._count(t, (j) => this._pairs[j]);
  }

  /**
   * View index → code-point position.
   * @param {number} v
   * @returns {number}
   */
  viewToCp(v) {
    if (this.simple) return Math.max(0, Math.min(v, this.text.length));
    return utf16ToCodePoint(this.text, this.viewToText(v));
  }

  /**
   * Code-point position → view index (clamped to the text).
   * @param {number} cp
   * @returns {number}
   */
  cpToView(cp) {
    if (this.simple) return Math.max(0, Math.min(cp, this.text.length));
    return this.textToView(codePointToUtf16(this.text, cp));
  }
}

/**
 * Returns where b differs from a as {start, oldEnd, newEnd} (UTF-16
 * indices: a[start, oldEnd) was replaced by b[start, newEnd)), or null if
 * they are equal. When an insert or delete could sit at several places
 * (typing "a" into "aa"), it is put where caret (the textarea's
 * selectionEnd after the change) says the user made it, so peers see the
 * edit, and their cursors move, where it really happened. Never splits a
 * surrogate pair.
 * @param {string} a the previous value
 * @param {string} b the new value
 * @param {number} [caret=-1] selectionEnd in b, or -1 if unknown
 * @returns {{start: number, oldEnd: number, newEnd: number}|null}
 */
export function changedRange(a, b, caret = -1) {
  if (a === b) return null;
  const la = a.length;
  const lb = b.length;
  const fast = atCaret(a, b, caret);
  if (fast) return widen(a, fast.start, fast.oldEnd, fast.newEnd);
  const min = Math.min(la, lb);
  let p = 0;
  while (p < min && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  // The common suffix, allowed to overlap the prefix: the overlap is
  // exactly the room a pure insert or delete has to slide in.
  let s = 0;
  while (s < min && a.charCodeAt(la - 1 - s) === b.charCodeAt(lb - 1 - s)) s++;
  let start = p;
  let oldEnd;
  let newEnd;
  if (lb > la && p + s >= la) {
    const k = lb - la; // inserted at q, anywhere in [la - s, p]
    const q = caret - k;
    start = q >= la - s && q <= p ? q : p;
    oldEnd = start;
    newEnd = start + k;
  } else if (la > lb && p + s >= lb) {
    const k = la - lb; // deleted at q, anywhere in [lb - s, p]
    start = caret >= lb - s && caret <= p ? caret : p;
    oldEnd = start + k;
    newEnd = start;
  } else {
    const keep = Math.min(s, min - p);
    oldEnd = la - keep;
    newEnd = lb - keep;
  }
  return widen(a, start, oldEnd, newEnd);
}

// Both sides share a[start-1] and a[oldEnd]: widening over them keeps the
// change exact and whole code points.
function widen(a, start, oldEnd, newEnd) {
  if (start > 0 && isHigh(a.charCodeAt(start - 1))) start--;
  if (oldEnd < a.length && isLow(a.charCodeAt(oldEnd))) {
    oldEnd++;
    newEnd++;
  }
  return { start, oldEnd, newEnd };
}

// atCaret is changedRange's usual case, typing or deleting at the caret,
// checked with the engine's string comparisons instead of a loop per
// unit: a pure insert ending at caret, or a pure delete starting there.
// null if the change is not one of those.
function atCaret(a, b, caret) {
  const la = a.length;
  const lb = b.length;
  if (caret < 0 || caret > lb) return null;
  if (lb > la) {
    const q = caret - (lb - la);
    if (q >= 0 && a.slice(0, q) === b.slice(0, q) && a.slice(q) === b.slice(caret)) return { start: q, oldEnd: q, newEnd: caret };
  } else if (la > lb) {
    const k = la - lb;
    if (a.slice(0, caret) === b.slice(0, caret) && a.slice(caret + k) === b.slice(caret)) return { start: caret, oldEnd: caret + k, newEnd: caret };
  }
  return null;
}

/**
 * Returns the op (code points, on tv.text) that turns the document into
 * what the textarea shows now, or null if nothing changed. Inserted text
 * is made well-formed as the server would (a lone surrogate becomes
 * U+FFFD).
 * @param {TextView} tv what the textarea showed before
 * @param {string} value the textarea's value now
 * @param {number} [caret=-1] its selectionEnd now
 * @returns {Array<number|string>|null}
 */
export function localEdit(tv, value, caret = -1) {
  const r = changedRange(tv.view, value, caret);
  if (!r) return null;
  const from = tv.viewToText(r.start);
  const to = tv.viewToText(r.oldEnd);
  const pos = utf16ToCodePoint(tv.text, from);
  const del = codePointLength(tv.text.slice(from, to));
  const ins = toWellFormed(value.slice(r.start, r.newEnd));
  return fromPatch(pos, del, ins);
}

/**
 * Returns the code-point position just after the last change op makes,
 * in the text op produces: where to put the caret after an undo.
 * @param {Array<number|string>} op
 * @returns {number}
 */
export function caretAfter(op) {
  let pos = 0;
  let end = 0;
  for (const c of op) {
    if (typeof c === 'string') {
      pos += codePointLength(c);
      end = pos;
    } else if (c > 0) {
      pos += c;
    } else {
      end = pos;
    }
  }
  return end;
}
