// The document list page (/): lists documents from GET /api/v1/docs with
// their last change and size, filters them by name, and opens or creates
// a document by name. Refreshes while visible, so new documents and sizes
// show up without a reload.

import { docIdProblem, docLink, randomId, suggestDocId } from './identity.js';
import { formatSize, formatAgo } from './format.js';
import { takeToken } from './access.js';
import { apiGetter } from './history.js';
import { startSearch } from './search.js';

// REFRESH_MS: how often a visible list is reloaded. One request is one
// index scan of at most 200 rows on the server.
const REFRESH_MS = 15000;
const LIMIT = 200;

const $ = (id) => document.getElementById(id);

let docs = [];
// A link's token, when the server checks access (§18).
const token = takeToken(location, history, tabStorage());
let loadedAt = new Date();

async function load() {
  try {
    // With access control the list shows what this tab's token (from a
    // link, access.js) may read; without one the server answers 401.
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    // The read model's list (titles follow renames, deleted documents
    // are gone); a server without the query side answers 404 there.
    let res = await fetch(`/api/v1/docs?limit=${LIMIT}`, { cache: 'no-store', headers });
    if (res.status === 404) res = await fetch(`/api/docs?limit=${LIMIT}`, { cache: 'no-store', headers });
    const body = await res.json().catch(() => ({}));
    if (res.status === 401) {
      docs = [];
      render();
      setStatus(token ? 'Your link has expired or is not valid here, so no documents can be listed. Ask for a new link.'
        : 'This server lists documents only to people with a link. Open a document\'s link to see it here.');
      return;
    }
    if (!res.ok) throw new Error(body.error || `the server answered ${res.status}`);
    docs = body.docs || [];
    loadedAt = new Date();
    render();
  } catch (err) {
    setStatus(`Could not load the documents: ${err.message}. Retrying…`);
  }
}

// The rows are rebuilt on every refresh: the control that had the
// keyboard focus (a link or a Copy button of some document) gets it back,
// so that someone tabbing through the list is not thrown to the top.
function render() {
  const q = $('filter').value.trim().toLowerCase();
  const shown = q ? docs.filter((d) => d.id.toLowerCase().includes(q) || (d.title || '').toLowerCase().includes(q)) : docs;
  const focus = focusKey(document.activeElement);
  const tbody = $('docs').querySelector('tbody');
  tbody.replaceChildren(...shown.map(row));
  $('docs').hidden = shown.length === 0;
  if (focus) {
    const again = tbody.querySelector(`[data-focus="${CSS.escape(focus)}"]`);
    if (again) again.focus();
  }
  setStatus(listStatus(docs.length, shown.length, q));
}

// setStatus writes the live status only when its words change: a screen
// reader would otherwise repeat it on every refresh.
function setStatus(text) {
  const el = $('list-status');
  if (el.textContent !== text) el.textContent = text;
}

function focusKey(el) {
  return el && el.dataset ? el.dataset.focus || '' : '';
}

// The words under the list. The server sends at most LIMIT documents, the
// most recently changed: with more, the filter cannot see the others.
function listStatus(total, shown, q) {
  const more = total >= LIMIT;
  if (total === 0) return 'No documents yet. Open one by name above to start.';
  if (shown === 0) {
    return `No document name or title contains “${q}”${more ? ` among the ${LIMIT} most recently changed; open an older one by its full name above` : ''}.`;
  }
  const n = `${shown} ${shown === 1 ? 'document' : 'documents'}${q ? ' match' : ''}`;
  return more ? `${n} among the ${LIMIT} most recently changed.` : `${n}, most recently changed first.`;
}

function row(d) {
  const tr = document.createElement('tr');
  const name = cell('Name');
  const a = document.createElement('a');
  a.href = docLink(d.id);
  a.textContent = d.id;
  a.dataset.focus = `open:${d.id}`;
  name.append(a);
  // The title (its name if renamed, else the first line of the text),
  // from servers that send one.
  if (d.title) {
    const title = document.createElement('span');
    title.className = 'doc-title';
    title.textContent = d.title;
    name.append(title);
  }

  const when = cell('Last change');
  const updated = new Date(d.changed || d.updated);
  const t = document.createElement('time');
  t.dateTime = updated.toISOString();
  t.title = updated.toLocaleString();
  t.textContent = formatAgo(updated, loadedAt);
  when.append(t);

  const size = cell('Size', 'num');
  size.textContent = formatSize(d.size);
  if (d.size === null || d.size === undefined) size.title = 'Not recorded yet: shown after the next edit';

  const version = cell('Edits', 'num');
  version.textContent = String(d.version);
  version.dataset.unit = d.version === 1 ? ' edit' : ' edits'; // shown after it on a phone

  const share = cell('');
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = 'Copy link';
  b.setAttribute('aria-label', `Copy link to ${d.id}`);
  b.dataset.focus = `copy:${d.id}`;
  b.addEventListener('click', () => copyLink(b, new URL(docLink(d.id), location.href).href));
  share.append(b);

  tr.append(name, when, size, version, share);
  return tr;
}

function cell(label, cls) {
  const td = document.createElement('td');
  if (label) td.dataset.label = label;
  if (cls) td.className = cls;
  return td;
}

async function copyLink(button, href) {
  try {
    await navigator.clipboard.writeText(href);
    button.textContent = 'Copied';
    setTimeout(() => { button.textContent = 'Copy link'; }, 2000);
  } catch {
    window.prompt('Copy this link to share the document:', href);
  }
}

function open(id) {
  const err = $('doc-id-error');
  const input = $('doc-id');
  const problem = docIdProblem(id);
  if (problem) {
    const hint = suggestDocId(id);
    err.textContent = hint ? `${problem} Try “${hint}”.` : problem;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  input.removeAttribute('aria-invalid');
  err.textContent = '';
  location.assign(docLink(id));
}

$('open-form').addEventListener('submit', (e) => {
  e.preventDefault();
  open($('doc-id').value.trim());
});
$('new-doc').addEventListener('click', () => open(`untitled-${randomId(6)}`));
$('filter').addEventListener('input', render);
startSearch(apiGetter(token));
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') load();
});
setInterval(() => {
  if (document.visibilityState === 'visible') load();
}, REFRESH_MS);
load();

// tabStorage is sessionStorage, or a memory stand-in where it is refused.
function tabStorage() {
  try {
    window.sessionStorage.getItem('collab.token');
    return window.sessionStorage;
  } catch {
    return { getItem: () => null, setItem: () => {} };
  }
}
