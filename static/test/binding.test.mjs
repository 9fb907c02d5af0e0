// Tests of static/binding.js: a textarea (fake, with the browser's
// selection and line-break rules) bound to a DocClient, driven like a
// user, with server messages written by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { DocClient, Backoff } from '../client.js';
import { TextareaBinding, editKind, editSpan } from '../binding.js';
import { FakeTextarea } from './fake_textarea.mjs';
import { apply } from '../ot.js';

// setup returns a textarea bound to a client holding text at version.
function setup(text = '', version = 0) {
  const sent = [];
  const ta = new FakeTextarea();
  let binding = null;
  const client = new DocClient({ minSendIntervalMs: 0,
    doc: 'd', clientId: 'me', send: (m) => sent.push(m),
    onChange: (ev) => binding.remote(ev.op), backoff: new Backoff({ jitter: 0 }),
    setTimeout: () => 0,
  });
  let renders = 0;
  binding = new TextareaBinding({ textarea: ta, client, onRender: () => renders++ });
  client.open();
  client.receive({ type: 'snapshot', doc: 'd', version, text });
  const ops = () => sent.filter((m) => m.type === 'op');
  let v = version;
  let seq = 0;
  // remote applies an op from someone else at the client's version.
  const remote = (op) => {
    v = client.version;
    client.receive({ type: 'op', doc: 'd', version: v, id: `peer:${++seq}`, op });
  };
  const ackAll = () => {
    for (let i = 0; i < 10 && client.pending; i++) {
      const last = ops().at(-1);
      client.receive({ type: 'ack', doc: 'd', id: last.id, version: client.version });
    }
  };
  return { ta, client, binding, sent, ops, remote, ackAll, renders: () => renders };
}

test('typing, emoji, paste and cut become ops in code points', () => {
  const { ta, client, ops, ackAll } = setup('Hello', 1);
  assert.equal(ta.value, 'Hello');
  ta.select(5);
  ta.type(' 😀');
  assert.deepEqual(ops()[0].op, [5, ' 😀']);
  ta.type('!'); // buffered while the first is in flight
  ackAll();
  assert.deepEqual(ops()[1].op, [7, '!']);
  ta.select(0, 5);
  ta.type('Two\nlines', 'insertFromPaste');
  ta.select(3, 4);
  ta.type('', 'deleteByCut');
  assert.equal(ta.value, 'Twolines 😀!');
  assert.equal(client.text, 'Twolines 😀!');
  ackAll();
  assert.equal(client.confirmed, 'Twolines 😀!');
  assert.equal(editKind([2, 'x']), 'insert');
  assert.equal(editKind([2, -1]), 'delete');
  assert.equal(editKind([2, 'x', -1]), 'other');
});

test('remote ops keep the local caret and selection on the same characters', () => {
  const { ta, remote } = setup('one two three', 1);
  ta.select(4, 7, 'backward'); // "two", head at 4
  remote(['😀 ']); // before: shifts right by 3 units (emoji is 2 + space)
  assert.equal(ta.value, '😀 one two three');
  assert.deepEqual([ta.selectionStart, ta.selectionEnd, ta.selectionDirection], [7, 10, 'backward']);
  remote([6, -4]); // deletes "two " (code points 6..10)
  assert.equal(ta.value, '😀 one three');
  assert.equal(ta.selectionStart, ta.selectionEnd); // collapsed where "two" was
  assert.equal(ta.selectionStart, 7);
  ta.select(ta.value.length);
  remote([11, '!']); // typed exactly at our caret: the caret follows it
  assert.equal(ta.value, '😀 one three!');
  assert.equal(ta.selectionStart, ta.value.length);
});

test('CRLF documents: edits around "\\r\\n" map to the right code points', () => {
  const { ta, client, ops, remote } = setup('a\r\nb', 1);
  assert.equal(ta.value, 'a\nb');
  ta.select(2);
  ta.type('X');
  assert.deepEqual(ops()[0].op, [3, 'X']);
  assert.equal(client.text, 'a\r\nXb');
  remote(['>\r\n']);
  assert.equal(ta.value, '>\na\nXb');
  assert.equal(ta.selectionStart, 5); // still after X
});

test('IME composition: nothing is sent until it ends; remote ops wait', () => {
  const { ta, client, ops, remote, ackAll } = setup('日', 1);
  ta.select(1);
  let remoteDone = false;
  ta.compose(['ほ', 'ほん', '本'], () => {
    if (!remoteDone) {
      remoteDone = true;
      remote(['«']); // arrives mid-composition
      assert.equal(ta.value, '日ほ'); // not written while composing
    }
  });
  assert.equal(ops().length, 1);
  assert.deepEqual(ops()[0].op, [2, '本']); // transformed past «
  assert.equal(client.text, '«日本');
  assert.equal(ta.value, '«日本');
  assert.equal(ta.selectionStart, 3);
  ackAll();
  assert.equal(client.confirmed, '«日本');
});

test('undo and redo: shortcuts undo only our edits and move the caret', () => {
  const { ta, client, remote } = setup('abc', 1);
  ta.select(3);
  ta.type('X');
  remote(['>']);
  assert.equal(client.text, '>abcX');
  const ev = ta.key('z', { ctrlKey: true });
  assert.ok(ev.defaultPrevented);
  assert.equal(client.text, '>abc');
  assert.equal(ta.value, '>abc');
  assert.equal(ta.selectionStart, 4);
  ta.key('Z', { ctrlKey: true, shiftKey: true });
  assert.equal(client.text, '>abcX');
  ta.key('z', { metaKey: true });
  ta.key('y', { ctrlKey: true });
  assert.equal(ta.value, '>abcX');
  // The browser's own Undo command (menu) is routed to ours.
  const bi = ta.dispatch('beforeinput', { inputType: 'historyUndo' });
  assert.ok(bi.defaultPrevented);
  assert.equal(ta.value, '>abc');
  // A Cyrillic layout: e.key is "я" but the physical key is Z.
  ta.dispatch('keydown', { key: 'я', code: 'KeyZ', ctrlKey: true, metaKey: false, shiftKey: true, altKey: false });
  assert.equal(ta.value, '>abcX');
});

test('an unreported textarea change is sent before a remote op is written', () => {
  const { ta, client, remote } = setup('abc', 1);
  // e.g. a spelling fix whose input event has not reached us yet
  ta._value = 'abcd';
  ta.selectionStart = ta.selectionEnd = 4;
  remote(['>']);
  assert.equal(client.text, '>abcd');
  assert.equal(ta.value, '>abcd');
});

test('read-only until the document is loaded', () => {
  const ta = new FakeTextarea();
  let b;
  const client = new DocClient({ doc: 'd', clientId: 'me', send: () => {}, onChange: (e) => b.remote(e.op) });
  b = new TextareaBinding({ textarea: ta, client });
  assert.equal(ta.readOnly, true);
  client.open();
  client.receive({ type: 'snapshot', doc: 'd', version: 3, text: 'hi' });
  assert.equal(ta.readOnly, false);
  assert.equal(ta.value, 'hi');
});

test('undo steps: a word typed in one place is one step; a caret jump or a paste starts another', () => {
  const { ta, client } = setup('', 1);
  ta.type('a');
  ta.type('b');
  ta.type('c');
  ta.select(0);
  ta.type('X'); // same second, another place
  ta.select(4);
  ta.type('pasted', 'insertFromPaste');
  ta.type('!');
  assert.equal(client.text, 'Xabcpasted!');
  const undo = () => ta.key('z', { ctrlKey: true });
  undo();
  assert.equal(client.text, 'Xabcpasted');
  undo();
  assert.equal(client.text, 'Xabc');
  undo();
  assert.equal(client.text, 'abc');
  undo();
  assert.equal(client.text, '');
  // Backspacing through a word is one step too.
  ta.type('hello');
  ta.select(5);
  ta.backspace();
  ta.backspace();
  assert.equal(client.text, 'hel');
  undo();
  assert.equal(client.text, 'hello');
  assert.deepEqual(editSpan([3, 'ab', -2]), { pos: 3, del: 2, ins: 2 });
  assert.equal(editSpan([1, 'a', 2, 'b']), null);
  assert.equal(editSpan([5]), null);
});

test('onRender fires for local and remote changes (peers\' cursors move with both)', () => {
  const { ta, remote, renders } = setup('abc', 1);
  const r0 = renders();
  ta.select(0);
  ta.type('x');
  assert.equal(renders(), r0 + 1);
  remote(['y']);
  assert.equal(renders(), r0 + 2);
  ta.select(1, 2);
  ta.dispatch('select', {});
  assert.equal(renders(), r0 + 2); // a selection change alone redraws nothing
});

test('remote ops are written where they happen, one setRangeText per change, the caret moved through them', () => {
  const text = 'x'.repeat(1000);
  const { ta, client, remote } = setup(text, 1);
  ta.select(500, 510, 'backward');
  ta.rangeTexts.length = 0;
  remote([10, 'ab', 480, -2, 8, 'C']); // before, inside and at the end of the selection
  assert.equal(ta.value, client.text);
  assert.deepEqual(ta.rangeTexts, [['ab', 10, 10], ['', 492, 494], ['C', 500, 500]]);
  // transformSelection: 500–510 → 502–512 → 500–510 (delete before); C
  // at the start is not taken in: 501–511.
  assert.deepEqual([ta.selectionStart, ta.selectionEnd, ta.selectionDirection], [501, 511, 'backward']);
  // A caret where someone types moves after their text.
  ta.select(3);
  remote([3, 'zz']);
  assert.equal(ta.selectionStart, 5);
  assert.equal(ta.value, client.text);
});

test('remote ops on a long text with emoji are written in place, positions converted', () => {
  const text = 'ab😀'.repeat(500); // 1,500 code points, 2,000 UTF-16 units
  const { ta, client, remote } = setup(text, 1);
  ta.select(1004, 1010, 'backward'); // code points 753–757 (each 😀 two units)
  ta.rangeTexts.length = 0;
  remote([3, '👍🏽', 747, -3, 1, 'x']); // before, at and inside the selection
  assert.equal(ta.value, client.text);
  // 👍🏽 at code point 3 (unit 4); the delete of "ab😀" (old units
  // 1000–1004) at new unit 1004; x after the next "a".
  assert.deepEqual(ta.rangeTexts, [['👍🏽', 4, 4], ['', 1004, 1008], ['x', 1005, 1005]]);
  assert.equal(ta.value, apply(text, [3, '👍🏽', 747, -3, 1, 'x']));
  // The selection keeps its characters ("ab😀ab"), with x typed inside.
  assert.equal(ta.value.slice(ta.selectionStart, ta.selectionEnd), 'axb😀ab');
  assert.equal(ta.selectionDirection, 'backward');
});

test('a large paste is sent before it is written into the textarea, then written in place', () => {
  const { ta, client, ops, binding } = setup('start end', 1);
  let release = null;
  binding._afterSend = (fn) => { release = fn; };
  ta.select(6);
  const big = 'pasted 😀 line\r\n'.repeat(6000);
  const ev = ta.dispatch('paste', { clipboardData: { getData: (t) => (t === 'text/plain' ? big : '') } });
  assert.ok(ev.defaultPrevented, 'the browser does not paste it');
  const want = 'start ' + big.replace(/\r\n/g, '\n') + 'end';
  assert.equal(client.text, want);
  assert.equal(ops().length, 1, 'sent at once');
  assert.equal(ta.value, 'start end', 'not written yet');
  // Typed before the paste is shown: where the caret is then, in
  // front of the paste; the caret still ends after the paste.
  ta.type('!');
  release();
  assert.equal(ta.value, client.text);
  assert.equal(client.text, 'start !' + want.slice(6));
  assert.equal(ta.selectionStart, want.length - 3 + 1);
  assert.ok(ta.rangeTexts.every(([r, s0, e0]) => r.length === 0 || e0 === s0), 'written in place');
});

test('remote ops on a text with line breaks as \\r\\n or emoji fall back to a rewrite and stay right', () => {
  const { ta, client, remote } = setup('a\r\nb😀c', 1);
  ta.select(5); // after the emoji (view "a\nb😀c": 1+1+1+2)
  remote(['Q']);
  assert.equal(ta.value, 'Qa\nb😀c');
  assert.equal(client.text, 'Qa\r\nb😀c');
  assert.equal(ta.selectionStart, 6);
  // A plain text that receives an emoji becomes a complex one.
  const s = setup('hello', 1);
  s.ta.select(5);
  s.remote(['😀']);
  assert.equal(s.ta.value, '😀hello');
  assert.equal(s.ta.selectionStart, 7);
  s.remote([3, '!']);
  assert.equal(s.ta.value, '😀he!llo');
  assert.equal(s.client.text, '😀he!llo');
});

test('typing while an op is in flight is composed into one buffered op', () => {
  const { ta, client, ops, remote, ackAll } = setup('--', 1);
  ta.select(2);
  ta.type('a');
  assert.equal(ops().length, 1);
  for (const ch of 'bcdefgh') ta.type(ch);
  remote(['<']); // someone else's edit transforms the buffer
  ta.type('!');
  assert.equal(ops().length, 1, 'nothing more is sent while one op is in flight');
  client.receive({ type: 'ack', doc: 'd', id: ops()[0].id, version: client.version });
  assert.equal(ops().length, 2);
  assert.deepEqual(ops()[1].op, [4, 'bcdefgh!']);
  ackAll();
  assert.equal(client.text, '<--abcdefgh!');
  assert.equal(ta.value, client.text);
  assert.equal(client.status, 'saved');
});

test('an edit over the limits is refused before it is sent and taken off the textarea', () => {
  const errors = [];
  const sent = [];
  const ta = new FakeTextarea();
  let binding = null;
  const client = new DocClient({ minSendIntervalMs: 0,
    doc: 'd', clientId: 'me', send: (m) => sent.push(m), onChange: (ev) => binding.remote(ev.op),
    setTimeout: () => 0, limits: { maxDocLen: 100, maxInsertBytes: 50 },
  });
  binding = new TextareaBinding({ textarea: ta, client, onError: (e) => errors.push(e) });
  client.open();
  client.receive({ type: 'snapshot', doc: 'd', version: 1, text: 'start end' });
  ta.select(6);
  ta.type('y'.repeat(60), 'insertFromPaste');
  assert.equal(ta.value, 'start end');
  assert.equal(ta.selectionStart, 6);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 'too_large');
  assert.match(errors[0].message, /more than the 50 bytes/);
  assert.equal(sent.filter((m) => m.type === 'op').length, 0);
  assert.equal(client.status, 'saved');
  // Typing afterwards is sent as usual.
  ta.type('and ');
  assert.equal(client.text, 'start and end');
  assert.deepEqual(sent.filter((m) => m.type === 'op').map((m) => m.op), [[6, 'and ']]);
  // Under the insert limit but over the document's length.
  client.limits.maxInsertBytes = 1000;
  ta.type('z'.repeat(95));
  assert.equal(ta.value, 'start and end');
  assert.match(errors[1].message, /108 characters long, more than the 100/);
});

test('a refused op is rolled back on screen, later typing transformed over the rollback and saved', () => {
  const errors = [];
  const sent = [];
  const ta = new FakeTextarea();
  let binding = null;
  const client = new DocClient({ minSendIntervalMs: 0,
    doc: 'd', clientId: 'me', send: (m) => sent.push(m), onChange: (ev) => binding.remote(ev.op),
    onError: (e) => errors.push(e), setTimeout: () => 0,
  });
  binding = new TextareaBinding({ textarea: ta, client });
  client.open();
  client.receive({ type: 'snapshot', doc: 'd', version: 1, text: 'ab' });
  ta.select(1);
  ta.type('PASTE', 'insertFromPaste');
  ta.type('!'); // buffered after the paste
  ta.select(0);
  ta.type('<');
  const ops = () => sent.filter((m) => m.type === 'op');
  assert.equal(ops().length, 1);
  // The frame was over the server's limit: an error without id or doc.
  client.receive({ type: 'error', code: 'too_large', message: 'message too large' });
  assert.equal(errors.length, 1);
  assert.equal(ta.value, '<a!b');
  assert.equal(client.text, '<a!b');
  assert.equal(ta.selectionStart, 1, 'the caret stays after what was typed');
  assert.equal(ops().length, 2);
  assert.deepEqual(ops()[1].op, ['<', 1, '!']);
  assert.equal(ops()[1].version, 1);
  client.receive({ type: 'ack', doc: 'd', id: ops()[1].id, version: 1 });
  assert.equal(client.status, 'saved');
  assert.equal(client.confirmed, '<a!b');
  // The undo stack no longer brings the paste back or removes other text.
  ta.key('z', { ctrlKey: true });
  assert.ok(!client.text.includes('PASTE'));
});

test('with defer, remote ops arriving together are written in one go, and typing does not write them', () => {
  const sent = [];
  const ta = new FakeTextarea();
  let binding = null;
  const due = [];
  const client = new DocClient({ minSendIntervalMs: 0,
    doc: 'd', clientId: 'me', send: (m) => sent.push(m), onChange: (ev) => binding.remote(ev.op), setTimeout: () => 0,
  });
  binding = new TextareaBinding({ textarea: ta, client, defer: (fn) => due.push(fn) });
  client.open();
  client.receive({ type: 'snapshot', doc: 'd', version: 1, text: 'hello world' });
  assert.equal(ta.value, 'hello world', 'the first text is written at once');
  assert.equal(due.length, 0);
  ta.rangeTexts.length = 0;
  client.receive({ type: 'op', doc: 'd', version: 1, id: 'p:1', op: ['A'] });
  client.receive({ type: 'op', doc: 'd', version: 2, id: 'p:2', op: [12, 'B'] });
  assert.equal(ta.value, 'hello world', 'not written yet');
  assert.equal(due.length, 1, 'one write scheduled for both');
  ta.select(5);
  ta.type(',');
  assert.equal(ta.value, 'hello, world', 'typing shows at once, the remote ops still wait');
  assert.equal(client.text, 'Ahello, worldB');
  assert.deepEqual(binding.selection(), { anchor: 7, head: 7 });
  due.shift()();
  assert.equal(ta.value, 'Ahello, worldB');
  assert.deepEqual(ta.rangeTexts, [['A', 0, 0], ['B', 13, 13]]);
  assert.equal(ta.selectionStart, 7);
  assert.deepEqual(sent.filter((m) => m.type === 'op').map((m) => m.op), [[6, ',']]);
});
