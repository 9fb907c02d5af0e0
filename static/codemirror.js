// @collabedit/client/codemirror: binds a CodeMirror 6 editor to a
// CollabDocument (index.js). Local transactions become ops (CodeMirror's
// UTF-16 positions converted to the protocol's code points, §2); remote
// ops become transactions annotated with `remote` and
// Transaction.addToHistory.of(false), so they are neither sent back nor
// undone by the user's Ctrl+Z; carets move as the protocol says (text
// typed at a caret pushes it on; a selection does not take in text
// inserted at its edges); the others' carets, name labels and selections
// are drawn from presence, and your selection is sent as presence.
//
//   import { collab } from '@collabedit/client/codemirror';
//   await doc.whenLoaded();
//   new EditorView({ doc: doc.text, extensions: [basicSetup, collab(doc)], parent });
//
// It imports @codemirror/state and @codemirror/view as bare specifiers
// (peer dependencies): a bundler resolves them, or a page maps them with an
// import map to the one copy its editor uses.

import {
  Annotation, ChangeSet, Compartment, EditorSelection, EditorState, StateEffect, StateField, Transaction,
} from '@codemirror/state';
import { Decoration, EditorView, RectangleMarker, ViewPlugin, WidgetType, layer } from '@codemirror/view';
import { codePointLength, codePointToUtf16, isNoop, normalize, utf16ToCodePoint } from './ot.js';

/** Marks transactions that apply other people's edits (value true). */
export const remote = Annotation.define();

const setPeers = StateEffect.define();
const setLoaded = StateEffect.define();

// Whether the document has arrived: until then the editor is read-only.
const loadedField = StateField.define({
  create: () => false,
  update(v, tr) {
    for (const e of tr.effects) if (e.is(setLoaded)) v = e.value;
    return v;
  },
  provide: (f) => EditorState.readOnly.from(f, (v) => !v),
});

// The others' carets (widgets with name labels) and selections (ranges,
// drawn by selectionLayer), mapped through every change between updates.
const peersField = StateField.define({
  create: () => ({ carets: Decoration.none, ranges: [] }),
  update(v, tr) {
    for (const e of tr.effects) if (e.is(setPeers)) return buildPeers(e.value, tr.state.doc.length);
    if (!tr.docChanged) return v;
    return {
      carets: v.carets.map(tr.changes),
      ranges: v.ranges.map((r) => {
        const from = tr.changes.mapPos(r.from, 1);
        return { ...r, from, to: Math.max(from, tr.changes.mapPos(r.to, -1)) };
      }),
    };
  },
  provide: (f) => EditorView.decorations.from(f, (v) => v.carets),
});

function buildPeers(peers, len) {
  const carets = [];
  const ranges = [];
  for (const p of peers) {
    const head = Math.min(p.head, len);
    carets.push(Decoration.widget({ widget: new CaretWidget(p.name, p.color, p.ink), side: 1 }).range(head));
    const from = Math.min(p.from, len);
    const to = Math.min(p.to, len);
    if (from < to) ranges.push({ from, to, color: p.color });
  }
  return { carets: Decoration.set(carets, true), ranges };
}

class CaretWidget extends WidgetType {
  constructor(name, color, ink) {
    super();
    this.name = name;
    this.color = color;
    this.ink = ink;
  }

  eq(o) { return o.name === this.name && o.color === this.color && o.ink === this.ink; }

  // Styles go through the CSSOM, never a style attribute, so that a page
  // with a strict Content-Security-Policy shows them.
  toDOM() {
    const caret = document.createElement('span');
    caret.className = 'cm-collab-caret';
    caret.setAttribute('aria-hidden', 'true');
    caret.style.borderLeftColor = this.color;
    const label = document.createElement('span');
    label.className = 'cm-collab-label';
    label.textContent = this.name;
    label.style.backgroundColor = this.color;
    label.style.color = this.ink;
    caret.append(label);
    return caret;
  }

  ignoreEvent() { return true; }
}

// A selection rectangle in a peer's colour (RectangleMarker styled by CSSOM).
class PeerMarker {
  constructor(marker, color) {
    this.marker = marker;
    this.color = color;
  }

  draw() {
    const el = this.marker.draw();
    el.style.backgroundColor = this.color;
    return el;
  }

  update(el, prev) {
    if (!this.marker.update(el, prev.marker)) return false;
    el.style.backgroundColor = this.color;
    return true;
  }

  eq(o) { return o instanceof PeerMarker && o.color === this.color && this.marker.eq(o.marker); }
}

const selectionLayer = layer({
  above: false,
  class: 'cm-collab-selections',
  markers(view) {
    const out = [];
    for (const r of view.state.field(peersField).ranges) {
      for (const m of RectangleMarker.forRange(view, 'cm-collab-selection', EditorSelection.range(r.from, r.to))) {
        out.push(new PeerMarker(m, r.color));
      }
    }
    return out;
  },
  update: (u) => u.docChanged || u.viewportChanged || u.geometryChanged ||
    u.transactions.some((tr) => tr.effects.some((e) => e.is(setPeers))),
});

const theme = EditorView.baseTheme({
  '.cm-collab-caret': {
    position: 'relative',
    borderLeft: '2px solid',
    marginLeft: '-1px',
    marginRight: '-1px',
    pointerEvents: 'none',
  },
  '.cm-collab-label': {
    position: 'absolute',
    left: '-2px',
    bottom: '100%',
    fontSize: '11px',
    lineHeight: '1.3',
    padding: '0 3px',
    borderRadius: '3px 3px 3px 0',
    whiteSpace: 'nowrap',
    fontFamily: 'system-ui, sans-serif',
    opacity: '0.9',
    zIndex: '10',
  },
  '.cm-collab-selections .cm-collab-selection': { opacity: '0.25' },
});

const SURROGATE = /[\ud800-\udfff]/;

/**
 * The CodeMirror extension that binds an editor to doc (a CollabDocument
 * of index.js). The editor's content is replaced by the document's; until
 * the document has loaded the editor is read-only.
 * @param {import('./index.js').CollabDocument} doc
 * @param {{presence?: boolean, onError?: (err: Error) => void}} [opts]
 *   presence (default true): send your selection as presence while the
 *   editor has focus; onError: an edit of yours was refused (default: the
 *   document's 'error' event)
 * @returns {import('@codemirror/state').Extension}
 */
export function collab(doc, opts = {}) {
  const plugin = ViewPlugin.define((view) => new CollabPlugin(view, doc, opts));
  return [EditorState.lineSeparator.of('\n'), loadedField, peersField, selectionLayer, theme, plugin];
}

/**
 * Adds collab(doc, opts) to an existing editor; destroy() removes it.
 * @param {EditorView} view
 * @param {import('./index.js').CollabDocument} doc
 * @param {{presence?: boolean, onError?: (err: Error) => void}} [opts]
 * @returns {{destroy: () => void}}
 */
export function bindCodeMirror(view, doc, opts = {}) {
  const slot = new Compartment();
  view.dispatch({ effects: StateEffect.appendConfig.of(slot.of(collab(doc, opts))) });
  return { destroy: () => view.dispatch({ effects: slot.reconfigure([]) }) };
}

class CollabPlugin {
  constructor(view, doc, opts) {
    this.view = view;
    this.doc = doc;
    this.presence = opts.presence !== false;
    this.onError = opts.onError || ((err) => doc._emit('error', err));
    this.origin = this; // our edits' origin: their change events are skipped
    this.alive = true;
    this.updating = false;
    this.queue = []; // work that must wait for the end of an update
    // The text may hold surrogate pairs (positions differ).
    this.astral = SURROGATE.test(doc.text);
    this.started = false; // the start-up below has run: local edits are ours to send
    // mirror: the editor's text (a CodeMirror Text) at the last point it
    // was made equal to the document's text (a string), and that string.
    // Positions in a text with surrogate pairs convert through the
    // string's astral index (ot.js), in O(log k) for k pairs; without it
    // they are counted by reading the editor's text up to the position,
    // which in a long document costs milliseconds per key and per caret.
    this.mirror = null;
    this.next = null; // the text a remote transaction being dispatched makes
    this.seen = doc.text; // the document's text as of the last change event
    this.own = null; // the text our last edit made (its change event's)
    this.resyncDue = false; // a resync is on its way: remote changes wait for it
    this.peersDue = false;
    this.offs = [
      doc.on('change', (ev) => {
        const before = this.seen;
        this.seen = ev.text;
        if (ev.origin === this.origin) this.own = ev.text;
        else this.later(() => this.applyRemote(ev, before));
      }),
      doc.on('presence', () => this.schedulePeers()),
      doc.on('status', () => this.later(() => this.syncLoaded())),
    ];
    this.handle = { destroy: () => this.detach() };
    doc._addBinding(this.handle);
    // The editor starts from the document's text (or waits for it), in a
    // microtask: a plugin is made while its view is being built or
    // updated (bindCodeMirror), when CodeMirror takes no dispatch.
    this.soon(() => {
      this.started = true;
      this.resync();
      this.syncLoaded();
      this.schedulePeers();
    });
  }

  // Runs fn now, or after the update in progress (CodeMirror allows no
  // dispatch inside one).
  later(fn) {
    if (!this.alive) return;
    if (this.updating) {
      this.queue.push(fn);
      return;
    }
    fn();
  }

  // Runs fn in a microtask: after the view finished being built or updated.
  soon(fn) {
    Promise.resolve().then(() => { if (this.alive) fn(); });
  }

  update(u) {
    if (!this.alive) return;
    this.updating = true;
    try {
      for (const tr of u.transactions) {
        if (!tr.docChanged) continue;
        if (tr.annotation(remote)) this.stepMirror(tr);
        else this.sendLocal(tr);
      }
      if (this.presence && (u.selectionSet || u.docChanged || u.focusChanged) && u.view.hasFocus && this.doc.loaded) {
        this.doc.setSelection(this.selection(u.state));
      }
    } finally {
      this.updating = false;
    }
    if (this.queue.length) {
      const q = this.queue;
      this.queue = [];
      this.soon(() => q.forEach((fn) => fn()));
    }
  }

  destroy() {
    this.detach();
  }

  detach() {
    if (!this.alive) return;
    this.alive = false;
    this.offs.forEach((f) => f());
    this.doc._removeBinding(this.handle);
  }

  // ---- local edits ----

  sendLocal(tr) {
    if (!this.started || !this.doc.loaded || this.doc.closed) {
      this.soon(() => this.resync()); // not ours to change yet
      return;
    }
    const old = tr.startState.doc;
    const before = this.doc.text;
    this.recover(old, before);
    const inStep = this.known(old) !== null && before === this.mirror.text;
    const op = [];
    let at16 = 0;
    tr.changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
      const ins = inserted.toString();
      if (SURROGATE.test(ins)) this.astral = true;
      op.push(this.cpLen(old, at16, fromA));
      if (ins) op.push(ins);
      if (toA > fromA) op.push(-this.cpLen(old, fromA, toA));
      at16 = toA;
    });
    try {
      this.own = null;
      const norm = normalize(op);
      this.doc.edit(norm, { origin: this.origin });
      // The text our edit made (a no-op emits no event). Another listener
      // may have edited the document from inside our change event: then
      // the document's text is not the editor's.
      const made = this.own !== null ? this.own : (isNoop(norm) ? before : null);
      this.mirror = inStep && made !== null && made === this.doc.text ? { cm: tr.state.doc, text: made } : null;
    } catch (err) {
      // Refused (too_large) or out of step: the document's text wins.
      this.onError(err);
      this.soon(() => this.resync());
    }
  }

  // Keeps the mirror in step through a remote transaction (dispatchRemote
  // said what text it makes), before anything in this update reads it.
  stepMirror(tr) {
    const next = this.next;
    this.next = null;
    this.mirror = next !== null && this.known(tr.startState.doc) !== null && next.length === tr.state.doc.length
      ? { cm: tr.state.doc, text: next } : null;
  }

  // Makes the mirror hold text again if doc shows it, found by reading
  // doc: once, since the mirror is then kept in step. Only a text with
  // surrogate pairs needs it.
  recover(doc, text) {
    if (!this.astral || this.known(doc) !== null || doc.length !== text.length) return;
    if (doc.toString() === text) this.mirror = { cm: doc, text };
  }

  // The string doc (a CodeMirror Text) holds, when the plugin knows it
  // (the mirror); null otherwise.
  known(doc) {
    const m = this.mirror;
    return m && m.cm === doc && m.text.length === doc.length ? m.text : null;
  }

  // Code points of doc between UTF-16 positions from and to.
  cpLen(doc, from, to) {
    if (!this.astral || to <= from) return to - from;
    const s = this.known(doc);
    if (s !== null) return utf16ToCodePoint(s, to) - utf16ToCodePoint(s, from);
    return codePointLength(doc.sliceString(from, to));
  }

  // UTF-16 position n code points after UTF-16 position from in doc.
  advance(doc, from, n) {
    if (!this.astral) return from + n;
    const s = this.known(doc);
    if (s !== null) return codePointToUtf16(s, utf16ToCodePoint(s, from) + n);
    return from + codePointToUtf16(doc.sliceString(from, from + 2 * n), n);
  }

  toUTF16(doc, cp) {
    return this.advance(doc, 0, cp);
  }

  selection(state) {
    const r = state.selection.main;
    const doc = state.doc;
    const a = this.cpLen(doc, 0, r.anchor);
    const h = r.head === r.anchor ? a : this.cpLen(doc, 0, r.head);
    return { anchor: a, head: h };
  }

  // ---- remote edits ----

  // Applies a change event that is not ours; before is the document's
  // text the event's op applies to.
  applyRemote(ev, before) {
    if (this.resyncDue) return; // the resync shows it
    const view = this.view;
    const doc = view.state.doc;
    this.recover(doc, before);
    const shown = this.known(doc);
    // The editor shows the text after the change already: a resync made
    // during the batch of change events this one belongs to took it in.
    if (shown !== null && shown === ev.text) return;
    // The mirror is of no use for positions in doc unless it holds
    // before: then it is kept in step below.
    if (shown !== before) this.mirror = null;
    const specs = [];
    let pos = 0;
    let cur = null; // the change being built at pos
    for (const c of ev.op) {
      if (typeof c === 'string') {
        if (SURROGATE.test(c)) this.astral = true;
        if (!cur) cur = { from: pos, to: pos, insert: '' };
        cur.insert += c;
      } else if (c > 0) {
        if (cur) specs.push(cur);
        cur = null;
        pos = this.advance(doc, pos, c);
      } else if (c < 0) {
        if (!cur) cur = { from: pos, to: pos, insert: '' };
        pos = this.advance(doc, pos, -c);
        cur.to = pos;
      }
    }
    if (cur) specs.push(cur);
    if (pos > doc.length) {
      this.outOfStep();
      return;
    }
    let changes;
    try {
      changes = ChangeSet.of(specs, doc.length, '\n');
    } catch {
      this.outOfStep();
      return;
    }
    this.dispatchRemote(changes, this.mirror ? ev.text : null);
    if (ev.text === this.doc.text && view.state.doc.length !== ev.text.length) this.outOfStep();
  }

  // The editor is out of step with the document: start again from the
  // document's text, once the change events being delivered (a batch, when
  // the client rebased or caught up) are all in, and skip them meanwhile.
  outOfStep() {
    this.mirror = null;
    if (this.resyncDue) return;
    this.resyncDue = true;
    this.soon(() => this.later(() => {
      this.resyncDue = false;
      this.resync();
    }));
  }

  // Applies changes as someone else's: not sent, not in the undo history;
  // a caret at an insert is pushed past it and a selection does not grow
  // by text inserted at its edges (as transformSelection does). text is
  // the string the editor then holds, if known (it keeps the mirror).
  dispatchRemote(changes, text) {
    const sel = this.view.state.selection;
    const ranges = sel.ranges.map((r) => {
      if (r.empty) return EditorSelection.cursor(changes.mapPos(r.head, 1));
      const from = changes.mapPos(r.from, 1);
      const to = Math.max(from, changes.mapPos(r.to, -1));
      return r.anchor <= r.head ? EditorSelection.range(from, to) : EditorSelection.range(to, from);
    });
    this.next = text;
    this.view.dispatch({
      changes,
      selection: EditorSelection.create(ranges, sel.mainIndex),
      annotations: [remote.of(true), Transaction.addToHistory.of(false)],
      scrollIntoView: false,
      // The text must become the document's: no change filter of the
      // app's may alter or drop it.
      filter: false,
    });
    this.next = null;
  }

  // Makes the editor show the document's text (one replacement of the part
  // that differs); used at the start and when something went wrong.
  resync() {
    if (!this.doc.loaded) return;
    const want = this.doc.text;
    const state = this.view.state;
    const have = state.doc.toString();
    this.astral = SURROGATE.test(want);
    this.seen = want;
    if (have === want) {
      this.mirror = { cm: state.doc, text: want };
      return;
    }
    let p = 0;
    const min = Math.min(have.length, want.length);
    while (p < min && have.charCodeAt(p) === want.charCodeAt(p)) p++;
    let s = 0;
    while (s < min - p && have.charCodeAt(have.length - 1 - s) === want.charCodeAt(want.length - 1 - s)) s++;
    const changes = ChangeSet.of([{ from: p, to: have.length - s, insert: want.slice(p, want.length - s) }], have.length, '\n');
    // The editor holds have; the mirror follows it to want.
    this.mirror = { cm: state.doc, text: have };
    this.dispatchRemote(changes, want);
  }

  syncLoaded() {
    const loaded = this.doc.loaded && !this.doc.closed;
    if (this.view.state.field(loadedField) === loaded) return;
    if (loaded) this.resync();
    this.view.dispatch({ effects: setLoaded.of(loaded) });
    if (loaded && this.presence && this.view.hasFocus) this.doc.setSelection(this.selection(this.view.state));
  }

  // ---- the others ----

  // Presence events can come before the change that moved the peers is
  // in the editor: they are drawn in a microtask, after it.
  schedulePeers() {
    if (this.peersDue) return;
    this.peersDue = true;
    this.soon(() => {
      this.peersDue = false;
      this.later(() => this.drawPeers());
    });
  }

  drawPeers() {
    const doc = this.view.state.doc;
    const peers = [];
    for (const p of this.doc.peers) {
      if (!p.selection) continue;
      const anchor = this.toUTF16(doc, p.selection.anchor);
      const head = p.selection.head === p.selection.anchor ? anchor : this.toUTF16(doc, p.selection.head);
      peers.push({ name: p.name, color: p.color, ink: p.ink, head, from: Math.min(anchor, head), to: Math.max(anchor, head) });
    }
    this.view.dispatch({ effects: setPeers.of(peers) });
  }
}
