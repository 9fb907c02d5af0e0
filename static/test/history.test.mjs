// Tests of static/history.js's pure parts: the API getter and the labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { apiGetter, sessionLabel } from '../history.js';

test('apiGetter sends the token, parses JSON and turns errors into messages', async () => {
  const seen = [];
  const get = apiGetter('tok', async (path, init) => {
    seen.push([path, init.headers]);
    if (path === '/bad') return { ok: false, status: 404, json: async () => ({ error: 'unknown document' }) };
    if (path === '/html') return { ok: false, status: 502, json: async () => { throw new SyntaxError('x'); } };
    return { ok: true, status: 200, json: async () => ({ v: 1 }) };
  });
  assert.deepEqual(await get('/ok'), { v: 1 });
  assert.deepEqual(seen[0], ['/ok', { Authorization: 'Bearer tok' }]);
  await assert.rejects(get('/bad'), /unknown document/);
  await assert.rejects(get('/html'), /502/);
  const anon = apiGetter('', async (path, init) => ({ ok: true, json: async () => init.headers }));
  assert.deepEqual(await anon('/x'), {});
});

test('sessionLabel says who, when and how much', () => {
  const when = (t) => `at ${t}`;
  assert.equal(sessionLabel({ authors: ['ann', 'bob'], end: 'T', events: 3 }, when), 'ann, bob · at T · 3 edits');
  assert.equal(sessionLabel({ authors: [], end: 'T', events: 1 }, when), 'someone · at T · 1 edit');
});
