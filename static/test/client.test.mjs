// Tests of static/client.js: the DocClient state machine driven by
// hand-written server messages, plus a randomised simulation against a tiny
// in-test server that sequences ops with ot.js's transform.
// Run: node --test static/test/
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { apply, transform, transformIndex } from '../ot.js';
import { DocClient, Backoff, diff, invert, transformSelection, baseIndex } from '../client.js';

// fakeTimers returns a setTimeout replacement whose callbacks run on fire().
function fakeTimers() {
  const q = [];
  return {
    q,
    setTimeout: (fn, ms) => { q.push({ fn, ms }); return q.length; },
    fire() { const t = q.shift(); if (t) t.fn(); return t; },
  };
}

// mk returns a client on doc "d" with a recorded send, already holding a
// snapshot of text at version.
function mk(text = '', version = 0, extra = {}) {
  const sent = [];
  const changes = [];
  const statuses = [];
  const errors = [];
  const timers = fakeTimers();
  const c = new DocClient({
    doc: 'd', clientId: 'me', send: (m) => sent.push(m),
    onChange: (e) => changes.push(e), onStatus: (s) => statuses.push(s),
    onError: (e) => errors.push(e), setTimeout: timers.setTimeout,
    backoff: new Backoff({ jitter: 0 }), minSendIntervalMs: 0, ...extra,
  });
  c.open();
  assert.deepEqual(sent.shift(), { type: 'open', doc: 'd', presence: true, limits: true });
  c.receive({ type: 'snapshot', doc: 'd', version, text });
  return { c, sent, changes, statuses, errors, timers };
}

const ops = (sent) => sent.filter((m) => m.type === 'op');

test('simple edit then ack', () => {
  const { c, sent, statuses } = mk('Hello', 3);
  assert.equal(c.status, 'saved');
  c.edit([5, ' world']);
  assert.equal(c.text, 'Hello world');
  assert.equal(c.status, 'saving');
  assert.ok(c.pending);
  assert.deepEqual(sent, [{ type: 'op', doc: 'd', version: 3, id: 'me:1', op: [5, ' world'] }]);
  c.receive({ type: 'ack', doc: 'd', id: 'me:1', version: 3 });
  assert.equal(c.version, 4);
  assert.equal(c.confirmed, 'Hello world');
  assert.equal(c.pending, false);
  assert.equal(c.status, 'saved');
  assert.deepEqual(statuses, ['saved', 'saving', 'saved']);
  // Messages for other documents are ignored.
  c.receive({ type: 'op', doc: 'other', version: 4, id: 'x:1', op: ['!'] });
  assert.equal(c.text, 'Hello world');
});

test('pipelining: edits while one is in flight go out as one composed op', () => {
  const { c, sent } = mk('', 0);
  c.edit(['a']);
  c.edit([1, 'b']);
  c.edit([2, 'c']);
  c.edit([1, -1]);
  assert.equal(c.text, 'ac');
  assert.equal(ops(sent).length, 1);
  c.receive({ type: 'ack', doc: 'd', id: 'me:1', version: 0 });
  assert.deepEqual(ops(sent)[1], { type: 'op', doc: 'd', version: 1, id: 'me:2', op: [1, 'c'] });
  c.receive({ type: 'ack', doc: 'd', id: 'me:2', version: 1 });
  assert.equal(c.confirmed, 'ac');
  assert.equal(c.version, 2);
  assert.equal(ops(sent).length, 2);
  // A late duplicate ack is ignored.
  c.receive({ type: 'ack', doc: 'd', id: 'me:1', version: 0 });
  assert.equal(c.version, 2);
});

test('remote op transforms the in-flight op and the buffer (emoji, ties)', () => {
  const { c, sent, changes } = mk('Hi 😀!', 5);
  c.edit([4, '?']); // in flight: "Hi 😀?!"
  c.edit([6, ' 👍🏽']); // buffer: "Hi 😀?! 👍🏽"
  assert.equal(c.text, 'Hi 😀?! 👍🏽');
  // Someone inserts at 4 too (tie with our in-flight insert: ours first)
  // and deletes the emoji.
  c.receive({ type: 'op', doc: 'd', version: 5, id: 'z:1', op: [3, -1, '🇫🇷'], author: 'z' });
  assert.equal(c.confirmed, 'Hi 🇫🇷!');
  assert.equal(c.text, 'Hi 🇫🇷?! 👍🏽'); // the remote insert is before the emoji, ours after
  assert.equal(c.version, 6);
  const ev = changes.at(-1);
  assert.equal(ev.remote, true);
  assert.equal(apply('Hi 😀?! 👍🏽', ev.op), c.text);
  // A caret after "?" stays after it ("🇫🇷" is 2 code points).
  assert.deepEqual(transformSelection({ anchor: 5, head: 5 }, ev.op), { anchor: 6, head: 6 });
  c.receive({ type: 'ack', doc: 'd', id: 'me:1', version: 6 });
  assert.deepEqual(ops(sent)[1], { type: 'op', doc: 'd', version: 7, id: 'me:2', op: [7, ' 👍🏽'] });
  assert.equal(apply(c.confirmed, ops(sent)[1].op), c.text);
});

test('transformSelection: a range never takes in text inserted at its edges (emoji)', () => {
  // "a😀b" with "😀b" selected forwards (anchor 1, head 3).
  const fwd = { anchor: 1, head: 3 };
  // Someone types "🎉" right after the selection, and "x" right before it.
  assert.deepEqual(transformSelection(fwd, [3, '🎉']), { anchor: 1, head: 3 });
  assert.deepEqual(transformSelection(fwd, [1, 'x']), { anchor: 2, head: 4 });
  // Inside it, the range grows; the direction is kept.
  assert.deepEqual(transformSelection({ anchor: 3, head: 1 }, [2, '🎉🎉']), { anchor: 5, head: 1 });
  assert.deepEqual(transformSelection({ anchor: 3, head: 1 }, [3, 'y']), { anchor: 3, head: 1 });
  // A caret is pushed after text typed exactly at it.
  assert.deepEqual(transformSelection({ anchor: 3, head: 3 }, [3, 'y']), { anchor: 4, head: 4 });
  // The selected text deleted and replaced: the range collapses, never inverts.
  assert.deepEqual(transformSelection(fwd, [1, 'z', -2]), { anchor: 2, head: 2 });
});

test('tie rule: the §3 example', () => {
  const { c } = mk('Oh, Hello!', 3);
  c.edit([10, ' ok']);
  c.receive({ type: 'op', doc: 'd', version: 3, id: 'bob:2', op: [10, ' 😀'] });
  assert.equal(c.text, 'Oh, Hello! ok 😀');
});

test('reconnect: reopen with version, own op in catch-up is the ack', () => {
  const { c, sent, statuses } = mk('Oh, Hello!', 3);
  c.edit([10, ' ok']);
  sent.length = 0;
  c.disconnected();
  assert.equal(c.status, 'offline');
  c.edit(['>']); // buffered while offline
  assert.deepEqual(sent, []);
  c.connected();
  assert.deepEqual(sent.shift(), { type: 'open', doc: 'd', presence: true, limits: true, version: 3 });
  c.receive({ type: 'op', doc: 'd', version: 3, id: 'bob:2', op: [10, ' 😀'] });
  c.receive({ type: 'op', doc: 'd', version: 4, id: 'me:1', op: [10, ' ok'] });
  assert.equal(c.version, 5);
  c.receive({ type: 'opened', doc: 'd', version: 5 });
  assert.deepEqual(sent, [{ type: 'op', doc: 'd', version: 5, id: 'me:2', op: ['>'] }]);
  c.receive({ type: 'ack', doc: 'd', id: 'me:1', version: 4 }); // duplicate
  c.receive({ type: 'ack', doc: 'd', id: 'me:2', version: 5 });
  assert.equal(c.text, '>Oh, Hello! ok 😀');
  assert.equal(c.confirmed, c.text);
  assert.ok(statuses.includes('offline') && statuses.at(-1) === 'saved');
  assert.deepEqual([c.stats.ownOps, c.stats.resends], [1, 0]);
});

test('reconnect: in-flight op resent after opened, transformed, same id', () => {
  const { c, sent } = mk('abc', 1);
  c.edit([3, 'X']);
  c.disconnected();
  c.connected();
  sent.length = 0;
  c.receive({ type: 'op', doc: 'd', version: 1, id: 'o:1', op: ['123'] });
  c.receive({ type: 'opened', doc: 'd', version: 2 });
  assert.deepEqual(sent, [{ type: 'op', doc: 'd', version: 2, id: 'me:1', op: [6, 'X'] }]);
  assert.deepEqual([c.stats.ownOps, c.stats.resends], [0, 1]);
});

test('own op id seen in the live stream counts as ack', () => {
  const { c, sent } = mk('', 0);
  c.edit(['a']);
  c.edit([1, 'b']);
  c.receive({ type: 'op', doc: 'd', version: 0, id: 'me:1', op: ['a'] });
  assert.equal(c.version, 1);
  assert.deepEqual(ops(sent)[1], { type: 'op', doc: 'd', version: 1, id: 'me:2', op: [1, 'b'] });
});

test('unavailable: resend the same id after a backoff', () => {
  const { c, sent, timers, errors } = mk('x', 1);
  c.edit([1, 'y']);
  c.receive({ type: 'error', doc: 'd', id: 'me:1', code: 'unavailable', message: 'storage' });
  assert.equal(ops(sent).length, 1);
  assert.equal(timers.q.length, 1);
  assert.equal(timers.q[0].ms, 500);
  // A remote op arrives meanwhile: the resend is transformed to the new version.
  c.receive({ type: 'op', doc: 'd', version: 1, id: 'o:1', op: ['>'] });
  timers.fire();
  assert.deepEqual(ops(sent)[1], { type: 'op', doc: 'd', version: 2, id: 'me:1', op: [2, 'y'] });
  c.receive({ type: 'error', id: undefined, code: 'rate_limited', message: 'slow down' });
  assert.equal(timers.q[0].ms, 1000);
  timers.fire();
  assert.deepEqual(ops(sent)[2], ops(sent)[1]);
  c.receive({ type: 'ack', doc: 'd', id: 'me:1', version: 2 });
  assert.equal(c.text, '>xy');
  assert.equal(c.status, 'saved');
  assert.deepEqual(errors, []);
});

test('invalid_op: drop the op, undo it, resync and rebase the buffer', () => {
  const { c, sent, errors, changes } = mk('abc', 2);
  c.edit([3, 'X']);
  c.edit(['Y']);
  assert.equal(c.text, 'YabcX');
  sent.length = 0;
  c.receive({ type: 'error', doc: 'd', id: 'me:1', code: 'invalid_op', message: 'nope' });
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 'invalid_op');
  assert.equal(c.text, 'Yabc');
  assert.equal(changes.at(-1).undo, true);
  assert.deepEqual(sent, [{ type: 'open', doc: 'd', presence: true, limits: true }]);
  assert.equal(c.status, 'saving');
  // Ops are ignored until the snapshot, which contains them.
  c.receive({ type: 'op', doc: 'd', version: 2, id: 'o:1', op: [3, 'Z'] });
  c.receive({ type: 'snapshot', doc: 'd', version: 3, text: 'abcZ' });
  assert.equal(c.text, 'YabcZ');
  assert.deepEqual(ops(sent), [{ type: 'op', doc: 'd', version: 3, id: 'me:2', op: ['Y'] }]);
});

test('gap in versions: resync from a snapshot and rebase', () => {
  const { c, sent } = mk('abc', 2);
  c.edit([3, '!']);
  c.receive({ type: 'ack', doc: 'd', id: 'me:1', version: 2 });
  c.edit(['<']);
  sent.length = 0;
  c.receive({ type: 'op', doc: 'd', version: 9, id: 'o:1', op: ['zz'] });
  assert.deepEqual(sent, [{ type: 'open', doc: 'd', presence: true, limits: true }]);
  // The in-flight "<" (me:2) is of unknown fate: the snapshot triggers a probe.
  c.receive({ type: 'snapshot', doc: 'd', version: 10, text: 'abc!--' });
  assert.deepEqual(sent.at(-1), { type: 'op', doc: 'd', version: 3, id: 'me:2', op: ['<'] });
  c.receive({ type: 'error', doc: 'd', id: 'me:2', code: 'bad_version', message: 'too old' });
  assert.equal(c.text, '<abc!--');
  assert.deepEqual(sent.at(-1), { type: 'op', doc: 'd', version: 10, id: 'me:3', op: ['<'] });
});

test('snapshot while pending: probe acked before the snapshot version', () => {
  const { c, sent, errors } = mk('base', 4);
  c.edit([4, '1']); // in flight me:1 at 4
  c.edit([5, '2']); // buffer
  sent.length = 0;
  // Unsolicited snapshot at 7; the server already has our op (at 5).
  c.receive({ type: 'snapshot', doc: 'd', version: 7, text: 'base1YZ' });
  assert.equal(c.state, 'probing');
  assert.deepEqual(sent, [{ type: 'op', doc: 'd', version: 4, id: 'me:1', op: [4, '1'] }]);
  // Ops after the snapshot are queued until the probe is answered.
  c.receive({ type: 'op', doc: 'd', version: 7, id: 'o:9', op: ['>'] });
  c.receive({ type: 'ack', doc: 'd', id: 'me:1', version: 5 });
  assert.equal(c.state, 'ready');
  assert.equal(c.version, 8);
  assert.equal(c.confirmed, '>base1YZ');
  assert.equal(c.text, '>base12YZ'); // our pending insert wins the tie with the diff
  assert.deepEqual(sent.at(-1), { type: 'op', doc: 'd', version: 8, id: 'me:2', op: [6, '2'] });
  assert.deepEqual(errors, []);
});

test('snapshot while pending: probe refused with bad_version (not applied)', () => {
  const { c, sent } = mk('base', 4);
  c.edit([4, '1']);
  c.edit([5, '2']);
  sent.length = 0;
  c.receive({ type: 'snapshot', doc: 'd', version: 7, text: 'Xbase' });
  c.receive({ type: 'error', doc: 'd', id: 'me:1', code: 'bad_version', message: 'old' });
  assert.equal(c.text, 'Xbase12');
  assert.deepEqual(sent.at(-1), { type: 'op', doc: 'd', version: 7, id: 'me:2', op: [5, '12'] });
});

test('snapshot while pending: probe applied after the snapshot → fresh snapshot', () => {
  const { c, sent } = mk('base', 4);
  c.edit([4, '1']);
  sent.length = 0;
  c.receive({ type: 'snapshot', doc: 'd', version: 7, text: 'Xbase' });
  c.receive({ type: 'ack', doc: 'd', id: 'me:1', version: 7 });
  assert.deepEqual(sent.at(-1), { type: 'open', doc: 'd', presence: true, limits: true });
  c.receive({ type: 'snapshot', doc: 'd', version: 8, text: 'Xbase1' });
  assert.equal(c.text, 'Xbase1');
  assert.equal(c.pending, false);
  assert.equal(c.status, 'saved');
  assert.equal(ops(sent).length, 1); // only the probe
});

test('bad_version in ready: reopen with version, then resend', () => {
  const { c, sent } = mk('a', 1);
  c.edit([1, 'b']);
  sent.length = 0;
  c.receive({ type: 'error', doc: 'd', id: 'me:1', code: 'bad_version', message: 'x' });
  assert.deepEqual(sent, [{ type: 'open', doc: 'd', presence: true, limits: true, version: 1 }]);
  c.receive({ type: 'opened', doc: 'd', version: 1 });
  assert.deepEqual(sent.at(-1), { type: 'op', doc: 'd', version: 1, id: 'me:1', op: [1, 'b'] });
});

test('presence: roster, updates, moving selections, resend after reconnect', () => {
  const peersSeen = [];
  const { c, sent } = mk('Hello world', 1, { onPresence: (p) => peersSeen.push(new Map(p)) });
  c.setPresence({ name: 'Me', color: '#000', selection: { anchor: 5, head: 5 } });
  assert.deepEqual(sent.at(-1), {
    type: 'presence', doc: 'd', session: 'me', version: 1, name: 'Me', color: '#000',
    selection: { anchor: 5, head: 5 },
  });
  c.receive({ type: 'roster', doc: 'd', peers: [
    { session: 'me', version: 1 },
    { session: 'z', name: 'Bob', selection: { anchor: 6, head: 11 }, version: 1 },
  ] });
  assert.deepEqual([...c.peers.keys()], ['z']);
  c.receive({ type: 'op', doc: 'd', version: 1, id: 'z:1', op: [5, ','] });
  assert.deepEqual(c.peers.get('z').selection, { anchor: 7, head: 12 });
  assert.equal(c.peers.get('z').version, 2);
  c.edit(['>']);
  assert.deepEqual(c.peerSelection('z'), { anchor: 8, head: 13 });
  c.receive({ type: 'presence', doc: 'd', peer: { session: 'y', version: 2 } });
  c.receive({ type: 'left', doc: 'd', session: 'z' });
  assert.deepEqual([...c.peers.keys()], ['y']);
  assert.ok(peersSeen.length >= 3);
  sent.length = 0;
  c.disconnected();
  c.connected();
  assert.equal(sent[0].type, 'open');
  assert.equal(sent[1].type, 'presence');
  // Our caret was moved through the remote op (5 → 6) and our own edit
  // (→ 7 on the local text), but it is reported in the coordinates of
  // version 2, which does not have our unacknowledged '>' yet (§13): 6.
  assert.deepEqual(sent[1].selection, { anchor: 6, head: 6 });
});

test('presence refused because an old connection holds our session: sent again quietly', () => {
  const { c, sent, errors, timers } = mk('Hello', 1);
  c.setPresence({ name: 'Me', selection: { anchor: 5, head: 5 } });
  sent.length = 0;
  const refusal = { type: 'error', code: 'forbidden', doc: 'd', session: 'me', message: 'presence session "me" is held by another connection' };
  c.receive(refusal);
  c.receive(refusal); // one resend is armed, however many refusals arrive
  assert.equal(errors.length, 0);
  assert.equal(sent.length, 0);
  assert.equal(timers.q.length, 1);
  assert.ok(timers.fire());
  assert.equal(sent.at(-1).type, 'presence');
  // Another refusal of our presence is a bug worth reporting.
  c.receive({ type: 'error', code: 'bad_request', doc: 'd', session: 'me', message: 'selection past the end' });
  assert.equal(errors.length, 1);
});

test('helpers: diff, invert, Backoff', () => {
  for (const [a, b] of [['', 'x'], ['abc', 'abc'], ['a😀c', 'a🇫🇷c'], ['hello', 'help'], ['xyz', '']]) {
    assert.equal(apply(a, diff(a, b)), b);
    const op = diff(a, b);
    assert.equal(apply(b, invert(a, op)), a);
  }
  const bo = new Backoff({ min: 100, max: 1000, jitter: 0 });
  assert.deepEqual([bo.next(), bo.next(), bo.next(), bo.next(), bo.next()], [100, 200, 400, 800, 1000]);
  bo.reset();
  assert.equal(bo.next(), 100);
});

// ---- randomised simulation ------------------------------------------------------

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// A tiny server for one document "d": it sequences ops with ot.js's
// transform, detects duplicate ids, keeps a short history (maxCatchUp) and
// can fail with unavailable or answer a reopen with a snapshot.
class SimServer {
  constructor(rnd) {
    this.rnd = rnd;
    this.text = '';
    this.history = []; // {id, op, author}
    this.applied = new Map(); // id → version
    this.conns = new Set();
    this.maxCatchUp = 25;
  }

  get version() { return this.history.length; }

  connect() {
    const conn = { inbox: [], outbox: [], open: false, alive: true };
    this.conns.add(conn);
    return conn;
  }

  drop(conn) {
    conn.alive = false;
    this.conns.delete(conn);
  }

  out(conn, msg) { conn.outbox.push(JSON.parse(JSON.stringify(msg))); }

  handle(conn, m) {
    const v = this.version;
    if (m.type === 'open') {
      const n = m.version;
      if (n === undefined || n > v || v - n > this.maxCatchUp || this.rnd() < 0.1) {
        this.out(conn, { type: 'snapshot', doc: 'd', version: v, text: this.text });
      } else {
        for (let i = n; i < v; i++) {
          const h = this.history[i];
          this.out(conn, { type: 'op', doc: 'd', version: i, id: h.id, op: h.op, author: h.author });
        }
        this.out(conn, { type: 'opened', doc: 'd', version: v });
      }
      conn.open = true;
      this.out(conn, { type: 'roster', doc: 'd', peers: [] });
      return;
    }
    if (m.type === 'presence') return;
    assert.equal(m.type, 'op');
    if (!conn.open) return this.out(conn, { type: 'error', code: 'not_open', doc: 'd', id: m.id });
    if (this.applied.has(m.id)) {
      return this.out(conn, { type: 'ack', doc: 'd', id: m.id, version: this.applied.get(m.id) });
    }
    if (m.version > v || v - m.version > this.maxCatchUp) {
      return this.out(conn, { type: 'error', code: 'bad_version', doc: 'd', id: m.id, message: '' });
    }
    if (this.rnd() < 0.05) {
      return this.out(conn, { type: 'error', code: 'unavailable', doc: 'd', id: m.id, message: '' });
    }
    let op = m.op;
    for (let i = m.version; i < v; i++) [op] = transform(op, this.history[i].op);
    this.text = apply(this.text, op); // throws on a client bug
    const author = m.id.slice(0, m.id.lastIndexOf(':'));
    this.history.push({ id: m.id, op, author });
    this.applied.set(m.id, v);
    for (const c of this.conns) {
      if (c === conn) this.out(c, { type: 'ack', doc: 'd', id: m.id, version: v });
      else if (c.open) this.out(c, { type: 'op', doc: 'd', version: v, id: m.id, op, author });
    }
  }

  // Sends a snapshot unsolicited, as after a reload from storage.
  reload(conn) {
    if (conn.open) this.out(conn, { type: 'snapshot', doc: 'd', version: this.version, text: this.text });
  }
}

function runSim(seed, steps) {
  const rnd = mulberry32(seed);
  const server = new SimServer(rnd);
  const timers = [];
  let clock = 0;
  let nextChar = 0;
  const inserted = [];
  const deleted = new Set();
  // Unique characters, half of them outside the BMP (surrogate pairs in JS).
  const uniq = () => {
    const n = nextChar++;
    const ch = String.fromCodePoint(n % 2 ? 0x20000 + n : 0x4e00 + n);
    inserted.push(ch);
    return ch;
  };
  const errors = [];
  const clients = ['a', 'b'].map((id) => {
    const cl = { id, conn: server.connect() };
    cl.c = new DocClient({
      doc: 'd', clientId: id,
      send: (m) => { if (cl.conn.alive) cl.conn.inbox.push(JSON.parse(JSON.stringify(m))); },
      onError: (e) => errors.push(e),
      // Fired timers move a shared clock on by their delay, so the paced
      // sends (minSendIntervalMs) come due as they would in real time.
      setTimeout: (fn, ms) => timers.push({ fn: () => { clock += ms; fn(); }, ms }),
      now: () => clock,
      backoff: new Backoff({ random: rnd }),
    });
    cl.c.open();
    return cl;
  });
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const check = (cl) => {
    const c = cl.c;
    if (c._inflight || c._buffer) {
      let t = c.confirmed;
      if (c._inflight && !c._inflight.applied) t = apply(t, c._inflight.op);
      else if (c._inflight) return; // applied, awaiting a snapshot
      if (c._buffer) t = apply(t, c._buffer);
      assert.equal(t, c.text, `client ${cl.id}: local != confirmed+pending`);
    } else if (c.state === 'ready') {
      assert.equal(c.confirmed, c.text);
    }
  };
  const deliver = (cl) => {
    const m = cl.conn.outbox.shift();
    if (m) cl.c.receive(m);
  };
  const process = (cl) => {
    const m = cl.conn.inbox.shift();
    if (m) server.handle(cl.conn, m);
  };
  const reconnect = (cl) => {
    cl.conn = server.connect();
    cl.c.connected();
  };
  const edit = (cl) => {
    const c = cl.c;
    if (c.state === 'detached' && c.version === 0 && c.text === '' && !c._have) return;
    const cps = Array.from(c.text);
    const pos = Math.floor(rnd() * (cps.length + 1));
    if (cps.length > 0 && rnd() < 0.35) {
      const n = 1 + Math.floor(rnd() * Math.min(3, cps.length - Math.min(pos, cps.length - 1)));
      const at = Math.min(pos, cps.length - 1);
      const len = Math.min(n, cps.length - at);
      for (const ch of cps.slice(at, at + len)) deleted.add(ch);
      c.edit(at > 0 ? [at, -len] : [-len]);
    } else {
      // Ties are frequent: both clients often type at the start or end.
      const p = rnd() < 0.3 ? 0 : rnd() < 0.5 ? cps.length : pos;
      let s = '';
      const k = 1 + Math.floor(rnd() * 2);
      for (let i = 0; i < k; i++) s += uniq();
      c.edit(p > 0 ? [p, s] : [s]);
    }
  };

  for (let step = 0; step < steps; step++) {
    const cl = pick(clients);
    const r = rnd();
    if (r < 0.25) {
      if (cl.c._have) edit(cl);
    } else if (r < 0.55) deliver(cl);
    else if (r < 0.8) process(cl);
    else if (r < 0.86) {
      if (timers.length) timers.splice(Math.floor(rnd() * timers.length), 1)[0].fn();
    } else if (r < 0.93) {
      if (cl.conn.alive) {
        // The connection drops: queued messages both ways are lost.
        server.drop(cl.conn);
        cl.c.disconnected();
      } else reconnect(cl);
    } else if (r < 0.96) {
      server.reload(cl.conn);
    } else if (!cl.conn.alive) reconnect(cl);
    check(cl);
  }

  // Quiesce: reconnect everybody, then deliver until nothing moves.
  for (const cl of clients) if (!cl.conn.alive) reconnect(cl);
  for (let round = 0; round < 10000; round++) {
    let moved = false;
    for (const cl of clients) {
      if (cl.conn.inbox.length) { process(cl); moved = true; }
      if (cl.conn.outbox.length) { deliver(cl); moved = true; }
      check(cl);
    }
    if (!moved && timers.length) { timers.shift().fn(); moved = true; }
    if (!moved) break;
  }
  for (const cl of clients) {
    assert.equal(cl.c.pending, false, `client ${cl.id} still has pending edits`);
    assert.equal(cl.c.text, server.text, `client ${cl.id} diverged`);
    assert.equal(cl.c.version, server.version);
    assert.equal(cl.c.status, 'saved');
  }
  // No edit lost or doubled: every inserted (unique) character appears at
  // most once, and a missing one was deleted by someone.
  const final = Array.from(server.text);
  const counts = new Map();
  for (const ch of final) counts.set(ch, (counts.get(ch) || 0) + 1);
  for (const ch of inserted) {
    const n = counts.get(ch) || 0;
    assert.ok(n <= 1, `character ${ch} doubled`);
    if (n === 0) assert.ok(deleted.has(ch), `character U+${ch.codePointAt(0).toString(16)} lost`);
  }
  assert.equal(new Set(server.history.map((h) => h.id)).size, server.history.length);
  assert.deepEqual(errors, []);
  return { server, clients, inserted };
}

test('simulation: two clients converge with the server (fixed seeds)', () => {
  let totalOps = 0;
  let probes = 0;
  let resyncs = 0;
  for (const seed of [1, 2, 3, 42, 1234, 98765]) {
    const { server, clients } = runSim(seed, 200);
    totalOps += server.version;
    for (const cl of clients) {
      probes += cl.c.stats.probes;
      resyncs += cl.c.stats.resyncs;
    }
  }
  assert.ok(totalOps > 30, `only ${totalOps} ops sequenced`);
  assert.ok(probes > 0, 'the probe path (§7.4) was not exercised');
  assert.ok(resyncs > 0, 'the resync path was not exercised');
});

test('simulation: longer run', () => {
  for (let seed = 100; seed < 130; seed++) runSim(seed, 600);
});

test('baseIndex maps positions back through an op', () => {
  // op turns "abcdef" into "aXYbef": retain 1, insert "XY", retain 1, delete 2.
  const op = [1, 'XY', 1, -2];
  assert.equal(apply('abcdef', op), 'aXYbef');
  const cases = [
    [0, 0], // before everything
    [1, 1], // at the insertion point
    [2, 1], // inside the inserted text: the insertion point
    [3, 1], // right after the inserted text: still the insertion point
    [4, 4], // between "b" and "e": after the deleted "cd"
    [5, 5], // after "e"
    [6, 6], // the end
    [9, 6], // past the end is clamped by the caller's text, not here: stays past
  ];
  for (const [pos, want] of cases.slice(0, -1)) assert.equal(baseIndex(pos, op), want, `pos ${pos}`);
  // Astral characters count once, as on the wire.
  assert.equal(baseIndex(2, ['😀🎉']), 0);
  assert.equal(baseIndex(3, ['😀🎉']), 1);
  assert.equal(baseIndex(3, [1, '😀🎉']), 1);
  assert.equal(baseIndex(4, [1, '😀🎉']), 2);
  // Round trip: every position of the result maps to a base position that
  // op carries back to it (a position next to a delete has two such base
  // positions, either will do).
  for (const [text, o] of [['héllo wörld', [2, '😀', 3, -1]], ['abc', ['x', 3, 'y']], ['🇫🇷ab', [2, 'z', -1]]]) {
    const n = [...text].length;
    for (let p = 0; p <= n; p++) {
      const q = transformIndex(p, o, true);
      assert.equal(transformIndex(baseIndex(q, o), o, true), q, `${text} ${p}`);
    }
  }
});

test('presence: our selection is reported on the server version while edits are pending', () => {
  const { c, sent } = mk('Hello world', 4);
  c.edit([5, ' big']); // in flight: "Hello big world"
  c.edit([15, '!']); // buffered: "Hello big world!"
  c.setPresence({ name: 'Me', selection: { anchor: 10, head: 16 } }); // "world!" on screen
  const m = sent.at(-1);
  assert.equal(m.type, 'presence');
  assert.equal(m.version, 4);
  assert.deepEqual(m.selection, { anchor: 6, head: 11 }); // "world" at version 4
  c.receive({ type: 'ack', doc: 'd', id: 'me:1', version: 4 });
  c.setPresence({ name: 'Me', selection: { anchor: 10, head: 16 } });
  assert.deepEqual(sent.at(-1).selection, { anchor: 10, head: 15 });
  assert.equal(sent.at(-1).version, 5);
});

test('presence: a peer update behind our version is brought forward through recent ops', () => {
  const { c } = mk('abc', 1);
  c.receive({ type: 'op', doc: 'd', version: 1, id: 'x:1', op: ['>>'] });
  c.edit([5, '!']);
  c.receive({ type: 'ack', doc: 'd', id: 'me:1', version: 2 });
  assert.equal(c.version, 3);
  // Sent at version 1, before the peer saw ">>" and our "!".
  c.receive({ type: 'presence', doc: 'd', peer: { session: 'p', selection: { anchor: 1, head: 3 }, version: 1 } });
  // "bc" moved through ">>"; our "!" typed exactly at its end stays out
  // of it (a range does not take in text inserted at its edges).
  assert.deepEqual(c.peerSelection('p'), { anchor: 3, head: 5 });
  assert.equal(c.peers.get('p').version, 3);
  // Older than anything remembered (before the first snapshot): hidden
  // until the peer's next update.
  c.receive({ type: 'presence', doc: 'd', peer: { session: 'q', selection: { anchor: 0, head: 0 }, version: 0 } });
  assert.equal(c.peerSelection('q'), null);
  // Ahead of us: shown once we have the ops.
  c.receive({ type: 'presence', doc: 'd', peer: { session: 'r', selection: { anchor: 1, head: 1 }, version: 4 } });
  assert.equal(c.peerSelection('r'), null);
  c.receive({ type: 'op', doc: 'd', version: 3, id: 'x:2', op: ['_'] });
  assert.deepEqual(c.peerSelection('r'), { anchor: 1, head: 1 });
  assert.deepEqual(c.peerSelection('p'), { anchor: 4, head: 6 });
  // A snapshot forgets the ops: a stale update can no longer be placed.
  c.receive({ type: 'op', doc: 'd', version: 9, id: 'x:9', op: ['gap'] }); // a gap: resync
  c.receive({ type: 'snapshot', doc: 'd', version: 12, text: 'fresh' });
  c.receive({ type: 'presence', doc: 'd', peer: { session: 'p', selection: { anchor: 1, head: 1 }, version: 11 } });
  assert.equal(c.peerSelection('p'), null);
});

test('loaded and onVersion', () => {
  const versions = [];
  const sent = [];
  const c = new DocClient({ doc: 'd', clientId: 'me', send: (m) => sent.push(m), onVersion: (v) => versions.push(v) });
  assert.equal(c.loaded, false);
  assert.throws(() => c.edit(['x']));
  c.open();
  c.receive({ type: 'snapshot', doc: 'd', version: 7, text: 'abc' });
  assert.equal(c.loaded, true);
  c.edit(['x']);
  c.receive({ type: 'ack', doc: 'd', id: 'me:1', version: 7 });
  c.receive({ type: 'op', doc: 'd', version: 8, id: 'z:1', op: ['y'] });
  assert.deepEqual(versions, [7, 8, 9]);
});

test('splitOp: pieces that fit the budget and compose back to the op', async () => {
  const { splitOp, insertedBytes } = await import('../client.js');
  const { compose } = await import('../ot.js');
  const big = 'ab\n"😀é'.repeat(1000);
  const op = [5, big, -3, 7, 'tail'];
  let rest = op;
  const pieces = [];
  while (rest) {
    const [head, tail] = splitOp(rest, 1000);
    assert.ok(JSON.stringify(head).length <= 1000 + 10, `piece of ${JSON.stringify(head).length}`);
    pieces.push(head);
    rest = tail;
  }
  assert.ok(pieces.length > 10);
  const base = 'x'.repeat(20);
  let t = base;
  for (const p of pieces) t = apply(t, p);
  assert.equal(t, apply(base, op));
  assert.deepEqual(pieces.reduce((a, b) => compose(a, b)), op);
  assert.deepEqual(splitOp([3, 'small'], 1000), [[3, 'small'], null]);
  assert.equal(insertedBytes(['aé😀', 5, -2, '€']), 1 + 2 + 4 + 3);
});

test('a large op goes out in pieces that each fit one frame; typing meanwhile is kept', () => {
  const { c, sent } = mk('', 1, { limits: { maxMessageBytes: 8192 } });
  const paste = 'p'.repeat(10000);
  c.edit([paste]);
  c.edit([10000, '!']);
  const out = () => ops(sent);
  for (let i = 0; i < 10 && c.pending; i++) {
    const m = out().at(-1);
    assert.ok(JSON.stringify(m).length <= 8192, `frame of ${JSON.stringify(m).length} bytes`);
    c.receive({ type: 'ack', doc: 'd', id: m.id, version: c.version });
  }
  assert.equal(out().length, 3);
  assert.equal(c.confirmed, paste + '!');
  assert.equal(c.status, 'saved');
});

test('too_large with the op id: the op is undone, later edits kept and rebased', () => {
  const { c, sent, errors, changes } = mk('abc', 1);
  c.edit([1, 'XYZ']);
  c.edit([6, '.']);
  c.receive({ type: 'error', doc: 'd', id: 'me:1', code: 'too_large', message: 'document too long' });
  assert.equal(errors.length, 1);
  assert.equal(c.text, 'abc.');
  assert.deepEqual(changes.at(-1).op, [1, -3]);
  assert.equal(c.status, 'saving'); // resync on its way
  c.receive({ type: 'snapshot', doc: 'd', version: 1, text: 'abc' });
  const last = ops(sent).at(-1);
  assert.deepEqual(last.op, [3, '.']);
  c.receive({ type: 'ack', doc: 'd', id: last.id, version: 1 });
  assert.equal(c.status, 'saved');
  assert.equal(c.confirmed, 'abc.');
});

test('paced sends: edits within minSendIntervalMs of the last op are composed into the next', () => {
  let t = 1000;
  const { c, sent, timers } = mk('', 0, { minSendIntervalMs: 50, now: () => t });
  c.edit(['a']); // nothing sent for 50 ms: goes at once
  assert.equal(ops(sent).length, 1);
  t += 5;
  c.edit([1, 'b']);
  // Acked 5 ms after it was sent: the buffer waits for the other 45 ms.
  c.receive({ type: 'ack', doc: 'd', id: 'me:1', version: 0 });
  assert.equal(timers.q.length, 1);
  assert.equal(timers.q[0].ms, 45);
  t += 5;
  c.edit([2, 'c']);
  assert.equal(ops(sent).length, 1);
  assert.equal(c.status, 'saving');
  c.edit([3, 'd']);
  assert.equal(timers.q.length, 1, 'one timer however many edits');
  t += 40;
  timers.fire();
  assert.deepEqual(ops(sent).at(-1), { type: 'op', doc: 'd', version: 1, id: 'me:2', op: [1, 'bcd'] });
  c.receive({ type: 'ack', doc: 'd', id: 'me:2', version: 1 });
  assert.equal(c.status, 'saved');
  // A key 100 ms later (a typist's pace) goes at once.
  t += 100;
  c.edit([4, 'e']);
  assert.equal(ops(sent).length, 3);
  assert.equal(timers.q.length, 0);
});

test('paced sends: a timer firing offline sends nothing; the reconnect sends the buffer', () => {
  let t = 0;
  const { c, sent, timers } = mk('x', 4, { minSendIntervalMs: 50, now: () => t });
  c.edit([1, 'a']);
  c.receive({ type: 'ack', doc: 'd', id: 'me:1', version: 4 });
  c.edit([2, 'b']);
  assert.equal(timers.q.length, 1);
  c.disconnected();
  t += 50;
  timers.fire();
  assert.equal(ops(sent).length, 1);
  assert.equal(c.status, 'offline');
  c.connected();
  assert.deepEqual(sent.at(-1), { type: 'open', doc: 'd', presence: true, limits: true, version: 5 });
  c.receive({ type: 'opened', doc: 'd', version: 5 });
  assert.deepEqual(ops(sent).at(-1), { type: 'op', doc: 'd', version: 5, id: 'me:2', op: [2, 'b'] });
  assert.equal(c.text, 'xab');
});

test('limits announced by the server replace the defaults; bad values are ignored', () => {
  const { c, sent } = mk('', 0);
  c.receive({ type: 'limits', doc: 'd', maxMessageBytes: 4096, maxDocLen: 10, maxInsertBytes: 'lots', insertRate: 5 });
  assert.equal(c.limits.maxMessageBytes, 4096);
  assert.equal(c.limits.maxDocLen, 10);
  assert.equal(c.limits.maxInsertBytes, 2 << 20, 'a non-number keeps the default');
  c.receive({ type: 'limits', doc: 'other', maxDocLen: 99 });
  assert.equal(c.limits.maxDocLen, 10, 'limits for another document are not ours');
  c.edit(['0123456789']);
  assert.throws(() => c.edit([10, 'x']), (e) => e.code === 'too_large' && /10 the server allows/.test(e.message));
  assert.equal(c.text, '0123456789');
  assert.equal(ops(sent).length, 1);
});

test('access role read: edits refused in the page, nothing sent', () => {
  const roles = [];
  const { c, sent } = mk('abc', 2, { onAccess: (r) => roles.push(r) });
  c.receive({ type: 'access', doc: 'd', role: 'read' });
  assert.equal(c.role, 'read');
  assert.deepEqual(roles, ['read']);
  assert.throws(() => c.edit([3, 'x']), (e) => e.code === 'forbidden' && e.local);
  assert.equal(c.text, 'abc');
  assert.equal(ops(sent).length, 0);
  c.receive({ type: 'access', doc: 'd', role: 'write' }); // a refreshed token
  c.edit([3, 'x']);
  assert.equal(ops(sent).length, 1);
  assert.deepEqual(roles, ['read', 'write']);
});

test('lifecycle: a rename is an identity op with a title; a delete stops the client for good (§19)', () => {
  const events = [];
  const { c, sent, errors, timers } = mk('Hello', 3, { onLifecycle: (e) => events.push(e) });
  c.edit([5, '!']);
  assert.equal(ops(sent).length, 1);
  // The rename took version 3: our op is transformed over the identity.
  c.receive({ type: 'op', doc: 'd', version: 3, id: 'o:1', op: [], author: 'ann', lifecycle: { kind: 'rename', title: 'Greeting' } });
  assert.deepEqual(events, [{ kind: 'rename', title: 'Greeting', version: 3 }]);
  assert.equal(c.version, 4);
  assert.equal(c.text, 'Hello!');
  c.receive({ type: 'ack', doc: 'd', id: 'me:1', version: 4 });
  assert.equal(c.status, 'saved');
  c.edit([6, '?']); // in flight when the delete comes
  c.receive({ type: 'op', doc: 'd', version: 5, id: 'o:2', op: [], lifecycle: { kind: 'delete' } });
  c.receive({ type: 'error', doc: 'd', code: 'gone', message: 'this document was deleted' });
  c.receive({ type: 'error', doc: 'd', id: 'me:2', code: 'gone', message: 'this document was deleted' });
  assert.deepEqual(events.map((e) => e.kind), ['rename', 'delete']);
  assert.equal(c.deleted, true);
  assert.equal(c.status, 'deleted');
  assert.equal(errors.filter((e) => e.code === 'gone').length, 1, 'told once');
  assert.throws(() => c.edit([0, 'x']), (e) => e.code === 'gone' && e.local);
  // Nothing is resent, on a timer or after a reconnect.
  const before = sent.length;
  while (timers.fire());
  c.disconnected();
  c.connected();
  assert.equal(sent.length, before);
  assert.equal(c.status, 'deleted');
});
