// The document list page (/): lists documents from GET /api/docs with
// their last change and size, filters them by name, and opens or creates
// a document by name. Refreshes while visible, so new documents and sizes
// show up without a reload.

import { validDocId, docLink, randomId } from './identity.js';
import { formatSize, formatAgo } from './format.js';

// REFRESH_MS: how often a visible list is reloaded. One request is one
// index scan of at most 200 rows on the server.
const REFRESH_MS = 15000;
const LIMIT = 200;

const $ = (id) => document.getElementById(id);

let docs = [];
let loadedAt = new Date();

async function load() {
  try {
    const res = await fetch(`/api/docs?limit=${LIMIT}`, { cache: 'no-store' });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error || `the server answered ${res.status}`);
    docs = body.docs || [];
    loadedAt = new Date();
    render();
  } catch (err) {
    $('list-status').textContent = `Could not load the documents: ${err.message}. Retrying…`;
  }
}

function render() {
  const q = $('filter').value.trim().toLowerCase();
  const shown = q ? docs.filter((d) => d.id.toLowerCase().includes(q)) : docs;
  const rows = shown.map(row);
  $('docs').querySelector('tbody').replaceChildren(...rows);
  $('docs').hidden = shown.length === 0;
  let status;
  if (docs.length === 0) status = 'No documents yet. Open one by name above to start.';
  else if (shown.length === 0) status = `No document name contains “${q}”.`;
  else status = `${shown.length} ${shown.length === 1 ? 'document' : 'documents'}${q ? ' match' : ''}, most recently changed first.`;
  $('list-status').textContent = status;
}

function row(d) {
  const tr = document.createElement('tr');
  const name = cell('Name');
  const a = document.createElement('a');
  a.href = docLink(d.id);
  a.textContent = d.id;
  name.append(a);

  const when = cell('Last change');
  const updated = new Date(d.updated);
  const t = document.createElement('time');
  t.dateTime = updated.toISOString();
  t.title = updated.toLocaleString();
  t.textContent = formatAgo(updated, loadedAt);
  when.append(t);

  const size = cell('Size', 'num');
  size.textContent = formatSize(d.size);
  if (d.size === null || d.size === undefined) size.title = 'Not recorded yet: shown after the next edit';

  const version = cell('Version', 'num');
  version.textContent = String(d.version);

  const share = cell('');
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = 'Copy link';
  b.setAttribute('aria-label', `Copy link to ${d.id}`);
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
  if (!validDocId(id)) {
    err.textContent = id === ''
      ? 'Type a name for the document.'
      : 'A name may only use letters A–Z, digits and . _ - (up to 128).';
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
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') load();
});
setInterval(() => {
  if (document.visibilityState === 'visible') load();
}, REFRESH_MS);
load();
