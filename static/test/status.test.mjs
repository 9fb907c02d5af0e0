// Tests of static/status.js: the status words, the page state during the
// first connection, and what is announced to screen readers.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { statusText, statusShort, pageState, StatusAnnouncer } from '../status.js';

test('statusText: offline says whether edits are kept; connecting vs reconnecting', () => {
  assert.equal(statusText('saved', false, true), 'All changes saved');
  assert.deepEqual(['saved', 'saving', 'offline', 'connecting'].map(statusShort), ['Saved', 'Saving…', 'Offline', 'Connecting…']);
  assert.equal(statusText('saving', true, true), 'Saving…');
  assert.equal(statusText('offline', false, true), 'Offline');
  assert.equal(statusText('offline', true, true), 'Offline: your edits are kept');
  assert.equal(statusText('connecting', false, false), 'Connecting…');
  assert.equal(statusText('connecting', false, true), 'Reconnecting…');
});

test('pageState: the first attempt is connecting, a failed one is offline', () => {
  assert.equal(pageState('offline', 'idle', 0), 'connecting');
  assert.equal(pageState('offline', 'connecting', 1), 'connecting');
  assert.equal(pageState('offline', 'waiting', 1), 'offline');
  assert.equal(pageState('offline', 'connecting', 2), 'offline');
  assert.equal(pageState('offline', 'open', 3), 'connecting'); // the client is told next
  assert.equal(pageState('saved', 'open', 1), 'saved');
});

test('StatusAnnouncer: silent while typing, speaks when the connection goes and comes back', () => {
  const a = new StatusAnnouncer();
  const say = (st, pending = false) => a.update(st, pending);
  // Loading and typing: nothing, however often saving and saved alternate.
  assert.equal(say('connecting'), '');
  assert.equal(say('saved'), '');
  for (let i = 0; i < 3; i++) {
    assert.equal(say('saving', true), '');
    assert.equal(say('saved'), '');
  }
  // The connection drops: once, however many edits follow.
  assert.match(say('offline'), /^Offline\. You can keep typing/);
  assert.equal(say('offline', true), '');
  assert.equal(say('connecting', true), ''); // an attempt: no news yet
  assert.equal(say('offline', true), '');
  // Back, with edits to send: said, then said again once they are saved.
  assert.equal(say('saving', true), 'Back online. Saving your edits.');
  assert.equal(say('saving', true), '');
  assert.equal(say('saved'), 'All edits saved.');
  assert.equal(say('saving', true), '');
  assert.equal(say('saved'), '');
  // Back with nothing unsaved: one sentence.
  assert.match(say('offline'), /^Offline/);
  assert.equal(say('saved'), 'Back online. All edits saved.');
  assert.equal(say('saved'), '');
});
