// @collabedit/client: the embeddable JavaScript client of the collab server
// (docs/client-js.md). A high-level API over the same modules the editor
// pages use: Connection (socket.js) carries the messages of any number of
// documents, each a DocClient (client.js), the OT state machine; the
// textarea binding is binding.js and the CodeMirror 6 binding is
// codemirror.js (a separate entry: it imports @codemirror/state and
// @codemirror/view).
//
//   import { connect } from '@collabedit/client';
//   const conn = connect('wss://example.com/ws');
//   const doc = conn.open('notes', { presence: { name: 'Ada' } });
//   doc.on('change', (ev) => console.log(ev.text));
//   doc.bindTextarea(document.querySelector('textarea'));
//
// All positions and counts are Unicode code points, as on the wire
// (docs/protocol.md §2), unless a name says otherwise.

import { DocClient, Backoff, DEFAULT_LIMITS, diff, invert, transformSelection } from './client.js';
import { Connection } from './socket.js';
import { TextareaBinding } from './binding.js';
import { randomId, safeColor, inkFor, colorFor } from './identity.js';
import {
  apply, compose, transform, transformIndex, fromPatch, isNoop, normalize, codePointLength,
  utf16ToCodePoint, codePointToUtf16, OpError,
} from './ot.js';

/** The package's version (kept equal to package.json's by a test). */
export const VERSION = '1.0.0';

/** The wire protocol version this client speaks (docs/protocol.md §12). */
export const PROTOCOL_VERSION = 1;

// How often at most our selection is sent to the others: the server
// forwards at most one presence per 50 ms per person anyway (§13).
const PRESENCE_MS = 50;

export {
  DocClient, Connection, TextareaBinding, Backoff, DEFAULT_LIMITS,
  apply, compose, transform, transformIndex, transformSelection, fromPatch, isNoop, normalize, diff, invert,
  codePointLength, utf16ToCodePoint, codePointToUtf16, OpError, safeColor, inkFor, colorFor, randomId,
};

/** A minimal event emitter: on/off/once, listeners called in order. */
class Emitter {
  constructor() {
    /** @type {Map<string, Set<Function>>} */
    this._listeners = new Map();
  }

  /**
   * Adds a listener; returns a function that removes it.
   * @param {string} type
   * @param {Function} fn
   * @returns {() => void}
   */
  on(type, fn) {
    if (typeof fn !== 'function') throw new TypeError('listener must be a function');
    let set = this._listeners.get(type);
    if (!set) this._listeners.set(type, (set = new Set()));
    set.add(fn);
    return () => this.off(type, fn);
  }

  /** Removes a listener. @param {string} type @param {Function} fn */
  off(type, fn) {
    const set = this._listeners.get(type);
    if (set) set.delete(fn);
  }

  /**
   * Adds a listener called once.
   * @param {string} type
   * @param {Function} fn
   * @returns {() => void}
   */
  once(type, fn) {
    const off = this.on(type, (...a) => {
      off();
      fn(...a);
    });
    return off;
  }

  _emit(type, ...args) {
    const set = this._listeners.get(type);
    if (!set || set.size === 0) {
      // An error nobody listens to is not swallowed silently.
      if (type === 'error' && args[0]) console.error('collab:', args[0]);
      return;
    }
    for (const fn of [...set]) {
      try {
        fn(...args);
      } catch (err) {
        // One broken listener must not stop the others or the client.
        setTimeout(() => { throw err; }, 0);
      }
    }
  }
}

/**
 * Connects to a collab server: one WebSocket, reconnected with backoff,
 * carrying any number of documents.
 * @param {string} url ws://, wss://, http(s):// (turned into ws(s)://) or a
 *   path such as '/ws' (resolved against the page's location)
 * @param {ConnectOptions} [opts]
 * @returns {CollabConnection}
 */
export function connect(url, opts = {}) {
  const conn = new CollabConnection(url, opts);
  conn.start();
  return conn;
}

/**
 * @typedef {object} ConnectOptions
 * @property {number} [heartbeatMs=5000] ms between pings while open (§16); 0 sends none
 * @property {number} [heartbeatTimeoutMs=10000] ms a ping may go unanswered before the connection counts as dead
 * @property {number} [openTimeout=10000] ms a connection attempt may take
 * @property {number} [stableMs=10000] how long a connection must stay open for the next outage to start from the shortest delay
 * @property {{min?: number, max?: number, factor?: number, jitter?: number}} [reconnect] backoff between attempts (default 0.5 s doubling to 30 s, jitter 0.5)
 * @property {boolean} [watchNetwork=true] in a browser, drop at once on the 'offline' event and retry on 'online' and when the tab becomes visible
 * @property {Partial<typeof DEFAULT_LIMITS>} [limits] the server's limits if not its defaults
 * @property {Function} [WebSocket] WebSocket constructor (default globalThis.WebSocket; pass the ws package's in node < 22)
 * @property {() => (string|Promise<string>)} [getToken] the token for a server that checks access (protocol §18): called for every connection and again when the server warns that the current one expires
 */

/**
 * A connection to the server (create with connect()).
 * Events: 'state' (state: 'idle'|'connecting'|'open'|'waiting'|'stopped').
 */
export class CollabConnection extends Emitter {
  /**
   * @param {string} url
   * @param {ConnectOptions} [opts]
   */
  constructor(url, opts = {}) {
    super();
    const {
      heartbeatMs, heartbeatTimeoutMs, openTimeout, stableMs, reconnect, watchNetwork = true, limits, WebSocket: WS,
      setTimeout: setT, clearTimeout: clearT, getToken,
    } = opts;
    this.url = wsURL(url);
    this.limits = limits;
    /** @type {Map<string, CollabDocument>} open documents by id */
    this.documents = new Map();
    const copts = {
      url: this.url,
      onOpen: () => { for (const d of this.documents.values()) d.client.connected(); },
      onMessage: (m) => { for (const d of [...this.documents.values()]) d.client.receive(m); },
      onClose: () => { for (const d of this.documents.values()) d.client.disconnected(); },
      onState: (s) => {
        this._emit('state', s);
        for (const d of this.documents.values()) d._connState();
      },
      backoff: new Backoff({ jitter: 0.5, ...reconnect }),
    };
    if (heartbeatMs !== undefined) copts.heartbeatMs = heartbeatMs;
    if (heartbeatTimeoutMs !== undefined) copts.heartbeatTimeoutMs = heartbeatTimeoutMs;
    if (openTimeout !== undefined) copts.openTimeout = openTimeout;
    if (stableMs !== undefined) copts.stableMs = stableMs;
    if (WS) copts.WebSocket = WS;
    if (getToken) copts.getToken = getToken;
    if (setT) copts.setTimeout = setT;
    if (clearT) copts.clearTimeout = clearT;
    /** The underlying self-reconnecting socket (socket.js). */
    this.socket = new Connection(copts);
    this._unwatch = null;
    if (watchNetwork && typeof window !== 'undefined' && window.addEventListener) {
      const offline = () => this.socket.drop('browser offline');
      const online = () => this.socket.retryNow();
      const visible = () => { if (document.visibilityState === 'visible') this.socket.retryNow(); };
      window.addEventListener('offline', offline);
      window.addEventListener('online', online);
      document.addEventListener('visibilitychange', visible);
      this._unwatch = () => {
        window.removeEventListener('offline', offline);
        window.removeEventListener('online', online);
        document.removeEventListener('visibilitychange', visible);
      };
    }
  }

  /** Starts connecting (connect() calls it). */
  start() {
    this.socket.start();
  }

  /**
   * 'idle', 'connecting', 'open', 'waiting' (for the next attempt, at
   * retryAt) or 'stopped'.
   * @returns {string}
   */
  get state() { return this.socket.state; }

  /** When the next attempt starts (ms since the epoch), in state 'waiting'. @returns {number} */
  get retryAt() { return this.socket.retryAt; }

  /** Skips the wait before the next attempt. */
  retryNow() {
    this.socket.retryNow();
  }

  /**
   * Opens a document on this connection. One CollabDocument per id and
   * connection: opening an id that is open throws.
   * @param {string} id document id (docs/protocol.md §2)
   * @param {OpenOptions} [opts]
   * @returns {CollabDocument}
   */
  open(id, opts = {}) {
    if (this.state === 'stopped') throw new Error('the connection is closed');
    if (this.documents.has(id)) throw new Error(`document ${id} is already open on this connection`);
    const doc = new CollabDocument(this, id, { limits: this.limits, ...opts });
    this.documents.set(id, doc);
    doc.client.open();
    return doc;
  }

  /** Closes every document and the socket, for good. */
  close() {
    for (const d of [...this.documents.values()]) d.close();
    this.socket.stop();
    if (this._unwatch) this._unwatch();
    this._unwatch = null;
  }

  _send(msg) {
    return this.socket.send(msg);
  }
}

/**
 * @typedef {object} OpenOptions
 * @property {{name?: string, color?: string}} [presence] who you are to the
 *   others; without it you still see them, but are not shown until
 *   setPresence() is called
 * @property {string} [clientId] per editing session (default random)
 * @property {Partial<typeof DEFAULT_LIMITS>} [limits] the server's limits if not its defaults
 */

/**
 * One open document (create with CollabConnection.open()).
 *
 * Events:
 *  - 'change' ({op, text, version, local, remote, snapshot, undo, origin, id, author}):
 *    the text changed; op (code points) turns the previous text into text
 *  - 'presence' (peers: Peer[]): someone came, went, moved or renamed
 *  - 'status' (status: 'connecting'|'saving'|'saved'|'offline'|'closed')
 *  - 'version' (version: number)
 *  - 'load' (text): the first snapshot arrived
 *  - 'error' (err: Error with code): a refusal the client could not repair
 *    (e.g. too_large: the edit was undone)
 */
export class CollabDocument extends Emitter {
  /**
   * @param {CollabConnection} conn
   * @param {string} id
   * @param {OpenOptions} opts
   */
  constructor(conn, id, { presence, clientId = randomId(12), limits } = {}) {
    super();
    this.id = id;
    this.connection = conn;
    this._closed = false;
    this._me = presence ? { name: presence.name, color: presence.color } : null;
    this._selection = null;
    this._presenceTimer = null;
    this._bindings = new Set();
    this._loaded = false;
    /** The underlying state machine (client.js), for advanced use. */
    this.client = new DocClient({
      doc: id,
      clientId,
      send: (m) => conn._send(m),
      connected: conn.state === 'open',
      limits,
      onChange: (ev) => {
        if (!this._loaded && this.client.loaded) this._load();
        if (this._selection && ev.op) this._selection = transformSelection(this._selection, ev.op);
        this._emit('change', { local: false, remote: true, origin: null, ...ev });
      },
      onStatus: (s) => {
        if (!this._loaded && this.client.loaded) this._load();
        this._emit('status', s);
      },
      onVersion: (v) => this._emit('version', v),
      onPresence: () => this._emit('presence', this.peers),
      onError: (err) => this._emit('error', err),
      onLifecycle: (ev) => this._emit('lifecycle', ev),
    });
  }

  _load() {
    this._loaded = true;
    if (this._me) this._sendPresence();
    this._emit('load', this.text);
  }

  _connState() {
    // The peers are shown only while connected: offline nobody is known.
    if (this.connection.state !== 'open' && this.client.peers.size) this._emit('presence', this.peers);
  }

  /** The local text (server text plus edits not yet acknowledged). @returns {string} */
  get text() { return this.client.text; }

  /** The last server version applied. @returns {number} */
  get version() { return this.client.version; }

  /** Whether the first snapshot has arrived (edits are allowed). @returns {boolean} */
  get loaded() { return this.client.loaded; }

  /** Whether some edits are not acknowledged yet. @returns {boolean} */
  get pending() { return this.client.pending; }

  /** Whether close() was called. @returns {boolean} */
  get closed() { return this._closed; }

  /**
   * 'connecting', 'saving', 'saved', 'offline' or, after close(), 'closed'.
   * @returns {string}
   */
  get status() { return this._closed ? 'closed' : this.client.status; }

  /** Your session id (the peers' `session`). @returns {string} */
  get session() { return this.client.clientId; }

  /**
   * The other people in the document, each with their selection mapped
   * onto the local text (null when unknown); nobody while offline.
   * @returns {Peer[]}
   */
  get peers() {
    if (this._closed || this.client.status === 'offline') return [];
    const out = [];
    for (const p of this.client.peers.values()) {
      const color = safeColor(p.color, p.session);
      out.push({
        session: p.session,
        name: typeof p.name === 'string' && p.name ? p.name : 'Anonymous',
        color,
        ink: inkFor(color),
        selection: this.client.peerSelection(p.session),
        seenAt: p.seenAt,
      });
    }
    return out;
  }

  /**
   * Resolves with the text once the document is loaded.
   * @returns {Promise<string>}
   */
  whenLoaded() {
    if (this.loaded) return Promise.resolve(this.text);
    return new Promise((resolve, reject) => {
      const offs = [
        this.on('load', (t) => { offs.forEach((f) => f()); resolve(t); }),
        this.on('status', (s) => { if (s === 'closed') { offs.forEach((f) => f()); reject(new Error('document closed')); } }),
      ];
    });
  }

  /**
   * Resolves once every local edit is acknowledged by the server.
   * @returns {Promise<void>}
   */
  whenSaved() {
    if (this.status === 'saved') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const off = this.on('status', (s) => {
        if (s === 'saved') { off(); resolve(); }
        if (s === 'closed') { off(); reject(new Error('document closed')); }
      });
    });
  }

  /**
   * Applies a local edit (code points, on `text`) and sends it. Throws
   * OpError if op does not fit the text, and an Error with code
   * 'too_large' if it is over the server's limits (nothing changes then).
   * @param {Array<number|string>} op
   * @param {{origin?: any}} [opts] origin is passed on in the change event
   *   (bindings use it to skip their own edits)
   */
  edit(op, { origin = null } = {}) {
    this._checkOpen();
    this.client.edit(op);
    if (isNoop(op)) return;
    if (this._selection) this._selection = transformSelection(this._selection, op);
    this._emit('change', { op, text: this.text, version: this.version, local: true, remote: false, origin });
  }

  /**
   * Inserts text at a code-point position.
   * @param {number} pos
   * @param {string} text
   * @param {{origin?: any}} [opts]
   */
  insert(pos, text, opts) {
    this.edit(fromPatch(pos, 0, text), opts);
  }

  /**
   * Deletes count code points at pos.
   * @param {number} pos
   * @param {number} count
   * @param {{origin?: any}} [opts]
   */
  delete(pos, count, opts) {
    this.edit(fromPatch(pos, count, ''), opts);
  }

  /**
   * Replaces count code points at pos with text.
   * @param {number} pos
   * @param {number} count
   * @param {string} text
   * @param {{origin?: any}} [opts]
   */
  replace(pos, count, text, opts) {
    this.edit(fromPatch(pos, count, text), opts);
  }

  /**
   * Makes the text equal to text by the smallest single replacement.
   * @param {string} text
   * @param {{origin?: any}} [opts]
   */
  setText(text, opts) {
    this.edit(diff(this.text, text), opts);
  }

  /**
   * Sets what the others see of you; fields left out keep their value.
   * selection is in code points on the local text (null: none).
   * Sent at most every 50 ms, and again after every reconnect.
   * @param {{name?: string, color?: string, selection?: {anchor: number, head: number}|null}} p
   */
  setPresence(p = {}) {
    this._checkOpen();
    const me = this._me || {};
    this._me = { name: p.name !== undefined ? p.name : me.name, color: p.color !== undefined ? p.color : me.color };
    if (p.selection !== undefined) this._selection = p.selection ? { anchor: p.selection.anchor, head: p.selection.head } : null;
    this._schedulePresence();
  }

  /**
   * Sets your selection (code points on the local text; null: none), as
   * the bindings do; shown to the others once you have a presence.
   * @param {{anchor: number, head: number}|null} sel
   */
  setSelection(sel) {
    if (this._closed) return;
    this._selection = sel ? { anchor: sel.anchor, head: sel.head } : null;
    if (this._me) this._schedulePresence();
  }

  _schedulePresence() {
    if (this._presenceTimer !== null) return;
    this._presenceTimer = setTimeout(() => {
      this._presenceTimer = null;
      this._sendPresence();
    }, PRESENCE_MS);
  }

  _sendPresence() {
    if (this._closed || !this._me || !this.client.loaded) return;
    this.client.setPresence({ ...this._me, selection: this._selection });
  }

  /**
   * Binds a textarea to the document: local typing is sent, remote edits
   * are written in place keeping the caret, Ctrl+Z undoes only your own
   * edits, and your selection is sent as presence.
   * @param {HTMLTextAreaElement} textarea
   * @param {{onError?: (err: Error) => void, onRender?: () => void, presence?: boolean, defer?: (fn: () => void) => void}} [opts]
   * @returns {{binding: TextareaBinding, selection: () => {anchor: number, head: number}, destroy: () => void}}
   */
  bindTextarea(textarea, { onError, onRender, presence = true, defer } = {}) {
    this._checkOpen();
    const doc = this;
    const real = this.client;
    let alive = true;
    const origin = {};
    // The binding sees the DocClient through this: its edits become the
    // document's local edits (with their events), and after destroy() it
    // finds the document not loaded, so it sends nothing.
    const client = new Proxy(real, {
      get(t, k) {
        if (k === 'loaded') return alive && t.loaded;
        if (k === 'edit') return (op) => doc.edit(op, { origin });
        const v = Reflect.get(t, k, t);
        return typeof v === 'function' ? v.bind(t) : v;
      },
    });
    const report = (err) => (onError ? onError(err) : this._emit('error', err));
    const hasDOM = typeof document !== 'undefined';
    const sendSelection = () => {
      if (alive && presence && real.loaded && (!hasDOM || document.activeElement === textarea)) {
        this.setSelection(binding.selection());
      }
    };
    const binding = new TextareaBinding({ textarea, client, onError: report, onRender, defer, onSelection: sendSelection });
    const offChange = this.on('change', (ev) => {
      if (ev.origin !== origin && ev.op) binding.remote(ev.op);
    });
    // An empty document's first snapshot changes no text: only the status.
    const offStatus = this.on('status', () => { if (alive) textarea.readOnly = !real.writable; });
    if (hasDOM) document.addEventListener('selectionchange', sendSelection);
    textarea.readOnly = !real.writable;
    const handle = {
      binding,
      selection: () => binding.selection(),
      destroy: () => {
        if (!alive) return;
        alive = false;
        offChange();
        offStatus();
        if (hasDOM) document.removeEventListener('selectionchange', sendSelection);
        this._bindings.delete(handle);
      },
    };
    this._bindings.add(handle);
    return handle;
  }

  /**
   * Closes the document: stops editing and presence, and destroys its
   * bindings. Edits not yet acknowledged are lost (wait for whenSaved()).
   */
  close() {
    if (this._closed) return;
    for (const b of [...this._bindings]) b.destroy();
    clearTimeout(this._presenceTimer);
    this._presenceTimer = null;
    this.client.close();
    this._closed = true;
    this.connection.documents.delete(this.id);
    this._emit('status', 'closed');
  }

  /** @internal used by codemirror.js. */
  _addBinding(handle) {
    this._bindings.add(handle);
  }

  /** @internal */
  _removeBinding(handle) {
    this._bindings.delete(handle);
  }

  _checkOpen() {
    if (this._closed) throw new Error(`document ${this.id} is closed`);
  }
}

/**
 * @typedef {object} Peer
 * @property {string} session their session id
 * @property {string} name display name ('Anonymous' if none)
 * @property {string} color a safe hex colour (theirs, or one picked for them)
 * @property {string} ink '#fff' or '#000', whichever reads on color
 * @property {{anchor: number, head: number}|null} selection on the local text, code points
 * @property {number} seenAt when their last presence update arrived (ms since the epoch)
 */

// wsURL makes a WebSocket URL of what connect() was given.
function wsURL(url) {
  const s = String(url);
  if (/^wss?:\/\//i.test(s)) return s;
  if (/^https?:\/\//i.test(s)) return s.replace(/^http/i, 'ws');
  if (typeof location !== 'undefined' && location.href) {
    const u = new URL(s, location.href);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u.href;
  }
  throw new TypeError(`connect: ${s} is not a ws://, wss://, http:// or https:// URL`);
}
