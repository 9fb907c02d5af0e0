// Connection: the page's WebSocket to the server, kept up for as long as
// the page wants it. It connects, parses each text frame as one JSON
// message (docs/protocol.md §1), and after any close (server restart,
// network loss, a slow-reader close 4001, a failed attempt) waits a
// backoff delay and connects again. It knows nothing of documents: the
// page feeds its events to a DocClient (client.js), which re-opens from
// its version and resends what was in flight.

import { Backoff } from './client.js';

// STABLE_MS: a connection that stayed open this long proves the server
// works, and the next outage starts again from the shortest delay. A
// server that accepts, answers and drops again at once (overloaded,
// restarting behind a balancer) keeps the delays growing instead of being
// hit every half second by every open page.
const STABLE_MS = 10000;

// Heartbeat (docs/protocol.md §16): while open, a ping every HEARTBEAT_MS;
// a ping with no message at all back within HEARTBEAT_TIMEOUT_MS means the
// connection is dead though no close arrived (half-open: the network went
// away without a FIN), and it is dropped and reconnected. Without this an
// idle page kept saying "Saved" until it next sent something.
const HEARTBEAT_MS = 5000;
const HEARTBEAT_TIMEOUT_MS = 10000;

/**
 * A self-reconnecting WebSocket carrying JSON messages.
 *
 * state: 'idle' (not started), 'connecting', 'open', 'waiting' (for the
 * next attempt, at retryAt) or 'stopped'.
 */
export class Connection {
  /**
   * @param {object} opts
   * @param {string} opts.url ws:// or wss:// URL of the endpoint
   * @param {() => void} [opts.onOpen] the socket is open
   * @param {(msg: object) => void} [opts.onMessage] one parsed message
   * @param {(info: {code: number, reason: string}) => void} [opts.onClose] the socket is gone
   * @param {(state: string) => void} [opts.onState] state changed
   * @param {Backoff} [opts.backoff] delays between attempts (0.5 s doubling
   *   to 30 s, each cut by up to half at random so that the pages dropped
   *   by one server restart do not all come back in the same instant)
   * @param {number} [opts.openTimeout=10000] ms an attempt may take to open
   * @param {number} [opts.stableMs=10000] how long a connection must have
   *   been open for the next outage to start from the shortest delay
   * @param {number} [opts.heartbeatMs=5000] ms between pings while open;
   *   0 sends none (a v1 connection)
   * @param {number} [opts.heartbeatTimeoutMs=10000] ms a ping may go
   *   without any message back before the connection counts as dead
   * @param {() => (string|Promise<string>)} [opts.getToken] returns the token
   *   presented to a server that checks access (docs/protocol.md §18): on
   *   every connection before anything else is sent, and again when the
   *   server warns that the current one expires. Omit it for a server in
   *   -auth none.
   * @param {Function} [opts.WebSocket] constructor (injectable for tests)
   * @param {Function} [opts.setTimeout] timer (injectable for tests)
   * @param {Function} [opts.clearTimeout]
   * @param {() => number} [opts.now]
   */
  constructor({
    url, onOpen, onMessage, onClose, onState, backoff, openTimeout = 10000, stableMs = STABLE_MS,
    heartbeatMs = HEARTBEAT_MS, heartbeatTimeoutMs = HEARTBEAT_TIMEOUT_MS, getToken = null,
    WebSocket: WS = globalThis.WebSocket,
    setTimeout: setT = (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout: clearT = (t) => globalThis.clearTimeout(t),
    now = () => Date.now(),
  }) {
    this.url = url;
    this._onOpen = onOpen || (() => {});
    this._onMessage = onMessage || (() => {});
    this._onClose = onClose || (() => {});
    this._onState = onState || (() => {});
    this._bo = backoff || new Backoff({ jitter: 0.5 });
    this._openTimeout = openTimeout;
    this._stableMs = stableMs;
    this._openedAt = 0;
    this._WS = WS;
    this._setT = setT;
    this._clearT = clearT;
    this._now = now;
    this._ws = null;
    this._timer = null;
    this._heartbeatMs = heartbeatMs;
    this._heartbeatTimeoutMs = heartbeatTimeoutMs;
    this._hbTimer = null; // the next ping
    this._hbDeadline = null; // the answer to the last ping is due
    this._pingSeq = 0;
    this._pingRefused = false; // this connection's server does not know ping
    this._state = 'idle';
    this._getToken = getToken;
    this._refreshing = false; // a fresh token was sent and not answered yet
    /**
     * Who the server says this connection acts as ({sub, name, exp, guest},
     * from its "authenticated" answer), or null. guest: a share link's
     * visitor, whose presence name is its own, shown marked as a guest's.
     */
    this.identity = null;
    /** The last close code and reason from the server ({code, reason}), or null. */
    this.lastClose = null;
    /** When the next attempt starts (ms since the epoch), in state 'waiting'. */
    this.retryAt = 0;
    /** When the last message arrived (ms since the epoch), 0 if none yet. */
    this.lastMessageAt = 0;
    /** Attempts made, for diagnostics. */
    this.attempts = 0;
    /** When the last pong arrived (ms since the epoch), 0 if none yet. */
    this.lastPongAt = 0;
    /** Connections dropped because a ping went unanswered, for diagnostics. */
    this.heartbeatDrops = 0;
  }

  /**
   * Changes the heartbeat's timing (tests shorten it; 0 stops pinging).
   * Takes effect at once on an open connection.
   * @param {number} intervalMs
   * @param {number} timeoutMs
   */
  setHeartbeat(intervalMs, timeoutMs) {
    this._heartbeatMs = intervalMs;
    this._heartbeatTimeoutMs = timeoutMs;
    if (this._state === 'open') this._startHeartbeat();
  }

  /** The connection state. @returns {string} */
  get state() { return this._state; }

  /** Starts connecting (once). */
  start() {
    if (this._state === 'idle') this._connect();
  }

  /** Closes the socket for good. */
  stop() {
    this._clearTimer();
    this._stopHeartbeat();
    this._setState('stopped');
    const ws = this._ws;
    this._ws = null;
    if (ws) {
      detach(ws);
      ws.close(1000, 'page closed');
    }
  }

  /**
   * Sends one message; returns false (and sends nothing) unless open.
   * @param {object} msg
   * @returns {boolean}
   */
  send(msg) {
    if (this._state !== 'open') return false;
    this._ws.send(JSON.stringify(msg));
    return true;
  }

  /**
   * Calls fn once everything sent so far has left the page (the socket's
   * bufferedAmount is 0), the socket is gone, or after maxMs. A browser
   * hands a large message to the network a piece at a time from the
   * page's own thread, so work that keeps that thread busy (laying out a
   * long text) should wait for this.
   * @param {() => void} fn
   * @param {number} [maxMs=2000]
   */
  whenSent(fn, maxMs = 2000) {
    const ws = this._ws;
    const until = this._now() + maxMs;
    const check = () => {
      if (this._ws !== ws || !ws || !(ws.bufferedAmount > 0) || this._now() >= until) fn();
      else this._setT(check, 5);
    };
    check();
  }

  /** Skips the wait before the next attempt (the network is back). */
  retryNow() {
    if (this._state !== 'waiting') return;
    this._clearTimer();
    this._connect();
  }

  /**
   * Drops the current socket at once and reconnects after the backoff:
   * for a connection known to be dead (the browser went offline) that
   * the socket itself would take minutes to notice.
   */
  drop(reason = 'dropped') {
    const ws = this._ws;
    if (!ws) return;
    detach(ws);
    ws.close(4000, 'dropped by the client');
    this._closed(ws, { code: 1006, reason });
  }

  _connect() {
    this._setState('connecting');
    this.attempts++;
    let ws;
    try {
      ws = new this._WS(this.url);
    } catch {
      this._retry(); // a malformed URL: keep trying, the page shows offline
      return;
    }
    this._ws = ws;
    this._timer = this._setT(() => {
      this._timer = null;
      if (this._ws === ws && this._state === 'connecting') this.drop();
    }, this._openTimeout);
    ws.onopen = () => {
      if (this._ws !== ws) return;
      if (!this._getToken) {
        this._opened(ws);
        return;
      }
      // The token goes first: the documents are opened once it is sent.
      this._token().then((token) => {
        if (this._ws !== ws) return;
        ws.send(JSON.stringify({ type: 'auth', token }));
        this._opened(ws);
      }, () => {
        if (this._ws === ws) this.drop('no token');
      });
    };
    ws.onmessage = (ev) => {
      if (this._ws !== ws) return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return; // not JSON: not for us (§12: ignore what you do not know)
      }
      this.lastMessageAt = this._now();
      this._heard();
      if (msg && msg.type === 'pong') {
        this.lastPongAt = this.lastMessageAt;
        return; // the heartbeat's own: nothing for the page
      }
      if (msg && msg.type === 'authenticated') {
        this.identity = { sub: msg.sub, name: msg.name, exp: msg.exp, guest: msg.guest === true };
        this._refreshing = false;
      } else if (this._getToken && isExpiryWarning(msg)) {
        // The server warns once per token. An unauthorized error while a
        // refresh is on its way is that refresh refused: asking again
        // would loop; the server closes at expiry and the next
        // connection asks for a token anyway.
        if (!this._refreshing) this._refresh(ws);
        else this._refreshing = false;
        return; // the connection's own business, like a pong
      }
      if (isPingRefusal(msg)) {
        // A server from before the heartbeat (another process in a
        // rolling update): stop pinging it, and keep its refusal from
        // the page, which would take an error without id for its open's.
        this._pingRefused = true;
        return;
      }
      this._onMessage(msg);
    };
    ws.onclose = (ev) => this._closed(ws, { code: ev.code, reason: ev.reason });
    ws.onerror = () => {}; // a close event always follows
  }

  _opened(ws) {
    this._refreshing = false;
    this._clearTimer();
    this._openedAt = this._now();
    this._setState('open');
    this._startHeartbeat();
    this._onOpen();
  }

  async _token() {
    return String(await this._getToken());
  }

  // Sends a fresh token on ws, still the connection, after the server's
  // warning that the current one expires.
  _refresh(ws) {
    this._refreshing = true;
    this._token().then((token) => {
      if (this._ws === ws && this._state === 'open') ws.send(JSON.stringify({ type: 'auth', token }));
    }, () => {}); // the server closes it at expiry; the next connection asks again
  }

  _closed(ws, info) {
    if (this._ws !== ws) return;
    this.lastClose = info;
    this._ws = null;
    this._clearTimer();
    this._stopHeartbeat();
    const wasOpen = this._state === 'open';
    if (wasOpen && this._now() - this._openedAt >= this._stableMs) this._bo.reset();
    if (this._state !== 'stopped') this._retry();
    if (wasOpen) this._onClose(info);
  }

  _retry() {
    const delay = this._bo.next();
    this.retryAt = this._now() + delay;
    this._setState('waiting');
    this._timer = this._setT(() => {
      this._timer = null;
      if (this._state === 'waiting') this._connect();
    }, delay);
  }

  // ---- heartbeat ----

  _startHeartbeat() {
    this._stopHeartbeat();
    this._pingRefused = false;
    if (this._heartbeatMs > 0) this._scheduleTick();
  }

  _scheduleTick() {
    this._hbTimer = this._setT(() => {
      this._hbTimer = null;
      this._tick();
    }, this._heartbeatMs);
  }

  // Sends a ping unless one is still unanswered, and starts its deadline.
  // The deadline is kept per ping, not measured from the last message, so
  // a background tab whose timers the browser slows to one a minute is
  // not taken for dead: it pings less often but its answer still comes.
  _tick() {
    if (this._state !== 'open' || this._pingRefused) return;
    if (this._hbDeadline === null) {
      const ws = this._ws;
      this._pingSeq++;
      this.send({ type: 'ping', id: `hb:${this._pingSeq}` });
      this._hbDeadline = this._setT(() => {
        this._hbDeadline = null;
        if (this._ws !== ws || this._state !== 'open') return;
        this.heartbeatDrops++;
        this.drop('no answer to ping');
      }, this._heartbeatTimeoutMs);
    }
    this._scheduleTick();
  }

  // Any message proves the connection alive: the ping's deadline is met.
  _heard() {
    if (this._hbDeadline !== null) this._clearT(this._hbDeadline);
    this._hbDeadline = null;
  }

  _stopHeartbeat() {
    if (this._hbTimer !== null) this._clearT(this._hbTimer);
    this._hbTimer = null;
    this._heard();
  }

  _clearTimer() {
    if (this._timer !== null) this._clearT(this._timer);
    this._timer = null;
  }

  _setState(s) {
    if (s === this._state) return;
    this._state = s;
    this._onState(s);
  }
}

// isPingRefusal tells the answer of a server without the heartbeat
// extension to a ping: bad_request for an unknown type, with no doc or id
// (docs/protocol.md §12, §16).
function isPingRefusal(msg) {
  return !!msg && msg.type === 'error' && msg.code === 'bad_request' && msg.doc === undefined &&
    msg.id === undefined && /unknown type "ping"/.test(String(msg.message));
}

// isExpiryWarning tells the server's "send a fresh token" (§18): an
// unauthorized error that names no document.
function isExpiryWarning(msg) {
  return !!msg && msg.type === 'error' && msg.code === 'unauthorized' && msg.doc === undefined;
}

function detach(ws) {
  ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
}
