// TextareaBinding: keeps a <textarea> and a DocClient showing one text.
//
// Local side: after every change the user makes (typing, paste, cut, drag
// and drop, spelling fixes, IME), the textarea's value is compared with
// what it showed before; the difference becomes one op, sent through the
// DocClient at once (optimistically). During an IME composition nothing
// is sent, since the composing text is provisional: the composition's
// result goes out as one edit when it ends.
//
// Remote side: an op from someone else is written into the textarea one
// change at a time with setRangeText, where it happens (a cost in
// proportion to the op, not the text, for texts without "\r" or
// surrogates; others are rewritten by the smallest replacement), and the
// selection is moved through the op in code points, so the caret stays
// on the same character. With opts.defer (the editor page) ops arriving
// within a short time are written together: a browser lays the whole
// textarea out again on every write. While a composition is running, remote ops are held (the IME
// would break if its text moved under it) and written when it ends; the
// user's composed text is transformed past them.
//
// Undo and redo (Ctrl/Cmd+Z, Ctrl+Y, Ctrl/Cmd+Shift+Z and the browser's
// Undo/Redo commands) go through an UndoManager that undoes only your own
// edits (see undo.js).

import { apply, compose, transform, transformIndex, isNoop, codePointLength } from './ot.js';
import { invert, transformSelection, diff } from './client.js';
import { TextView, localEdit, caretAfter, toView } from './textview.js';
import { UndoManager } from './undo.js';

// Keys that move the caret: an edit after them starts a new undo step.
const NAV_KEYS = new Set(['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End', 'PageUp', 'PageDown']);

/**
 * Returns 'insert' or 'delete' for an op that only inserts or only
 * deletes, 'other' otherwise: the undo grouping kind.
 * @param {Array<number|string>} op
 * @returns {string}
 */
export function editKind(op) {
  let ins = false;
  let del = false;
  for (const c of op) {
    if (typeof c === 'string') ins = true;
    else if (c < 0) del = true;
  }
  if (ins && !del) return 'insert';
  if (del && !ins) return 'delete';
  return 'other';
}

// Pastes of at least this many UTF-16 units are written by the binding
// (see _paste).
const LARGE_PASTE = 64 * 1024;

// Input types that are one undo step each, never merged with typing.
const OWN_STEP = new Set(['insertFromPaste', 'insertFromDrop', 'deleteByCut', 'deleteByDrag', 'insertReplacementText', 'insertFromYank', 'historyRestore']);

/**
 * Returns {pos, del, ins} (code points) for an op that changes one place
 * (retain pos, insert ins, delete del), or null for an op that changes
 * several places.
 * @param {Array<number|string>} op
 * @returns {{pos: number, del: number, ins: number}|null}
 */
export function editSpan(op) {
  let pos = 0;
  let del = 0;
  let ins = 0;
  let seen = false;
  for (const c of op) {
    if (typeof c === 'number' && c > 0) {
      if (seen) return null; // a retain between two changes (a trailing one is not written)
      pos += c;
    } else {
      seen = true;
      if (typeof c === 'string') ins += codePointLength(c);
      else del -= c;
    }
  }
  return seen ? { pos, del, ins } : null;
}

// shortcut names the undo/redo command of a keydown, or ''. Letters come
// from e.key on Latin layouts (so AZERTY's Z is Z) and from the physical
// key otherwise (a Cyrillic layout still undoes with the Z key).
function shortcut(e) {
  if (!(e.ctrlKey || e.metaKey) || e.altKey) return '';
  const key = /^[a-z]$/i.test(e.key) ? e.key.toLowerCase() : (e.code || '').replace(/^Key/, '').toLowerCase();
  if (key === 'z') return e.shiftKey ? 'redo' : 'undo';
  if (key === 'y' && e.ctrlKey && !e.shiftKey) return 'redo';
  return '';
}

/**
 * Binds a textarea to a DocClient. Feed it every onChange event of the
 * client (binding.remote(ev.op)).
 */
export class TextareaBinding {
  /**
   * @param {object} opts
   * @param {HTMLTextAreaElement} opts.textarea
   * @param {import('./client.js').DocClient} opts.client
   * @param {UndoManager} [opts.undo]
   * @param {() => void} [opts.onRender] the textarea's text or the
   *   coordinates of its text changed (redraw cursors)
   * @param {() => void} [opts.onSelection] the local selection may have
   *   changed (send presence)
   * @param {(err: Error) => void} [opts.onError] a local edit could not be applied
   * @param {(fn: () => void) => void} [opts.defer] if given, remote ops are
   *   written into the textarea in fn, run later (the editor page: a few
   *   tens of ms later), so that ops arriving meanwhile cost one write
   *   (a browser lays the whole textarea out again on each) and typing
   *   is never queued behind them; without it they are written at once
   * @param {(fn: () => void) => void} [opts.afterSend] if given, a large
   *   paste is written into the textarea in fn, run once the edit has
   *   been sent (see _paste); without it at once
   */
  constructor({ textarea, client, undo = new UndoManager(), onRender, onSelection, onError, defer = null, afterSend = null }) {
    this.ta = textarea;
    this.client = client;
    this.undo = undo;
    this._onRender = onRender || (() => {});
    this._onSelection = onSelection || (() => {});
    this._onError = onError || (() => {});
    this._tv = new TextView(textarea.value); // what the textarea shows
    this._lag = null; // op from this._tv.text to client.text not written yet
    this._composing = false;
    this._defer = defer;
    this._writeDue = false; // a deferred write of this._lag is scheduled
    this._held = false; // this._lag holds a paste being sent: not written yet
    this._afterSend = afterSend || ((fn) => fn());
    // Where the caret was after our last edit (code points on the
    // client's text): an edit that starts elsewhere is a new undo step.
    this._lastCaret = null;
    this._listen();
    this._render();
  }

  /** Whether an IME composition is running. @returns {boolean} */
  get composing() { return this._composing; }

  /**
   * Takes an op the client applied for a reason other than a local edit
   * (someone else's op, a snapshot rebase, a refused op undone).
   * @param {Array<number|string>} op
   */
  remote(op) {
    this.undo.transform(op);
    if (this._lastCaret !== null) this._lastCaret = transformIndex(this._lastCaret, op);
    this._lag = this._lag ? compose(this._lag, op) : op;
    if (this._composing) return;
    // A change the textarea has not reported yet goes out first, so that
    // writing the remote op cannot overwrite it.
    if (this.ta.value !== this._tv.view) this._syncLocal();
    if (this._lag) this._writeLag();
  }

  // Writes the held ops now, or schedules that with opts.defer.
  _writeLag(now = false) {
    if (this._held) return; // a paste not sent yet: written once it is
    if (now || !this._defer || this.ta.readOnly) { // the document's first text goes at once
      this._writeDue = false;
      this._catchUp();
      return;
    }
    if (this._writeDue) return;
    this._writeDue = true;
    this._defer(() => {
      this._writeDue = false;
      if (this._composing || !this._lag) return;
      if (this.ta.value !== this._tv.view) this._syncLocal();
      if (this._lag) this._catchUp();
    });
  }

  /**
   * The local selection in code points on the client's text.
   * @returns {{anchor: number, head: number}}
   */
  selection() {
    const sel = this._readSelection();
    return this._lag ? transformSelection(sel, this._lag) : sel;
  }

  /**
   * Converts a selection in code points on the client's text to textarea
   * (view) indices, or returns null while the textarea lags behind the
   * client (during a composition).
   * @param {{anchor: number, head: number}} sel
   * @returns {{from: number, to: number, head: number}|null}
   */
  toView(sel) {
    if (this._lag) return null;
    const a = this._tv.cpToView(sel.anchor);
    const h = this._tv.cpToView(sel.head);
    return { from: Math.min(a, h), to: Math.max(a, h), head: h };
  }

  /** The text the textarea shows, in its own form (view). @returns {string} */
  get view() { return this._tv.view; }

  /** Undoes the last local edit. */
  undoEdit() { this._history(false); }

  /** Redoes the last undone edit. */
  redoEdit() { this._history(true); }

  // ---- events ------------------------------------------------------------

  _listen() {
    const ta = this.ta;
    ta.addEventListener('input', (e) => {
      if (e.isComposing || this._composing) return;
      this._syncLocal(e.inputType);
    });
    ta.addEventListener('compositionstart', () => {
      this._syncLocal(); // anything typed before the composition goes first
      this._composing = true;
    });
    ta.addEventListener('compositionend', () => {
      // Chrome fires the last input before compositionend, Firefox after:
      // diff here, and the later input finds nothing new.
      this._composing = false;
      this._syncLocal();
      if (this._lag) this._render();
      this._onSelection(); // the caret can be reported again, even if nothing was committed
    });
    ta.addEventListener('keydown', (e) => {
      if (e.isComposing) return;
      const cmd = shortcut(e);
      if (cmd) {
        e.preventDefault();
        this._history(cmd === 'redo');
      } else if (NAV_KEYS.has(e.key)) {
        this.undo.breakGroup();
      }
    });
    ta.addEventListener('beforeinput', (e) => {
      // The browser's own Undo/Redo (menu, context menu) would replay its
      // stale history: use ours.
      if (e.inputType === 'historyUndo' || e.inputType === 'historyRedo') {
        e.preventDefault();
        this._history(e.inputType === 'historyRedo');
      }
    });
    ta.addEventListener('paste', (e) => this._paste(e));
    ta.addEventListener('mousedown', () => this.undo.breakGroup());
    for (const t of ['select', 'keyup', 'mouseup', 'focus', 'selectionchange']) {
      ta.addEventListener(t, () => this._onSelection());
    }
  }

  // ---- local edits ---------------------------------------------------------

  // Turns whatever the textarea shows beyond this._tv into a local edit.
  // inputType (of the input event, if any) decides how it is undone.
  // caret: where the caret is after the change, if not the textarea's.
  _syncLocal(inputType = '', caret = -1) {
    if (this._composing || !this.client.loaded) return;
    const value = this.ta.value;
    const old = this._tv;
    if (value === old.view) return;
    const op = localEdit(old, value, caret >= 0 ? caret : this.ta.selectionEnd);
    let mine = op;
    let lag = this._lag;
    if (lag) [mine, lag] = transform(op, lag); // held remote ops come first
    const before = this.client.text;
    try {
      this.client.edit(mine);
    } catch (err) {
      // The edit is over the server's limits (err.code 'too_large'), or,
      // which cannot happen while this._tv and the client agree, it does
      // not fit the text: the client's text wins, the textarea is
      // rewritten from it and the caret goes where the edit was.
      this._onError(err);
      this._tv = old;
      const span = editSpan(mine);
      this._render(span ? transformIndex(span.pos, lag || []) : null);
      return;
    }
    this._recordUndo(before, mine, inputType);
    // What the textarea shows now: with nothing held, the client's text
    // (the same edit on the same text), else the edit applied to the old.
    const shown = lag ? apply(old.text, op) : this.client.text;
    this._tv = new TextView(shown);
    this._lag = lag && !isNoop(lag) ? lag : null;
    // Rewrite if the text differs from what the user typed (a lone
    // surrogate made well-formed), or write the held ops if any are due.
    if (this._tv.view !== value) this._render();
    else if (this._lag) this._writeLag();
    else this._onRender(); // peers' cursors moved with our edit
    this._onSelection();
  }

  // A large paste is sent before it is written into the textarea: the
  // browser's own paste lays the whole text out (half a second for 200
  // KB on a busy machine) before the input event, so the edit would only
  // leave after that, and a large message leaves the page only while its
  // thread is free. Here the paste becomes an edit at once, held like a
  // remote op (this._lag) until opts.afterSend says it has gone, and then
  // written with setRangeText. Smaller pastes are the browser's own.
  _paste(e) {
    const ta = this.ta;
    if (this._composing || !this.client.loaded || ta.readOnly || !e.clipboardData) return;
    const text = e.clipboardData.getData('text/plain');
    if (text.length < LARGE_PASTE) return;
    e.preventDefault();
    this._syncLocal(); // anything not reported yet goes first
    const view = this._tv.view;
    const start = ta.selectionStart;
    const end = ta.selectionEnd;
    const ins = toView(text);
    // As the browser's paste: the selection replaced, the caret after it.
    const value = view.slice(0, start) + ins + view.slice(end);
    this._edit(localEdit(this._tv, value, start + ins.length), 'insertFromPaste', true);
  }

  // Applies op (on this._tv.text, what the textarea shows) as a local
  // edit that the textarea does not show yet: it is written like a remote
  // op, once it has been sent (opts.afterSend).
  _edit(op, inputType, hold) {
    if (!op) return;
    let mine = op;
    let lag = this._lag;
    if (lag) [mine] = transform(op, lag); // held remote ops come first
    const before = this.client.text;
    try {
      this.client.edit(mine);
    } catch (err) {
      this._onError(err); // nothing changed, and the textarea never showed it
      return;
    }
    this._recordUndo(before, mine, inputType);
    this._lastCaret = null;
    this._lag = lag ? compose(lag, mine) : mine;
    if (hold) {
      this._held = true;
      this._afterSend(() => {
        this._held = false;
        if (this._composing || !this._lag) return; // compositionend writes it
        if (this.ta.value !== this._tv.view) this._syncLocal();
        if (this._lag) this._writeLag(true);
        const ta = this.ta;
        if (typeof document !== 'undefined' && document.activeElement === ta) {
          ta.blur(); // and back: the caret, after the paste, is scrolled into sight
          ta.focus();
        }
      });
    } else this._writeLag();
    this._onSelection();
  }

  /**
   * Makes the text equal to text as one local edit, the smallest single
   * replacement, undoable as one step: restoring an earlier version
   * (history.js). Nothing happens in a read-only or unloaded textarea.
   * @param {string} text
   */
  replaceAll(text) {
    if (!this.client.loaded || this.ta.readOnly) return;
    this._syncLocal(); // anything typed and not reported yet goes first
    this.undo.breakGroup();
    this._edit(diff(this._tv.text, text), 'historyRestore', false);
  }

  // Puts a local edit on the undo stack: typing in one place, without a
  // pause, undoes as one step; a paste, a cut or a drop is a step of its own.
  _recordUndo(before, op, inputType) {
    const span = editSpan(op);
    const last = this._lastCaret;
    const kind = OWN_STEP.has(inputType) ? 'other' : editKind(op);
    if (!span || (span.pos !== last && span.pos + span.del !== last)) this.undo.breakGroup();
    this.undo.record(invert(before, op), kind);
    this._lastCaret = span && kind !== 'other' ? span.pos + span.ins : null;
  }

  _history(redo) {
    if (this._composing || !this.client.loaded) return;
    this._syncLocal();
    let caret = null;
    const step = (op) => {
      const before = this.client.text;
      this.client.edit(op);
      caret = caretAfter(op);
      return invert(before, op);
    };
    let done;
    try {
      done = redo ? this.undo.redo(step) : this.undo.undo(step);
    } catch (err) {
      this.undo.clear();
      this._onError(err);
      return;
    }
    if (!done) return;
    this._lastCaret = null;
    this._render(caret);
    this._onSelection();
  }

  // ---- writing into the textarea ---------------------------------------------

  // Writes the held ops (this._lag) into the textarea, each change with
  // setRangeText where it happens: the cost is that of the op, not of
  // the text. The selection moves through the op (transformSelection)
  // and the scroll position is kept. Texts with "\r" or surrogates, where
  // positions need converting, are rewritten by _render.
  _catchUp() {
    const op = this._lag;
    const tv = this._tv;
    const next = new TextView(this.client.text);
    // Texts with "\r" (shown as "\n") are rewritten by _render. Surrogate
    // pairs are not: positions convert through the astral index (ot.js),
    // in the new text before the write point (the textarea's text there
    // is already the new one) and in the old one after it.
    if (this.ta.readOnly !== !this.client.writable || tv.view !== tv.text || next.view !== next.text ||
      op.some((c) => typeof c === 'string' && c.indexOf('\r') >= 0)) {
      this._render();
      return;
    }
    // Nothing is read from the textarea after the first write: each such
    // read would lay the whole text out again. setRangeText keeps the
    // scroll position (unlike setting value).
    const ta = this.ta;
    const { selectionStart: s, selectionEnd: e, selectionDirection: d } = ta;
    const cs = tv.viewToCp(s);
    const ce = e === s ? cs : tv.viewToCp(e);
    const sel = transformSelection(d === 'backward' ? { anchor: ce, head: cs } : { anchor: cs, head: ce }, op);
    // Where 'preserve' leaves the selection: setSelectionRange only if
    // transformSelection differs (an insert at the caret).
    let ps = s;
    let pe = e;
    let was = 0; // code points of the old text written over so far
    let now = 0; // code points of the new text written so far
    for (const c of op) {
      if (typeof c === 'string') {
        const pos = next.cpToView(now);
        ta.setRangeText(c, pos, pos, 'preserve');
        if (ps > pos) ps += c.length;
        if (pe > pos) pe += c.length;
        now += codePointLength(c);
      } else if (c > 0) {
        was += c;
        now += c;
      } else {
        const pos = next.cpToView(now);
        const n = tv.cpToView(was - c) - tv.cpToView(was);
        ta.setRangeText('', pos, pos + n, 'preserve');
        ps = ps > pos + n ? ps - n : Math.min(ps, pos);
        pe = pe > pos + n ? pe - n : Math.min(pe, pos);
        was -= c;
      }
    }
    this._lag = null;
    this._tv = next;
    const a = next.cpToView(sel.anchor);
    const h = next.cpToView(sel.head);
    const from = Math.min(a, h);
    const to = Math.max(a, h);
    if (ps !== from || pe !== to) ta.setSelectionRange(from, to, h < a ? 'backward' : 'forward');
    this._onRender();
  }

  // Writes the client's text into the textarea and puts the selection
  // where it belongs: moved through the held ops, or at caretCp.
  _render(caretCp = null) {
    const old = this._tv;
    const next = new TextView(this.client.text);
    let sel;
    if (caretCp !== null) sel = { anchor: caretCp, head: caretCp };
    else {
      sel = this._readSelection();
      if (this._lag) sel = transformSelection(sel, this._lag);
    }
    this._lag = null;
    this._tv = next;
    if (this.ta.readOnly !== !this.client.writable) this.ta.readOnly = !this.client.writable;
    if (this.ta.value !== next.view) this._write(next.view);
    const a = next.cpToView(sel.anchor);
    const h = next.cpToView(sel.head);
    const dir = h < a ? 'backward' : 'forward';
    const ta = this.ta;
    if (ta.selectionStart !== Math.min(a, h) || ta.selectionEnd !== Math.max(a, h)) {
      ta.setSelectionRange(Math.min(a, h), Math.max(a, h), dir);
    }
    if (old.text !== next.text) this._onRender();
  }

  // Replaces the part of the textarea's value that differs from value,
  // keeping the scroll position (setting .value would reset it and
  // re-layout the whole text).
  _write(value) {
    const ta = this.ta;
    const cur = ta.value;
    let p = 0;
    const min = Math.min(cur.length, value.length);
    while (p < min && cur.charCodeAt(p) === value.charCodeAt(p)) p++;
    let s = 0;
    while (s < min - p && cur.charCodeAt(cur.length - 1 - s) === value.charCodeAt(value.length - 1 - s)) s++;
    const top = ta.scrollTop;
    const left = ta.scrollLeft;
    ta.setRangeText(value.slice(p, value.length - s), p, cur.length - s, 'preserve');
    ta.scrollTop = top;
    ta.scrollLeft = left;
  }

  // The textarea's selection in code points on this._tv.text.
  _readSelection() {
    const { selectionStart: s, selectionEnd: e, selectionDirection: d } = this.ta;
    const tv = this._tv;
    const start = tv.viewToCp(s);
    const end = e === s ? start : tv.viewToCp(e);
    return d === 'backward' ? { anchor: end, head: start } : { anchor: start, head: end };
  }
}
