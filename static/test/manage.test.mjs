import { test } from 'node:test';
import assert from 'node:assert/strict';

import { renameDoc, deleteDoc, fetchName, describeRefusal } from '../manage.js';

// fakeFetch answers with status and body, recording the request.
function fakeFetch(status, body) {
  const calls = [];
  const fn = async (url, init = {}) => {
    calls.push({ url, ...init });
    return { ok: status >= 200 && status < 300, status, json: async () => body };
  };
  return { fn, calls };
}

test('rename posts the title with the token and id', async () => {
  const f = fakeFetch(200, { ack: { version: 7 } });
  assert.equal(await renameDoc('a b', 'New', 'tok', 'r:1', f.fn), 7);
  const c = f.calls[0];
  assert.equal(c.url, '/api/v1/docs/a%20b/rename');
  assert.equal(c.method, 'POST');
  assert.equal(c.headers.Authorization, 'Bearer tok');
  assert.deepEqual(JSON.parse(c.body), { title: 'New', id: 'r:1' });
});

test('delete sends DELETE with the id; refusals are worded for people', async () => {
  const ok = fakeFetch(200, { ack: { version: 3 } });
  assert.equal(await deleteDoc('d', null, 'x:1', ok.fn), 3);
  assert.equal(ok.calls[0].method, 'DELETE');
  assert.equal(ok.calls[0].url, '/api/v1/docs/d?id=x%3A1');
  assert.equal(ok.calls[0].headers.Authorization, undefined);
  const no = fakeFetch(403, { error: { code: 'forbidden', message: 'only an owner' } });
  await assert.rejects(deleteDoc('d', 't', 'x:2', no.fn), /Only an owner/);
  assert.match(describeRefusal(400, 'bad'), /refused: bad/);
});

test('fetchName: the name, or empty when the server cannot tell', async () => {
  assert.equal(await fetchName('d', null, fakeFetch(200, { id: 'd', name: 'N' }).fn), 'N');
  assert.equal(await fetchName('d', null, fakeFetch(200, { id: 'd' }).fn), '');
  assert.equal(await fetchName('d', null, fakeFetch(404, {}).fn), '');
  assert.equal(await fetchName('d', null, async () => { throw new Error('down'); }), '');
});
