// Tests of static/access.js: taking the token out of the address bar,
// reading its claims, the messages for refused access, share links.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { takeToken, tokenClaims, tokenExpired, accessProblem, createShareLink } from '../access.js';

function store() {
  const m = new Map();
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), m };
}

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (claims) => `${b64({ alg: 'HS256' })}.${b64(claims)}.sig`;

test('takeToken moves the fragment token into storage and out of the address bar', () => {
  const s = store();
  const calls = [];
  const hist = { replaceState: (...a) => calls.push(a[2]) };
  const tok = jwt({ sub: 'link:1' });
  assert.equal(takeToken({ hash: `#token=${tok}`, href: `https://h/d/notes#token=${tok}` }, hist, s), tok);
  assert.deepEqual(calls, ['https://h/d/notes']);
  assert.equal(s.getItem('collab.token'), tok);
  // Later loads of the tab use the stored one.
  assert.equal(takeToken({ hash: '', href: 'https://h/d/notes' }, hist, s), tok);
  assert.equal(calls.length, 1);
  // Other fragment parts are kept.
  takeToken({ hash: '#x=1&token=abc', href: 'https://h/d/n#x=1&token=abc' }, hist, s);
  assert.equal(calls.at(-1), 'https://h/d/n#x=1');
  assert.equal(takeToken({ hash: '', href: 'https://h/' }, hist, store()), '');
});

test('tokenClaims and tokenExpired read the payload, and survive garbage', () => {
  const t = jwt({ sub: 'ann', name: 'Ann ✍️', exp: 100 });
  assert.equal(tokenClaims(t).name, 'Ann ✍️');
  assert.equal(tokenExpired(t, 99_000), false);
  assert.equal(tokenExpired(t, 100_000), true);
  for (const bad of ['', 'abc', 'a.!!!.c', 'a.bnVsbA.c']) assert.equal(tokenClaims(bad), null, bad);
});

test('accessProblem words each refusal and says when to stop reconnecting', () => {
  assert.equal(accessProblem({ code: 1006, reason: '' }, 't'), null);
  assert.equal(accessProblem(null, 't'), null);
  assert.match(accessProblem({ code: 4403, reason: 'access revoked' }, 't').text, /withdrawn/);
  assert.match(accessProblem({ code: 4401, reason: 'token refused: token expired' }, jwt({ exp: 1 })).text, /expired/);
  assert.match(accessProblem({ code: 4401, reason: 'no valid token within 5s' }, '').text, /needs a link/);
  assert.match(accessProblem({ code: 4401, reason: 'token refused: signature invalid' }, jwt({ exp: 9e9 })).text, /not valid/);
  assert.equal(accessProblem({ code: 4401, reason: '' }, 't').stop, true);
});

test('createShareLink posts the owner token and returns the absolute URL', async () => {
  const seen = [];
  const fetchFn = async (url, init) => {
    seen.push({ url, init });
    if (JSON.parse(init.body).role === 'write') return { ok: false, status: 403, json: async () => ({ error: 'only an owner of this document may share it' }) };
    return { ok: true, status: 200, json: async () => ({ url: '/d/a%20b#token=x', expires: '2026-12-07T00:00:00Z', role: 'read' }) };
  };
  const got = await createShareLink('a b', 'own', 'read', '168h', { origin: 'https://h' }, fetchFn);
  assert.deepEqual(got, { url: 'https://h/d/a%20b#token=x', expires: '2026-12-07T00:00:00Z', role: 'read' });
  assert.equal(seen[0].url, '/api/docs/a%20b/links');
  assert.equal(seen[0].init.headers.Authorization, 'Bearer own');
  await assert.rejects(createShareLink('d', 'own', 'write', '24h', { origin: 'https://h' }, fetchFn), /only an owner/);
  await assert.rejects(createShareLink('d', 'own', 'read', '24h', { origin: 'https://h' }, async () => { throw new TypeError('net'); }), /could not be reached/);
});
