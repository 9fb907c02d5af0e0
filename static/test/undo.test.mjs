// Tests of static/undo.js: undo/redo of one's own edits, moved through
// other people's edits.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { apply } from '../ot.js';
import { invert } from '../client.js';
import { UndoManager } from '../undo.js';

// doc is a document edited locally (recorded) and remotely (transformed).
function doc(text, opts) {
  let clock = 0;
  const d = {
    text,
    um: new UndoManager({ now: () => clock, ...opts }),
    tick(ms) { clock += ms; },
    local(op, kind) {
      op = op.filter((c) => c !== 0); // lets the tests write [i, ch] for any i
      const inv = invert(d.text, op);
      d.text = apply(d.text, op);
      d.um.record(inv, kind);
    },
    remote(op) {
      d.text = apply(d.text, op);
      d.um.transform(op);
    },
    step(op) {
      const inv = invert(d.text, op);
      d.text = apply(d.text, op);
      return inv;
    },
    undo() { return d.um.undo(d.step); },
    redo() { return d.um.redo(d.step); },
  };
  return d;
}

test('undo and redo restore the text step by step', () => {
  const d = doc('Hello');
  d.local([5, ' world'], 'other');
  d.local(['J', -1], 'other');
  assert.equal(d.text, 'Jello world');
  assert.ok(d.undo());
  assert.equal(d.text, 'Hello world');
  assert.ok(d.undo());
  assert.equal(d.text, 'Hello');
  assert.equal(d.undo(), false);
  assert.ok(d.redo());
  assert.ok(d.redo());
  assert.equal(d.text, 'Jello world');
  assert.equal(d.redo(), false);
});

test('typing within the group time is one step; a pause or a caret move splits', () => {
  const d = doc('', { groupMs: 500 });
  for (const [i, ch] of [...'abc'].entries()) {
    d.local([i, ch], 'insert');
    d.tick(100);
  }
  d.tick(600); // pause
  d.local([3, 'd'], 'insert');
  d.um.breakGroup();
  d.local([4, 'e'], 'insert');
  d.local([4, -1], 'delete'); // another kind
  assert.equal(d.text, 'abcd');
  d.undo();
  assert.equal(d.text, 'abcde');
  d.undo();
  assert.equal(d.text, 'abcd');
  d.undo();
  assert.equal(d.text, 'abc');
  d.undo();
  assert.equal(d.text, '');
});

test('undo affects only local edits, wherever other people moved them', () => {
  const d = doc('middle');
  d.local([6, ' end😀'], 'other');
  d.remote(['start ']); // someone typed before it
  d.remote([12, '!']); // and right after our edit... between "middle" and " end"
  assert.equal(d.text, 'start middle! end😀');
  d.undo();
  assert.equal(d.text, 'start middle!');
  d.redo();
  assert.equal(d.text, 'start middle! end😀');
  // Someone deletes what we typed: nothing left to undo for that step.
  d.remote([13, -5]);
  assert.equal(d.text, 'start middle!');
  assert.equal(d.um.canUndo, false);
});

test('a new edit clears redo; limit drops the oldest steps', () => {
  const d = doc('', { limit: 2 });
  d.local(['a']);
  d.local([1, 'b']);
  d.local([2, 'c']);
  d.undo();
  assert.ok(d.um.canRedo);
  d.local([2, 'x']);
  assert.equal(d.um.canRedo, false);
  d.undo();
  d.undo();
  assert.equal(d.text, 'a');
  assert.equal(d.undo(), false);
});
