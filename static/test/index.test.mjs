// Tests of static/index.js, the package's high-level API: connect, open
// documents (several on one connection), events, edits, presence, the
// textarea binding, close; over fake WebSockets talking to a small
// in-memory server that sequences ops as the real one does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  connect, VERSION, PROTOCOL_VERSION, CollabConnection, CollabDocument, DocClient, Connection, transform, apply,
} from '../index.js';
import { FakeTextarea } from './fake_textarea.mjs';

// server is an in-memory collab server for any number of documents and
// fake sockets; deliver() hands out the queued messages.
function server() {
  const docs = new Map(); // id → {text, history: [{id, op, author}]}
  const sockets = [];
  const queue = []; // [socket, message] not delivered yet
  const getDoc = (id) => {
    if (!docs.has(id)) docs.set(id, { text: '', history: [], peers: new Map() });
    return docs.get(id);
  };
  const out = (ws, msg) => queue.push([ws, JSON.parse(JSON.stringify(msg))]);
  class FakeWS {
    constructor(url) {
      this.url = url;
      this.open = new Set();
      sockets.push(this);
      queueMicrotask(() => this.onopen && this.onopen());
    }
    send(s) { handle(this, JSON.parse(s)); }
    close() { this.closed = true; }
  }
  function handle(ws, m) {
    if (m.type === 'ping') return out(ws, { type: 'pong', id: m.id });
    const d = getDoc(m.doc);
    if (m.type === 'open') {
      ws.open.add(m.doc);
      out(ws, { type: 'snapshot', doc: m.doc, version: d.history.length, text: d.text });
      out(ws, { type: 'roster', doc: m.doc, peers: [...d.peers.values()] });
      return;
    }
    if (m.type === 'close') {
      ws.open.delete(m.doc);
      return;
    }
    if (m.type === 'presence') {
      const peer = { session: m.session, name: m.name, color: m.color, selection: m.selection, version: m.version };
      d.peers.set(m.session, peer);
      for (const o of sockets) if (o !== ws && o.open.has(m.doc)) out(o, { type: 'presence', doc: m.doc, peer });
      return;
    }
    if (m.type !== 'op') return;
    let op = m.op;
    for (let i = m.version; i < d.history.length; i++) [op] = transform(op, d.history[i].op);
    if (m.op.some((c) => typeof c === 'string' && c.length > 100)) {
      return out(ws, { type: 'error', doc: m.doc, id: m.id, code: 'too_large', message: 'too big' });
    }
    d.text = apply(d.text, op);
    const v = d.history.length;
    const author = m.id.slice(0, m.id.lastIndexOf(':'));
    d.history.push({ id: m.id, op, author });
    for (const o of sockets) {
      if (!o.open.has(m.doc)) continue;
      if (o === ws) out(o, { type: 'ack', doc: m.doc, id: m.id, version: v });
      else out(o, { type: 'op', doc: m.doc, version: v, id: m.id, op, author });
    }
  }
  // deliver hands out queued messages (and what they cause) until none is left.
  async function deliver() {
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 0));
      if (!queue.length) {
        await new Promise((r) => setTimeout(r, 60)); // presence waits up to 50 ms
        if (!queue.length) return;
      }
      while (queue.length) {
        const [ws, msg] = queue.shift();
        if (!ws.closed && ws.onmessage) ws.onmessage({ data: JSON.stringify(msg) });
      }
    }
  }
  return { FakeWS, docs, sockets, deliver, getDoc };
}

const opts = (srv) => ({ WebSocket: srv.FakeWS, heartbeatMs: 0, watchNetwork: false });

test('VERSION is package.json\'s version, semver from 1.0.0', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  assert.equal(VERSION, pkg.version);
  assert.match(VERSION, /^[1-9]\d*\.\d+\.\d+$/);
  assert.equal(PROTOCOL_VERSION, 1);
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.exports['.'].import, './index.js');
  assert.equal(pkg.exports['./codemirror'].import, './codemirror.js');
  for (const f of pkg.files) {
    assert.doesNotThrow(() => readFileSync(new URL(`../${f}`, import.meta.url)), `package.json lists ${f}`);
  }
});

test('connect resolves URLs and exports the building blocks', () => {
  const srv = server();
  const c = connect('http://example.com/ws', opts(srv));
  assert.ok(c instanceof CollabConnection);
  assert.equal(c.url, 'ws://example.com/ws');
  c.close();
  assert.equal(c.state, 'stopped');
  assert.equal(connect('https://e.org/ws', opts(srv)).url, 'wss://e.org/ws');
  assert.throws(() => connect('/ws', opts(srv)), TypeError); // no location in node
  assert.equal(typeof DocClient, 'function');
  assert.equal(typeof Connection, 'function');
});

test('two connections edit one document and converge; events carry ops', async () => {
  const srv = server();
  srv.getDoc('notes').text = 'hé 👋';
  const a = connect('ws://h/ws', opts(srv));
  const b = connect('ws://h/ws', opts(srv));
  const da = a.open('notes');
  const db = b.open('notes');
  assert.ok(da instanceof CollabDocument);
  const statuses = [];
  da.on('status', (s) => statuses.push(s));
  const changesB = [];
  db.on('change', (ev) => changesB.push(ev));
  const loaded = da.whenLoaded();
  await srv.deliver();
  assert.equal(await loaded, 'hé 👋');
  assert.equal(da.text, 'hé 👋');
  assert.equal(da.status, 'saved');
  assert.deepEqual(statuses.slice(-1), ['saved']);
  assert.equal(changesB.length, 1);
  assert.equal(changesB[0].remote, true);
  assert.equal(changesB[0].snapshot, true);

  const changesA = [];
  da.on('change', (ev) => changesA.push(ev));
  da.insert(4, '!'); // after the emoji: code points
  assert.equal(da.text, 'hé 👋!');
  assert.equal(da.status, 'saving');
  assert.equal(da.pending, true);
  assert.deepEqual(changesA[0].op, [4, '!']);
  assert.equal(changesA[0].local, true);
  db.replace(0, 2, 'Hi');
  const saved = da.whenSaved();
  await srv.deliver();
  await saved;
  assert.equal(da.text, 'Hi 👋!');
  assert.equal(db.text, 'Hi 👋!');
  assert.equal(srv.docs.get('notes').text, 'Hi 👋!');
  assert.equal(da.version, 2);
  const remote = changesA.find((ev) => ev.remote);
  assert.deepEqual(remote.op, ['Hi', -2]);
  assert.equal(remote.author, db.session);
  da.setText('done');
  da.delete(0, 1);
  await srv.deliver();
  assert.equal(db.text, 'one');
  a.close();
  b.close();
  assert.equal(da.status, 'closed');
  assert.throws(() => da.insert(0, 'x'), /closed/);
});

test('several documents on one connection stay apart', async () => {
  const srv = server();
  const a = connect('ws://h/ws', opts(srv));
  const b = connect('ws://h/ws', opts(srv));
  const a1 = a.open('one');
  const a2 = a.open('two');
  const b1 = b.open('one');
  const b2 = b.open('two');
  assert.throws(() => a.open('one'), /already open/);
  await srv.deliver();
  a1.insert(0, 'first');
  a2.insert(0, 'second');
  b2.insert(0, '2: ');
  await srv.deliver();
  assert.equal(b1.text, 'first');
  assert.equal(b2.text, '2: second');
  assert.equal(a2.text, '2: second');
  assert.equal(srv.sockets.length, 2, 'one socket per connection');
  a1.close();
  assert.equal(a.documents.size, 1);
  b1.insert(5, '!');
  await srv.deliver();
  assert.equal(a1.text, 'first', 'a closed document takes no more ops');
  assert.equal(a2.text, '2: second');
  a.close();
  b.close();
});

test('presence: peers with names, safe colours and selections on the local text', async () => {
  const srv = server();
  srv.getDoc('p').text = '👋 hello';
  const a = connect('ws://h/ws', opts(srv));
  const b = connect('ws://h/ws', opts(srv));
  const da = a.open('p', { presence: { name: 'Ada', color: 'url(javascript:x)' } });
  const db = b.open('p', { presence: { name: 'Bob', color: '#1565c0' } });
  const seen = [];
  db.on('presence', (peers) => seen.push(peers));
  await srv.deliver();
  da.setSelection({ anchor: 2, head: 7 });
  await srv.deliver();
  const ada = db.peers.find((p) => p.name === 'Ada');
  assert.ok(ada, JSON.stringify(db.peers));
  assert.match(ada.color, /^#[0-9a-f]{6}$/i, 'an unsafe colour is replaced');
  assert.ok(ada.ink === '#fff' || ada.ink === '#000');
  assert.deepEqual(ada.selection, { anchor: 2, head: 7 });
  assert.ok(seen.length > 0);
  // Bob types before Ada's selection: it moves on Bob's screen at once.
  db.insert(0, '>> ');
  assert.deepEqual(db.peers.find((p) => p.name === 'Ada').selection, { anchor: 5, head: 10 });
  await srv.deliver();
  assert.deepEqual(db.peers.find((p) => p.name === 'Ada').selection, { anchor: 5, head: 10 });
  a.close();
  b.close();
});

test('errors: a refused edit is undone and reported; too_large before sending', async () => {
  const srv = server();
  const a = connect('ws://h/ws', opts(srv));
  const d = a.open('e', { limits: { maxInsertBytes: 1000 } });
  assert.throws(() => d.insert(0, 'x'), /not loaded/);
  await srv.deliver();
  const errors = [];
  d.on('error', (e) => errors.push(e));
  assert.throws(() => d.insert(0, 'y'.repeat(2000)), (e) => e.code === 'too_large');
  assert.equal(d.text, '');
  d.insert(0, 'z'.repeat(200)); // allowed here, refused by the fake server
  await srv.deliver();
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 'too_large');
  assert.equal(d.text, '');
  assert.equal(d.status, 'saved');
  a.close();
});

test('bindTextarea: typing is sent, remote edits land, destroy stops both', async () => {
  const srv = server();
  srv.getDoc('t').text = 'abc';
  const a = connect('ws://h/ws', opts(srv));
  const b = connect('ws://h/ws', opts(srv));
  const da = a.open('t');
  const db = b.open('t');
  const ta = new FakeTextarea('');
  const bound = da.bindTextarea(ta);
  assert.equal(ta.readOnly, true);
  await srv.deliver();
  assert.equal(ta.value, 'abc');
  assert.equal(ta.readOnly, false);
  const local = [];
  da.on('change', (ev) => { if (ev.local) local.push(ev); });
  ta.select(3);
  ta.type('X');
  assert.equal(da.text, 'abcX');
  assert.equal(local.length, 1);
  db.insert(0, '12');
  await srv.deliver();
  assert.equal(ta.value, '12abcX');
  assert.equal(db.text, '12abcX');
  bound.destroy();
  db.insert(0, '0');
  await srv.deliver();
  assert.equal(ta.value, '12abcX', 'a destroyed binding writes nothing');
  ta.select(0);
  ta.type('Y');
  assert.equal(da.text, '012abcX', 'and sends nothing');
  a.close();
  b.close();
});

test('the declarations name exactly what the modules export', async () => {
  for (const [js, dts] of [['../index.js', '../index.d.ts'], ['../codemirror.js', '../codemirror.d.ts']]) {
    const src = readFileSync(new URL(dts, import.meta.url), 'utf8');
    const declared = new Set();
    for (const m of src.matchAll(/^export (?:declare )?(?:const|function|class) (\w+)/gm)) declared.add(m[1]);
    for (const m of src.matchAll(/^export \{ (\w+) \}/gm)) declared.add(m[1]);
    if (js === '../codemirror.js') {
      // Needs @codemirror/* to import in node: compare by source.
      const code = readFileSync(new URL(js, import.meta.url), 'utf8');
      const exported = new Set([...code.matchAll(/^export (?:const|function|class) (\w+)/gm)].map((m) => m[1]));
      assert.deepEqual([...declared].sort(), [...exported].sort(), dts);
      continue;
    }
    const mod = await import(js);
    const runtime = Object.keys(mod).sort();
    assert.deepEqual([...declared].sort(), runtime, dts);
  }
});
