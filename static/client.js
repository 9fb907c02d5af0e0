// DocClient: the browser-side state machine for one document of the
// collaborative editing protocol (docs/protocol.md, §7 and §13). It is
// transport-agnostic: it calls `send(msgObject)` for every message it wants
// to send and is fed parsed server messages through `receive(msg)` and
// transport events through `connected()` / `disconnected()`. It is the
// JavaScript counterpart of the Go client's state machine
// (client/state.go, client/resync.go).
//
// States (see client/state.go for the full description):
//   detached  — no transport; everything is kept for the reconnect.
//   opening   — sent open (with our version once we have one); catch-up ops
//               are applied; our own id in the catch-up is the ack;
//               "opened" → ready, resending the in-flight op (same id,
//               transformed to the current version).
//   ready     — normal flow: one op in flight, later edits in a buffer.
//   resyncing — sent open without version; ops are ignored until the
//               snapshot, which contains them.
//   probing   — a snapshot arrived while an op of unknown fate was in
//               flight (§7.4): the op is resent with its original base and
//               id; the answer decides how the pending edits are rebased.
//
// All positions and counts are Unicode code points, as on the wire.

import { apply, compose, transform, transformIndex, isNoop, fromPatch, normalize, codePointLength, codePointToUtf16 } from './ot.js';

/**
 * Exponential backoff with jitter, for retries and reconnects
 * (for example 0.5 s doubling to 30 s, §7.3).
 */
export class Backoff {
  /**
   * @param {object} [opts]
   * @param {number} [opts.min=500] first delay in ms
   * @param {number} [opts.max=30000] largest delay in ms
   * @param {number} [opts.factor=2] growth per attempt
   * @param {number} [opts.jitter=0.2] fraction of the delay that is random (0..1)
   * @param {() => number} [opts.random=Math.random] source of randomness in [0, 1)
   */
  constructor({ min = 500, max = 30000, factor = 2, jitter = 0.2, random = Math.random } = {}) {
    this.min = min;
    this.max = max;
    this.factor = factor;
    this.jitter = jitter;
    this.random = random;
    /** Number of delays handed out since the last reset. */
    this.attempt = 0;
  }

  /**
   * Returns the next delay in ms and advances the attempt counter.
   * @returns {number}
   */
  next() {
    const base = Math.min(this.max, this.min * Math.pow(this.factor, this.attempt));
    this.attempt++;
    return Math.round(base * (1 - this.jitter + this.jitter * this.random()));
  }

  /** Starts again from the first delay (after a success). */
  reset() {
    this.attempt = 0;
  }
}

/**
 * Returns an op turning text a into text b: their common prefix and suffix
 * (in code points) are kept and the middle is replaced, like client/diff.go.
 * @param {string} a
 * @param {string} b
 * @returns {Array<number|string>}
 */
export function diff(a, b) {
  const ra = Array.from(a);
  const rb = Array.from(b);
  let p = 0;
  while (p < ra.length && p < rb.length && ra[p] === rb[p]) p++;
  let s = 0;
  while (s < ra.length - p && s < rb.length - p && ra[ra.length - 1 - s] === rb[rb.length - 1 - s]) s++;
  return fromPatch(p, ra.length - p - s, rb.slice(p, rb.length - s).join(''));
}

/**
 * Returns the op that undoes op on apply(text, op). op must fit text.
 * @param {string} text
 * @param {Array<number|string>} op
 * @returns {Array<number|string>}
 */
export function invert(text, op) {
  // Cuts text where the deletes are, its positions converted by ot.js
  // (through the text's astral index for a long text: an undo step on a
  // 1 MB document costs the op, not a scan of the text before it).
  const inv = [];
  let cp = 0; // code-point position in text
  for (const c of op) {
    if (typeof c === 'string') inv.push(-codePointLength(c));
    else if (c > 0) {
      inv.push(c);
      cp += c;
    } else if (c < 0) {
      const from = codePointToUtf16(text, cp);
      cp -= c;
      inv.push(text.slice(from, codePointToUtf16(text, cp)));
    }
  }
  return normalize(inv);
}

/**
 * Moves a selection {anchor, head} (code points) through op, an edit made
 * by someone else. A caret (anchor = head) moves like the server's
 * TransformIndex with ownInsertsFirst = false: text typed exactly at it
 * pushes it after that text. A range never takes in text inserted at its
 * edges: its start is pushed past an insert there, its end stays before
 * one. Otherwise selecting a word while someone types right after it
 * would select their text too, and typing over the selection would
 * delete it. Use it to move the local caret through the op of an
 * onChange({remote: true}) event.
 * @param {{anchor: number, head: number}} sel
 * @param {Array<number|string>} op
 * @returns {{anchor: number, head: number}}
 */
export function transformSelection(sel, op) {
  if (sel.anchor === sel.head) {
    const p = transformIndex(sel.anchor, op);
    return { anchor: p, head: p };
  }
  const start = transformIndex(Math.min(sel.anchor, sel.head), op);
  const end = Math.max(start, transformIndex(Math.max(sel.anchor, sel.head), op, true));
  return sel.anchor < sel.head ? { anchor: start, head: end } : { anchor: end, head: start };
}

/**
 * Maps a position in the text after op back to the text op applied to:
 * the inverse of transformIndex for positions op did not create. A
 * position inside (or at either end of) text op inserted maps to the
 * insertion point. Used to report our caret to peers in the coordinates
 * of the server version while our own edits are not acknowledged (§13).
 * @param {number} pos code-point position in apply(text, op)
 * @param {Array<number|string>} op
 * @returns {number} code-point position in text
 */
export function baseIndex(pos, op) {
  let src = 0; // position in the text op applies to
  let dst = 0; // position in the result
  for (const c of op) {
    if (typeof c === 'string') {
      const n = codePointLength(c);
      if (pos < dst + n) return src;
      dst += n;
    } else if (c > 0) {
      if (pos < dst + c) return src + (pos - dst);
      src += c;
      dst += c;
    } else {
      src -= c;
    }
  }
  return src + Math.max(0, pos - dst);
}

// RECENT_OPS is how many applied ops are kept to bring a peer's selection
// that refers to an older version up to ours: a peer typing at 20 ops/s
// whose presence lags ours by a round trip (~100 ms) is 2 behind, so 256
// covers many seconds of a busy document for a few KB.
const RECENT_OPS = 256;

const RETRY_CODES = new Set(['unavailable', 'rate_limited']);

/**
 * The server's limits the client keeps to (docs/protocol.md §10), by
 * default the server's defaults: a frame of at most maxMessageBytes
 * (-max-message-bytes), a document of at most maxDocLen code points
 * (-max-doc-len), and at most maxInsertBytes of UTF-8 inserted at once
 * (-insert-burst). An edit over maxDocLen or maxInsertBytes is refused
 * by edit() before anything is sent; an op bigger than a frame is sent
 * as several ops that each fit one.
 */
/**
 * Default least time between two new ops of one document, in ms. Every op
 * costs each other client of the document a message, and the server a
 * stored event and a broadcast; an op in flight already composes what is
 * typed meanwhile (§7.1), but on a fast server the ack comes back in 1–2
 * ms, so a fast typist or 50 editors in one document would still send
 * about one op per keystroke. 50 ms (20 ops/s) never delays a typist at
 * 10 keys/s, whose keys are 100 ms apart, and is well under what a
 * reader notices; docs/benchmarks.md has the measurements.
 */
export const MIN_SEND_INTERVAL_MS = 50;

export const DEFAULT_LIMITS = Object.freeze({ maxMessageBytes: 1 << 20, maxDocLen: 4 << 20, maxInsertBytes: 2 << 20 });

// Room in a frame for everything but the op's components (type, doc,
// version, id) and for JSON's brackets and commas.
const FRAME_OVERHEAD = 4096;

// jsonBytes is the size of s as a JSON string in UTF-8, without its
// quotes (as JSON.stringify writes it: control characters and lone
// surrogates escaped).
function jsonBytes(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) n += charBytes(s, i);
  return n;
}

// charBytes is the JSON size of the UTF-16 unit at s[i]; a surrogate pair
// counts 4 on its high half and 0 on its low one.
function charBytes(s, i) {
  const c = s.charCodeAt(i);
  if (c < 0x20) return c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6;
  if (c === 0x22 || c === 0x5c) return 2;
  if (c < 0x80) return 1;
  if (c < 0x800) return 2;
  if (c >= 0xd800 && c <= 0xdbff) return i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 4 : 6;
  if (c >= 0xdc00 && c <= 0xdfff) return i > 0 && (s.charCodeAt(i - 1) & 0xfc00) === 0xd800 ? 0 : 6;
  return 3;
}

/**
 * Returns the UTF-8 size of the text op inserts (what the server's
 * inserted-bytes bucket counts).
 * @param {Array<number|string>} op
 * @returns {number}
 */
export function insertedBytes(op) {
  let n = 0;
  for (const c of op) {
    if (typeof c !== 'string') continue;
    for (let i = 0; i < c.length; i++) {
      const u = c.charCodeAt(i);
      if (u < 0x80) n += 1;
      else if (u < 0x800) n += 2;
      else if (u >= 0xd800 && u <= 0xdbff && i + 1 < c.length && (c.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        n += 4;
        i++;
      } else n += 3;
    }
  }
  return n;
}

/**
 * Splits op into [head, tail] with compose(head, tail) equal to op and
 * head's components taking at most budget bytes of JSON (but at least
 * one code point of insert, so that a split always makes progress).
 * tail is null when op fits whole.
 * @param {Array<number|string>} op
 * @param {number} budget
 * @returns {[Array<number|string>, Array<number|string>|null]}
 */
export function splitOp(op, budget) {
  const head = [];
  let used = 0;
  let out = 0; // code points of head's result before the cut
  for (let i = 0; i < op.length; i++) {
    const c = op[i];
    if (typeof c === 'number') {
      head.push(c);
      used += String(c).length + 1;
      if (c > 0) out += c;
      continue;
    }
    const cost = jsonBytes(c) + 3;
    if (used + cost <= budget) {
      head.push(c);
      used += cost;
      out += codePointLength(c);
      continue;
    }
    let cut = 0;
    let b = used + 3;
    while (cut < c.length) {
      const high = (c.charCodeAt(cut) & 0xfc00) === 0xd800 && cut + 1 < c.length && (c.charCodeAt(cut + 1) & 0xfc00) === 0xdc00;
      const w = high ? 2 : 1;
      const cb = charBytes(c, cut);
      if (b + cb > budget && (cut > 0 || head.some((x) => typeof x === 'string'))) break;
      b += cb;
      cut += w;
    }
    const first = c.slice(0, cut);
    if (first) {
      head.push(first);
      out += codePointLength(first);
    }
    const rest = [out, c.slice(cut), ...op.slice(i + 1)];
    return [normalize(head), normalize(rest)];
  }
  return [op, null];
}

// A presence refused because an old connection of ours still holds the
// session is sent again after a second: the server notices a closed
// connection within a round trip, a dead one within its pong wait.
const PRESENCE_RETRY_MS = 1000;

/**
 * The state machine of one document. Create one per open document.
 *
 * Callbacks:
 *  - onChange({op, remote, text, version, id, author}): the text changed
 *    for a reason other than a local edit (a remote op, a snapshot rebase,
 *    or the undo of a refused op). `op` (code points) turns the previous
 *    text into `text`; move the caret with transformSelection.
 *  - onStatus(status): status changed ('connecting' | 'saving' | 'saved' |
 *    'offline').
 *  - onPresence(peers): the peers Map (session → peer) changed.
 *  - onVersion(version): the server version applied changed (an ack, a
 *    remote op or a snapshot).
 *  - onError(err): a refusal the client could not repair by itself (the
 *    error has `code`, and `id` for an op). `gone` means the document
 *    was deleted (§19): the client stops, `deleted` is true.
 *  - onLifecycle(ev): the document was renamed or deleted (§19): ev has
 *    `kind` ('rename' | 'delete'), `title` for a rename ('' = the first
 *    line again) and `version`.
 */
export class DocClient {
  /**
   * @param {object} opts
   * @param {string} opts.doc document id
   * @param {string} opts.clientId random per editing session, kept across reconnects
   * @param {(msg: object) => void} opts.send sends one message object
   * @param {(ev: object) => void} [opts.onChange]
   * @param {(status: string) => void} [opts.onStatus]
   * @param {(peers: Map<string, object>) => void} [opts.onPresence]
   * @param {(version: number) => void} [opts.onVersion]
   * @param {(err: Error) => void} [opts.onError]
   * @param {(fn: () => void, ms: number) => any} [opts.setTimeout] timer (injectable for tests)
   * @param {Backoff} [opts.backoff] backoff for retries
   * @param {boolean} [opts.connected=true] whether the transport is up now
   * @param {() => number} [opts.now] clock (ms), for peers' seenAt
   * @param {object} [opts.limits] the server's limits, if not its defaults (see DEFAULT_LIMITS);
   *   the server's own replace them when it announces them (§17)
   * @param {(role: string) => void} [opts.onAccess] our role in the document
   *   changed ('read', 'write' or 'owner'; §18)
   * @param {(ev: {kind: string, title?: string, version: number}) => void} [opts.onLifecycle]
   *   the document was renamed or deleted (§19)
   * @param {number} [opts.minSendIntervalMs=50] least time between two new
   *   ops: edits made sooner are composed into the next op (0: send as soon
   *   as the previous op is acknowledged, §7.1)
   */
  constructor({
    doc, clientId, send, onChange, onStatus, onPresence, onError, onVersion,
    setTimeout: setTimer, backoff, connected = true, now = () => Date.now(), limits,
    minSendIntervalMs = MIN_SEND_INTERVAL_MS, onAccess, onLifecycle,
  }) {
    if (typeof doc !== 'string' || typeof clientId !== 'string' || typeof send !== 'function') {
      throw new TypeError('DocClient needs doc, clientId and send');
    }
    this.doc = doc;
    this.clientId = clientId;
    this._sendFn = send;
    this._onChange = onChange;
    this._onStatus = onStatus;
    this._onPresence = onPresence;
    this._onVersion = onVersion;
    this._onError = onError;
    this._onAccessFn = onAccess;
    this._onLifecycle = onLifecycle;
    /** The document was deleted (§19): nothing more is sent or applied. */
    this.deleted = false;
    /**
     * Our role in the document when the server checks access (§18):
     * 'read', 'write' or 'owner'; null when it does not say (no access
     * control), which allows editing.
     */
    this.role = null;
    this._setTimeout = setTimer || ((fn, ms) => globalThis.setTimeout(fn, ms));
    this._bo = backoff || new Backoff();
    this._now = now;
    /** The server's limits (see DEFAULT_LIMITS); may be changed at any time. */
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this._online = connected;
    this._wanted = false; // open() was called (and not close())
    this._state = 'detached';
    this._have = false; // got a first snapshot
    this._server = ''; // text at _version, as the server sequenced it
    this._local = ''; // _server + inflight + buffer
    this._version = 0;
    /** @type {null|{id: string, op: Array, origBase: number, origOp: Array, applied: boolean}} */
    this._inflight = null;
    this._buffer = null;
    this._seq = 0;
    this._minSendMs = minSendIntervalMs;
    this._lastSend = -Infinity; // when the last new op was sent (now())
    this._paced = false; // a timer will flush the buffer
    this._probe = null; // {text, version, ops}
    this._retryTok = 0;
    this._me = null; // our presence: {name, color, selection}
    this._presenceRetrying = false; // a resend of a refused presence is armed
    /**
     * Peers present in the document, session → {session, name, color,
     * selection, version, seenAt}; seenAt is when their last presence
     * update arrived (they moved, typed or renamed themselves), not
     * changed when their selection only moves through others' edits.
     */
    this.peers = new Map();
    this._hooks = [];
    this._depth = 0;
    this._lastStatus = this.status;
    this._lastVersion = 0;
    // The last ops applied, _recent[i] at version _recentBase + i.
    this._recent = [];
    this._recentBase = 0;
    /**
     * Counters, for tests and diagnostics: resyncs (re-opens without a
     * version), probes (§7.4), retries (after unavailable/rate_limited),
     * resends (the in-flight op sent again after a reconnect, same id) and
     * ownOps (our in-flight op came back as an op: its ack was lost).
     */
    this.stats = { resyncs: 0, probes: 0, retries: 0, resends: 0, ownOps: 0 };
  }

  /** The local text (server text plus pending edits). @returns {string} */
  get text() { return this._local; }

  /** The last server version applied. @returns {number} */
  get version() { return this._version; }

  /** Whether the first snapshot has arrived (edit() is allowed). @returns {boolean} */
  get loaded() { return this._have; }

  /** Whether there are edits not yet acknowledged. @returns {boolean} */
  get pending() { return this._inflight !== null || this._buffer !== null; }

  /** The text at `version` without pending edits. @returns {string} */
  get confirmed() { return this._server; }

  /** The internal state name (detached, opening, ready, resyncing, probing). */
  get state() { return this._state; }

  /**
   * 'offline' (no transport), 'connecting' (waiting for the document),
   * 'saving' (edits not acknowledged or a resync running), 'saved', or
   * 'deleted' (the document was deleted, §19; for good).
   * @returns {string}
   */
  /**
   * Whether local edits can be made now: the document is loaded, not
   * deleted, and our role is not read-only. A bound textarea is read-only
   * otherwise.
   * @returns {boolean}
   */
  get writable() {
    return this._have && !this.deleted && this.role !== 'read';
  }

  get status() {
    if (this.deleted) return 'deleted';
    if (!this._online) return 'offline';
    if (!this._have || this._state === 'opening' || this._state === 'detached') return 'connecting';
    if (this.pending || this._state !== 'ready') return 'saving';
    return 'saved';
  }

  // ---- public entry points -------------------------------------------------

  /** Opens the document: sends open (with the known version when resuming). */
  open() {
    this._run(() => {
      this._wanted = true;
      if (!this._online) return;
      this._state = 'opening';
      this._retryTok++;
      this._sendOpen();
    });
  }

  /** Closes the document (sends close); pending edits are kept. */
  close() {
    this._run(() => {
      this._wanted = false;
      if (this._online && this._state !== 'detached') this._send({ type: 'close', doc: this.doc });
      this._state = 'detached';
      this._probe = null;
      this._retryTok++;
    });
  }

  /** The transport is up (again): re-open with the known version. */
  connected() {
    this._run(() => {
      if (this._online && this._state !== 'detached') return;
      this._online = true;
      if (!this._wanted) return;
      this._state = 'opening';
      this._retryTok++;
      this._sendOpen();
    });
  }

  /** The transport went down: keep everything and wait for connected(). */
  disconnected() {
    this._run(() => {
      this._online = false;
      this._state = 'detached';
      this._probe = null; // nothing of a held probe was applied by us
      this._retryTok++;
    });
  }

  /**
   * Applies a local edit (code points, relative to `text`) optimistically
   * and sends it, or composes it into the buffer if an op is in flight.
   * Throws (ot.js OpError) if op does not fit the text, and an Error with
   * code 'too_large' (and a message for the user) if the edit is over
   * the server's limits (see limits); nothing changes then.
   * @param {Array<number|string>} op
   */
  edit(op) {
    if (!this._have) throw new Error(`document ${this.doc} is not loaded yet`);
    if (this.deleted) {
      throw Object.assign(new Error('This document was deleted: your edit was not applied.'), { code: 'gone', local: true });
    }
    if (this.role === 'read') {
      throw Object.assign(new Error('This document is view only: your edit was not applied.'), { code: 'forbidden', local: true });
    }
    const text = apply(this._local, op);
    if (isNoop(op)) return;
    this._checkLimits(op, text);
    this._run(() => {
      this._local = text;
      this._buffer = this._buffer ? compose(this._buffer, op) : op.slice();
      if (this._me && this._me.selection) this._me.selection = transformSelection(this._me.selection, op);
      this._flush();
    });
  }

  // Refuses an edit the server would refuse for its size, before it is
  // applied or sent. Proportional to the edit: the document's length is
  // only counted when its UTF-16 length could be over the limit.
  _checkLimits(op, text) {
    const { maxDocLen, maxInsertBytes } = this.limits;
    const bytes = insertedBytes(op);
    if (bytes > maxInsertBytes) {
      throw Object.assign(new Error(`That edit inserts ${formatSize(bytes)}, more than the ${formatSize(maxInsertBytes)} the server takes in one go, so it was not applied. Insert it in smaller parts.`), { code: 'too_large', local: true });
    }
    if (text.length > maxDocLen && bytes > 0) {
      const n = codePointLength(text);
      if (n > maxDocLen) {
        throw Object.assign(new Error(`That edit would make the document ${n.toLocaleString('en')} characters long, more than the ${maxDocLen.toLocaleString('en')} the server allows, so it was not applied.`), { code: 'too_large', local: true });
      }
    }
  }

  /**
   * Sets our presence (§13): name, colour and selection in code points on
   * the local text. It is sent with the current server version, and again
   * after every reconnect.
   * @param {{name?: string, color?: string, selection?: {anchor: number, head: number}|null}} p
   */
  setPresence({ name, color, selection } = {}) {
    this._run(() => {
      this._me = { name, color, selection: selection ? { anchor: selection.anchor, head: selection.head } : null };
      if (this._online && this._state !== 'detached') this._sendPresence();
    });
  }

  /**
   * Moves a selection through op (see the exported transformSelection).
   * @param {{anchor: number, head: number}} sel
   * @param {Array<number|string>} op
   * @returns {{anchor: number, head: number}}
   */
  transformSelection(sel, op) {
    return transformSelection(sel, op);
  }

  /**
   * Returns a peer's selection moved onto the local text (through the
   * in-flight op and the buffer), or null if the peer has no selection or
   * its version is not ours (the ops will reach us, or it is stale).
   * @param {string} session
   * @returns {{anchor: number, head: number}|null}
   */
  peerSelection(session) {
    const p = this.peers.get(session);
    if (!p || !p.selection || p.version !== this._version) return null;
    let sel = p.selection;
    if (this._inflight) sel = transformSelection(sel, this._inflight.op);
    if (this._buffer) sel = transformSelection(sel, this._buffer);
    return sel;
  }

  /**
   * Feeds one parsed server message. Messages for other documents are
   * ignored (except errors without doc, such as rate_limited).
   * @param {object} msg
   */
  receive(msg) {
    if (!msg || typeof msg !== 'object') return;
    if (msg.doc !== undefined && msg.doc !== this.doc) return;
    if (msg.doc === undefined && msg.type !== 'error') return;
    this._run(() => {
      if (!this._online || this._state === 'detached') return;
      switch (msg.type) {
        case 'snapshot': this._onSnapshot(String(msg.text ?? ''), msg.version); break;
        case 'opened': this._onOpened(msg.version); break;
        case 'op':
          this._onOp({ version: msg.version, id: msg.id, op: msg.op, author: msg.author });
          if (msg.lifecycle && typeof msg.lifecycle === 'object') this._lifecycle(msg.lifecycle, msg.version);
          break;
        case 'ack': this._onAck(msg.id, msg.version); break;
        case 'error': this._onErrorMsg(msg); break;
        case 'roster': case 'presence': case 'left': this._onPresenceMsg(msg); break;
        case 'limits': this._onLimits(msg); break;
        case 'access': this._onAccess(msg.role); break;
        default: break; // unknown types are ignored (§12)
      }
    });
  }

  // ---- plumbing ----------------------------------------------------------------

  _run(fn) {
    this._depth++;
    try {
      fn();
    } finally {
      this._depth--;
    }
    if (this._depth > 0) return;
    while (this._hooks.length) {
      const h = this._hooks.shift();
      h();
    }
    const st = this.status;
    if (st !== this._lastStatus) {
      this._lastStatus = st;
      if (this._onStatus) this._onStatus(st);
    }
    if (this._version !== this._lastVersion) {
      this._lastVersion = this._version;
      if (this._onVersion) this._onVersion(this._version);
    }
  }

  _hook(fn) {
    if (fn) this._hooks.push(fn);
  }

  _send(msg) {
    if (this._online) this._sendFn(msg);
  }

  _change(ev) {
    const cb = this._onChange;
    if (!cb) return;
    const full = { ...ev, text: this._local, version: this._version };
    this._hook(() => cb(full));
  }

  _report(err) {
    const cb = this._onError;
    if (cb) this._hook(() => cb(err));
  }

  _sendOpen() {
    const resume = this._have && this._state === 'opening';
    const m = { type: 'open', doc: this.doc, presence: true, limits: true };
    if (resume) m.version = this._version;
    this._send(m);
    if (this._me) this._sendPresence(); // the server forgot us with the old connection
  }

  _sendPresence() {
    const me = this._me;
    const m = { type: 'presence', doc: this.doc, session: this.clientId, version: this._version };
    if (me.name) m.name = me.name;
    if (me.color) m.color = me.color;
    if (me.selection) m.selection = this._toServer(me.selection);
    this._send(m);
  }

  // Maps a selection on the local text to the text at _version (§13: peers
  // do not have our unacknowledged edits), through the buffer, then the
  // in-flight op, backwards.
  _toServer(sel) {
    let { anchor, head } = sel;
    for (const op of [this._buffer, this._inflight && this._inflight.op]) {
      if (!op) continue;
      anchor = baseIndex(anchor, op);
      head = baseIndex(head, op);
    }
    return { anchor, head };
  }

  // Remembers the op applied at version v (v must be the current version).
  _remember(v, op) {
    if (v !== this._recentBase + this._recent.length) {
      this._recent = [];
      this._recentBase = v;
    }
    this._recent.push(op);
    if (this._recent.length > RECENT_OPS) {
      this._recent.shift();
      this._recentBase++;
    }
  }

  // Forgets the applied ops (after a snapshot the ops in between are unknown).
  _forgetRecent() {
    this._recent = [];
    this._recentBase = this._version;
  }

  _nextId() {
    return `${this.clientId}:${++this._seq}`;
  }

  // ---- server messages ---------------------------------------------------------

  _onSnapshot(text, v) {
    this._bo.reset();
    if (!this._have) {
      const before = this._local;
      this._have = true;
      this._server = text;
      this._local = text;
      this._version = v;
      this._forgetRecent();
      this._state = 'ready';
      if (before !== text) this._change({ op: diff(before, text), remote: true, snapshot: true });
      this._flush();
      return;
    }
    const f = this._inflight;
    if (f && !f.applied) {
      if (this._state === 'probing') {
        this._probe = { text, version: v, ops: [] }; // the probe is already out
        return;
      }
      this._state = 'probing';
      this._probe = { text, version: v, ops: [] };
      this._sendProbe();
      return;
    }
    this._rebaseOnto(text, v);
    this._state = 'ready';
    this._flush();
  }

  // Takes our role in the document (§18): a read-only document refuses
  // edits in the page, before they are applied or sent.
  _onAccess(role) {
    if (typeof role !== 'string' || role === this.role) return;
    this.role = role;
    const cb = this._onAccessFn;
    if (cb) this._hook(() => cb(role));
  }

  // Takes the limits the server announced (§17): the ones this client
  // checks edits against. A field missing or not a positive number keeps
  // what we had, so a server that sends fewer fields changes nothing.
  _onLimits(msg) {
    for (const k of ['maxMessageBytes', 'maxDocLen', 'maxInsertBytes']) {
      const v = msg[k];
      if (Number.isSafeInteger(v) && v > 0) this.limits[k] = v;
    }
  }

  _onOpened(v) {
    if (this._state !== 'opening') return;
    if (v !== this._version) {
      this._resync();
      return;
    }
    this._state = 'ready';
    this._bo.reset();
    const f = this._inflight;
    if (!f) this._flush();
    else if (f.applied) this._resync();
    else {
      this.stats.resends++;
      this._sendInflight();
    }
  }

  _onOp(m) {
    if (!this._have) return;
    switch (this._state) {
      case 'resyncing':
        return;
      case 'probing':
        if (this._inflight && m.id === this._inflight.id) this._probeApplied(m.version);
        else this._probe.ops.push(m);
        return;
      default:
    }
    if (m.version < this._version) return; // already have it
    if (m.version > this._version || !Array.isArray(m.op)) {
      this._resync(); // a gap: our state is wrong
      return;
    }
    if (this._inflight && m.id === this._inflight.id) {
      this.stats.ownOps++;
      this._acked(m.version);
      return;
    }
    this._applyRemote(m);
  }

  _applyRemote(m) {
    let server;
    try {
      server = apply(this._server, m.op);
    } catch {
      this._resync();
      return;
    }
    let s = m.op;
    const f = this._inflight;
    if (f) [f.op, s] = transform(f.op, s);
    if (this._buffer) {
      [this._buffer, s] = transform(this._buffer, s);
      if (isNoop(this._buffer)) this._buffer = null;
    }
    let local;
    try {
      local = apply(this._local, s);
    } catch {
      this._resync();
      return;
    }
    this._server = server;
    this._local = local;
    this._remember(m.version, m.op);
    this._movePeers(m.version, m.op);
    this._version = m.version + 1;
    if (this._me && this._me.selection) this._me.selection = transformSelection(this._me.selection, s);
    this._change({ op: s, remote: true, id: m.id, author: m.author });
  }

  _onAck(id, v) {
    const f = this._inflight;
    if (!f || id !== f.id) return; // a late duplicate ack
    switch (this._state) {
      case 'probing':
        this._probeApplied(v);
        break;
      case 'resyncing':
        f.applied = true; // the awaited snapshot contains it
        break;
      case 'opening':
      case 'ready':
        if (v === this._version) {
          this._acked(v);
          return;
        }
        f.applied = true;
        this._resync();
        break;
      default:
    }
  }

  _acked(v) {
    const f = this._inflight;
    let server;
    try {
      server = apply(this._server, f.op);
    } catch {
      f.applied = true;
      this._resync();
      return;
    }
    this._server = server;
    this._inflight = null;
    this._remember(v, f.op);
    this._movePeers(v, f.op);
    this._version = v + 1;
    this._bo.reset();
    this._flush();
    if (this._me && !this.pending && this._state === 'ready') this._sendPresence();
  }

  _flush() {
    if (this._state !== 'ready' || !this._online || this._inflight || !this._buffer) return;
    if (this._paced) return;
    const wait = this._lastSend + this._minSendMs - this._now();
    if (wait > 0) {
      this._paced = true;
      this._setTimeout(() => this._run(() => { this._paced = false; this._flush(); }), wait);
      return;
    }
    this._lastSend = this._now();
    // An op too big for one frame goes as several that each fit: the
    // rest stays in the buffer, and later edits compose into it.
    const [op, rest] = splitOp(this._buffer, this.limits.maxMessageBytes - FRAME_OVERHEAD);
    this._inflight = { id: this._nextId(), op, origBase: this._version, origOp: op, applied: false };
    this._buffer = rest;
    this._sendInflight();
  }

  _sendInflight() {
    const f = this._inflight;
    this._send({ type: 'op', doc: this.doc, version: this._version, id: f.id, op: f.op });
  }

  _sendProbe() {
    const f = this._inflight;
    this.stats.probes++;
    this._send({ type: 'op', doc: this.doc, version: f.origBase, id: f.id, op: f.origOp });
  }

  _resync() {
    if (!this._online) return; // the next connected() reopens anyway
    this._state = 'resyncing';
    this._probe = null;
    this.stats.resyncs++;
    this._retryTok++;
    this._sendOpen();
  }

  // Replaces the server text with a snapshot and rebases the pending edits:
  // the pending op is the buffer, on top of the server text plus the
  // in-flight op if that is known applied; a not-applied in-flight op must
  // have been folded into the buffer (or dropped) by the caller.
  _rebaseOnto(text, v) {
    let base = this._server;
    const f = this._inflight;
    if (f) {
      try {
        base = apply(base, f.op);
      } catch { /* keep base */ }
      this._inflight = null;
    }
    const d = diff(base, text);
    let rebased = null;
    let toLocal = d;
    if (this._buffer) {
      [rebased, toLocal] = transform(this._buffer, d);
      if (isNoop(rebased)) rebased = null;
    }
    try {
      this._local = apply(this._local, toLocal);
    } catch {
      // local had drifted from base+buffer (a bug): the snapshot plus the
      // rebased edits is the truth either way.
      this._local = rebased ? apply(text, rebased) : text;
    }
    this._server = text;
    this._version = v;
    this._forgetRecent();
    this._buffer = rebased;
    this._restartPeers();
    if (this._me && this._me.selection) this._me.selection = transformSelection(this._me.selection, toLocal);
    if (!isNoop(toLocal)) this._change({ op: toLocal, remote: true, snapshot: true });
  }

  _probeApplied(v) {
    this._inflight.applied = true;
    const p = this._probe;
    this._probe = null;
    if (v >= p.version) {
      this._resync(); // applied after the snapshot: fetch one that has it
      return;
    }
    this._finishProbe(p);
  }

  _probeNotApplied() {
    const p = this._probe;
    this._probe = null;
    const f = this._inflight;
    if (f) {
      this._buffer = this._buffer ? compose(f.op, this._buffer) : f.op;
      this._inflight = null;
    }
    this._finishProbe(p);
  }

  _finishProbe(p) {
    this._rebaseOnto(p.text, p.version);
    this._state = 'ready';
    for (const m of p.ops) {
      if (this._state !== 'ready') return; // a gap or a failure started a resync
      this._onOp(m);
    }
    this._flush();
  }

  _onErrorMsg(msg) {
    const code = String(msg.code || 'internal');
    const err = Object.assign(new Error(`${code}: ${msg.message || ''}`), { code, id: msg.id, doc: msg.doc });
    if (code === 'gone') {
      this._gone(err);
      return;
    }
    if (msg.session && !msg.id) {
      // A refusal of our presence (§13). forbidden: our previous
      // connection still holds the session; say it again shortly.
      if (code === 'forbidden') this._retryPresence();
      else this._report(err);
      return;
    }
    if (!msg.id) {
      if (code === 'too_large' && !msg.doc && this._inflight && !this._inflight.applied && this._state === 'ready') {
        // A frame over the server's limit (smaller than ours): nothing of
        // it was applied. Undo the in-flight op and go on with the rest.
        this._dropInflight(err);
        this._flush();
        return;
      }
      this._openError(err);
      return;
    }
    const f = this._inflight;
    if (!f || msg.id !== f.id) return; // an error for an op no longer in flight
    const retry = RETRY_CODES.has(code);
    switch (this._state) {
      case 'resyncing':
        return; // the snapshot on its way settles the op's fate
      case 'probing':
        if (retry) this._retryLater();
        else if (code === 'bad_version') this._probeNotApplied();
        else {
          this._dropInflight(err);
          this._probeNotApplied();
        }
        return;
      case 'opening':
        if (retry || code === 'bad_version') return; // "opened" resends
        if (code === 'not_open') return;
        this._dropInflight(err);
        this._resync();
        return;
      case 'ready':
        if (retry) this._retryLater();
        else if (code === 'bad_version' || code === 'not_open') {
          this._state = 'opening';
          this._retryTok++;
          this._sendOpen();
        } else {
          this._dropInflight(err);
          this._resync();
        }
        return;
      default:
    }
  }

  // A rename or delete (§19) reached us as an op (already applied: its op
  // is the identity).
  _lifecycle(lc, version) {
    const cb = this._onLifecycle;
    const ev = { kind: String(lc.kind || ''), version };
    if (ev.kind === 'rename') ev.title = String(lc.title ?? '');
    if (cb) this._hook(() => cb(ev));
  }

  // The document was deleted (§19): whatever is unsent can never be
  // applied, so the client stops for good and says so once.
  _gone(err) {
    if (this.deleted) return;
    this.deleted = true;
    this._wanted = false;
    this._state = 'detached';
    this._inflight = null;
    this._buffer = null;
    this._probe = null;
    this._retryTok++;
    this._report(err);
  }

  // An error about the document itself, or one without id (rate_limited).
  _openError(err) {
    if (RETRY_CODES.has(err.code)) {
      // Resend whatever is still unanswered (open, probe or op): idempotent.
      this._retryLater();
      return;
    }
    this._report(err);
  }

  // Drops an op the server refused for good: it is undone from the local
  // text, the buffer is rebased onto the server text, and the error is
  // reported.
  _dropInflight(err) {
    const f = this._inflight;
    this._inflight = null;
    let undo = invert(this._server, f.op);
    if (this._buffer) {
      [this._buffer, undo] = transform(this._buffer, undo);
      if (isNoop(this._buffer)) this._buffer = null;
    }
    try {
      this._local = apply(this._local, undo);
    } catch {
      this._local = this._buffer ? apply(this._server, this._buffer) : this._server;
    }
    this._report(err);
    if (!isNoop(undo)) this._change({ op: undo, remote: true, undo: true });
  }

  // Sends our presence again after PRESENCE_RETRY_MS, for as long as the
  // server refuses it because an old connection of ours holds the session.
  // One resend is armed at a time however many refusals arrive; it sends
  // the latest presence.
  _retryPresence() {
    if (this._presenceRetrying) return;
    this._presenceRetrying = true;
    this._setTimeout(() => this._run(() => {
      this._presenceRetrying = false;
      if (this._me && this._online && this._state !== 'detached') this._sendPresence();
    }), PRESENCE_RETRY_MS);
  }

  // Repeats what the state waits on (open, probe or in-flight op) after a
  // backoff, unless something else happened first.
  _retryLater() {
    const tok = ++this._retryTok;
    const st = this._state;
    const f = this._inflight;
    this.stats.retries++;
    this._setTimeout(() => this._run(() => {
      if (!this._online || this._retryTok !== tok || this._state !== st || this._inflight !== f) return;
      if (st === 'opening' || st === 'resyncing') this._sendOpen();
      else if (st === 'probing' && f) this._sendProbe();
      else if (st === 'ready' && f) this._sendInflight();
    }), this._bo.next());
  }

  // ---- presence ------------------------------------------------------------------

  _onPresenceMsg(msg) {
    const me = this.clientId;
    if (msg.type === 'roster') {
      this.peers = new Map();
      for (const p of Array.isArray(msg.peers) ? msg.peers : []) {
        if (p && p.session !== me) this.peers.set(p.session, this._catchUp({ ...p, seenAt: this._now() }));
      }
    } else if (msg.type === 'presence') {
      const p = msg.peer;
      if (!p || p.session === me) return;
      this.peers.set(p.session, this._catchUp({ ...p, seenAt: this._now() }));
    } else if (msg.type === 'left') {
      if (msg.session === me) {
        if (this._me) this._sendPresence(); // an old connection of ours was cleaned up
        return;
      }
      if (!this.peers.delete(msg.session)) return;
    }
    this._presenceChanged();
  }

  _presenceChanged() {
    const cb = this._onPresence;
    if (cb) this._hook(() => cb(this.peers));
  }

  // Brings a peer whose selection refers to an older version up to ours
  // through the remembered ops, so that its cursor shows at once instead
  // of waiting for its next update. A version older than what we remember
  // stays as it is (peerSelection hides it).
  _catchUp(p) {
    const from = p.version;
    if (!p.selection || !Number.isInteger(from) || from >= this._version || from < this._recentBase) return p;
    let sel = p.selection;
    for (let v = from; v < this._version; v++) sel = transformSelection(sel, this._recent[v - this._recentBase]);
    p.selection = sel;
    p.version = this._version;
    return p;
  }

  // Moves the selections of peers at version v through the op sequenced at v.
  _movePeers(v, op) {
    let changed = false;
    for (const p of this.peers.values()) {
      if (p.version !== v) continue;
      if (p.selection) p.selection = transformSelection(p.selection, op);
      p.version = v + 1;
      changed = true;
    }
    if (changed) this._presenceChanged();
  }

  // After a snapshot the ops between a peer's version and ours are unknown:
  // hide those cursors until the peers' next updates.
  _restartPeers() {
    let changed = false;
    for (const p of this.peers.values()) {
      if (p.version !== this._version && p.selection) {
        p.selection = null;
        changed = true;
      }
    }
    if (changed) this._presenceChanged();
  }
}

// formatSize says a byte count for people (1.5 MB).
function formatSize(n) {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1 << 10) return `${Math.round(n / (1 << 10))} KB`;
  return `${n} bytes`;
}
