// Tests of static/socket.js: the self-reconnecting WebSocket, with a fake
// WebSocket class and fake timers.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Backoff } from '../client.js';
import { Connection } from '../socket.js';

// env returns a Connection wired to fake sockets and timers.
function env(opts = {}) {
  const sockets = [];
  class FakeWS {
    constructor(url) {
      this.url = url;
      this.sent = [];
      this.closed = null;
      sockets.push(this);
    }
    send(s) { this.sent.push(JSON.parse(s)); }
    close(code, reason) { this.closed = { code, reason }; }
    // server side
    open() { this.onopen && this.onopen(); }
    msg(obj) { this.onmessage && this.onmessage({ data: typeof obj === 'string' ? obj : JSON.stringify(obj) }); }
    drop(code = 1006) { this.onclose && this.onclose({ code, reason: '' }); }
  }
  let now = 0;
  const timers = [];
  const log = [];
  const conn = new Connection({
    url: 'ws://h/ws', WebSocket: FakeWS,
    backoff: new Backoff({ min: 500, max: 4000, jitter: 0 }),
    setTimeout: (fn, ms) => { const t = { fn, at: now + ms, live: true }; timers.push(t); return t; },
    clearTimeout: (t) => { t.live = false; },
    now: () => now,
    onOpen: () => log.push('open'),
    onMessage: (m) => log.push(m),
    onClose: (i) => log.push(`close ${i.code}`),
    ...opts,
  });
  // advance runs the timers due within ms.
  const advance = (ms) => {
    now += ms;
    for (const t of timers.slice()) {
      if (t.live && t.at <= now) {
        t.live = false;
        t.fn();
      }
    }
  };
  return { conn, sockets, log, advance, last: () => sockets[sockets.length - 1] };
}

test('connects, parses messages, sends only while open', () => {
  const { conn, log, last } = env();
  assert.equal(conn.send({ type: 'x' }), false);
  conn.start();
  assert.equal(conn.state, 'connecting');
  assert.equal(conn.send({ type: 'x' }), false);
  last().open();
  assert.equal(conn.state, 'open');
  assert.equal(conn.send({ type: 'open', doc: 'd' }), true);
  assert.deepEqual(last().sent, [{ type: 'open', doc: 'd' }]);
  last().msg({ type: 'snapshot', doc: 'd', version: 0, text: '' });
  last().msg('not json'); // ignored
  assert.deepEqual(log, ['open', { type: 'snapshot', doc: 'd', version: 0, text: '' }]);
});

test('reconnects with growing delays, reset by a connection that lasted', () => {
  const { conn, sockets, log, advance, last } = env();
  conn.start();
  last().open();
  last().drop(4001);
  assert.deepEqual(log, ['open', 'close 4001']);
  assert.equal(conn.state, 'waiting');
  assert.equal(conn.retryAt, 500);
  advance(499);
  assert.equal(sockets.length, 1);
  advance(1);
  assert.equal(sockets.length, 2);
  last().drop(); // failed attempt: no close event to the page (it was never open)
  assert.deepEqual(log, ['open', 'close 4001']);
  advance(999);
  assert.equal(sockets.length, 2);
  advance(1); // 1000 ms: doubled
  assert.equal(sockets.length, 3);
  // Open and answering, but dropped again at once: a flapping server is
  // not retried at the shortest delay.
  last().open();
  last().msg({ type: 'opened', doc: 'd', version: 1 });
  last().drop();
  advance(1999);
  assert.equal(sockets.length, 3);
  advance(1); // 2000 ms
  assert.equal(sockets.length, 4);
  // A connection that stayed up for 10 s resets the delays.
  last().open();
  advance(10000);
  last().drop();
  advance(500); // back to the first delay
  assert.equal(sockets.length, 5);
});

test('the default delays are spread at random, none above the nominal one', () => {
  const delays = [];
  const { conn, last } = env({
    backoff: undefined, // the Connection's own default
    setTimeout: (fn, ms) => { delays.push(ms); return { fn }; },
  });
  conn.start();
  last().drop(); // failed attempt: waits the first delay
  assert.equal(delays.length, 2); // the open timeout, then the retry
  const d = delays[1];
  assert.ok(d >= 250 && d <= 500, `first delay ${d} ms, want 250..500`);
});

test('retryNow skips the wait; drop closes a dead socket at once', () => {
  const { conn, sockets, log, last } = env();
  conn.start();
  last().open();
  conn.drop();
  assert.equal(last().closed.code, 4000);
  assert.deepEqual(log, ['open', 'close 1006']);
  assert.equal(conn.state, 'waiting');
  last().drop(); // the late close event of the dropped socket is ignored
  assert.deepEqual(log, ['open', 'close 1006']);
  conn.retryNow();
  assert.equal(sockets.length, 2);
  assert.equal(conn.state, 'connecting');
  conn.retryNow(); // not waiting: nothing
  assert.equal(sockets.length, 2);
});

test('an attempt that does not open in time is abandoned and retried', () => {
  const { conn, sockets, advance } = env({ openTimeout: 3000 });
  conn.start();
  advance(3000);
  assert.equal(sockets[0].closed.code, 4000);
  assert.equal(conn.state, 'waiting');
  advance(500);
  assert.equal(sockets.length, 2);
});

test('stop closes and never reconnects', () => {
  const { conn, sockets, advance, last } = env();
  conn.start();
  last().open();
  conn.stop();
  assert.equal(last().closed.code, 1000);
  assert.equal(conn.state, 'stopped');
  advance(60000);
  assert.equal(sockets.length, 1);
});

// advanceBy runs the timers in steps of step ms, so that timers set by
// timers run too.
function advanceBy(advance, ms, step = 100) {
  for (let t = 0; t < ms; t += step) advance(step);
}

test('heartbeat: pings while open, pongs are not passed on', () => {
  const { conn, log, advance, last } = env({ heartbeatMs: 1000, heartbeatTimeoutMs: 2000 });
  conn.start();
  last().open();
  assert.deepEqual(last().sent, []);
  advance(1000);
  assert.deepEqual(last().sent, [{ type: 'ping', id: 'hb:1' }]);
  last().msg({ type: 'pong', id: 'hb:1' });
  assert.equal(conn.lastPongAt, 1000);
  advance(1000);
  assert.deepEqual(last().sent.map((m) => m.id), ['hb:1', 'hb:2']);
  last().msg({ type: 'pong', id: 'hb:2' });
  for (let i = 3; i <= 12; i++) {
    advance(1000);
    last().msg({ type: 'pong', id: `hb:${i}` });
  }
  assert.equal(last().sent.length, 12);
  assert.equal(conn.state, 'open');
  assert.equal(conn.heartbeatDrops, 0);
  assert.deepEqual(log, ['open']); // no pong reached the page
});

test('heartbeat: an unanswered ping drops the connection and reconnects', () => {
  const { conn, sockets, log, advance, last } = env({ heartbeatMs: 1000, heartbeatTimeoutMs: 2000 });
  conn.start();
  last().open();
  advance(1000); // ping hb:1 sent at 1000
  advance(1000); // still unanswered: no second ping
  assert.deepEqual(last().sent, [{ type: 'ping', id: 'hb:1' }]);
  advance(999);
  assert.equal(conn.state, 'open');
  advance(1); // 2000 ms after the ping
  assert.equal(conn.state, 'waiting');
  assert.equal(conn.heartbeatDrops, 1);
  assert.equal(sockets[0].closed.code, 4000);
  assert.deepEqual(log, ['open', 'close 1006']);
  advanceBy(advance, 500);
  assert.equal(sockets.length, 2);
  last().open();
  assert.equal(conn.state, 'open');
});

test('heartbeat: any message answers a ping (an old server\'s error too)', () => {
  const { conn, log, advance, last } = env({ heartbeatMs: 1000, heartbeatTimeoutMs: 1500 });
  conn.start();
  last().open();
  advance(1000);
  advance(1000);
  last().msg({ type: 'op', doc: 'd', version: 1, id: 'x:1', op: ['a'] });
  advanceBy(advance, 1400);
  assert.equal(conn.state, 'open');
  assert.equal(log.length, 2);
});

test('heartbeat: a slowed timer is no false alarm; 0 disables; setHeartbeat', () => {
  // The ping's own deadline counts, not the time since the last message:
  // a background tab ticking once a minute still stays open.
  const { conn, advance, last } = env({ heartbeatMs: 60000, heartbeatTimeoutMs: 2000 });
  conn.start();
  last().open();
  for (let i = 1; i <= 3; i++) {
    advance(60000);
    last().msg({ type: 'pong', id: `hb:${i}` });
  }
  assert.equal(conn.state, 'open');
  assert.equal(last().sent.length, 3);
  conn.setHeartbeat(0, 2000);
  advanceBy(advance, 200000, 1000);
  assert.equal(last().sent.length, 3);
  conn.setHeartbeat(500, 700);
  advance(500);
  assert.equal(last().sent.length, 4);
  advance(700);
  assert.equal(conn.state, 'waiting');
});

test('heartbeat: stopped with the connection', () => {
  const { conn, sockets, advance, last } = env({ heartbeatMs: 1000, heartbeatTimeoutMs: 2000 });
  conn.start();
  last().open();
  advance(1000);
  conn.stop();
  advanceBy(advance, 10000);
  assert.equal(conn.state, 'stopped');
  assert.equal(conn.heartbeatDrops, 0);
  assert.equal(sockets.length, 1);
});

test('heartbeat: a server without ping refuses it once; no more pings, nothing for the page', () => {
  const { conn, sockets, log, advance, last } = env({ heartbeatMs: 1000, heartbeatTimeoutMs: 2000 });
  conn.start();
  last().open();
  advance(1000);
  last().msg({ type: 'error', code: 'bad_request', message: 'unknown type "ping"' });
  advanceBy(advance, 10000);
  assert.equal(conn.state, 'open');
  assert.equal(last().sent.length, 1);
  assert.deepEqual(log, ['open']);
  // Another error without id is the page's.
  last().msg({ type: 'error', code: 'bad_request', message: 'unknown type "x"' });
  assert.equal(log.length, 2);
  // The next connection (maybe to an upgraded server) pings again.
  last().drop();
  advanceBy(advance, 1000);
  last().open();
  advance(1000);
  assert.equal(sockets.length, 2);
  assert.deepEqual(last().sent, [{ type: 'ping', id: 'hb:2' }]);
});

test('getToken: the token goes first on every connection, and again when the server warns of expiry', async () => {
  let n = 0;
  const { conn, log, last } = env({ heartbeatMs: 0, getToken: async () => `tok${++n}` });
  conn.start();
  last().open();
  assert.equal(conn.state, 'connecting', 'not open until the token is sent');
  await new Promise((r) => setImmediate(r));
  assert.equal(conn.state, 'open');
  assert.deepEqual(last().sent, [{ type: 'auth', token: 'tok1' }]);
  assert.deepEqual(log, ['open']);
  conn.send({ type: 'open', doc: 'd' });
  last().msg({ type: 'authenticated', sub: 'ann', name: 'Ann', exp: 99 });
  assert.deepEqual(conn.identity, { sub: 'ann', name: 'Ann', exp: 99, guest: false });
  // The expiry warning is the connection's business: a fresh token is
  // sent, and the page does not see the warning.
  last().msg({ type: 'error', code: 'unauthorized', message: 'token expires at …' });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(last().sent.at(-1), { type: 'auth', token: 'tok2' });
  assert.equal(log.filter((m) => m.type === 'error').length, 0);
  // A refusal for a document is the page's.
  last().msg({ type: 'error', code: 'forbidden', doc: 'd', message: 'no' });
  assert.equal(log.at(-1).code, 'forbidden');
  // A close 4401 (expired) reconnects with a fresh token.
  last().drop(4401);
  assert.deepEqual(conn.lastClose, { code: 4401, reason: '' });
});

test('getToken failing drops the attempt and retries later', async () => {
  const { conn, sockets, advance, last } = env({ heartbeatMs: 0, getToken: () => Promise.reject(new Error('signed out')) });
  conn.start();
  last().open();
  await new Promise((r) => setImmediate(r));
  assert.equal(conn.state, 'waiting');
  assert.equal(last().sent.length, 0);
  advance(500);
  assert.equal(sockets.length, 2);
});

test('getToken: a refused refresh is not retried in a loop', async () => {
  let n = 0;
  const { conn, last } = env({ heartbeatMs: 0, getToken: async () => `tok${++n}` });
  conn.start();
  last().open();
  await new Promise((r) => setImmediate(r));
  last().msg({ type: 'authenticated', sub: 'ann', name: 'Ann', exp: 99 });
  last().msg({ type: 'error', code: 'unauthorized', message: 'token expires at …' });
  await new Promise((r) => setImmediate(r));
  assert.equal(last().sent.filter((m) => m.type === 'auth').length, 2);
  // The refresh is refused (another user, say): no third token.
  last().msg({ type: 'error', code: 'unauthorized', message: 'a refresh must be for the same user' });
  await new Promise((r) => setImmediate(r));
  assert.equal(last().sent.filter((m) => m.type === 'auth').length, 2);
  assert.equal(n, 2);
});
