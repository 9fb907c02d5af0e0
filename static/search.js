// search.js — full-text search on the list page (issue 13): asks the query
// API (GET /api/v1/search, docs/api.md) and shows each hit with its
// snippet. The snippet comes as plain-text pieces with the matches
// marked; it is written with text nodes, never as markup.

import { docLink } from './identity.js';

/**
 * Builds one hit's list item: a link to the document and its snippet.
 * @param {{id: string, snippet?: {text: string, match?: boolean}[]}} hit
 * @returns {HTMLLIElement}
 */
export function hitItem(hit) {
  const li = document.createElement('li');
  const a = document.createElement('a');
  a.href = docLink(hit.id);
  a.textContent = hit.id;
  const p = document.createElement('p');
  p.className = 'snippet';
  for (const piece of hit.snippet || []) {
    if (piece.match) {
      const m = document.createElement('mark');
      m.textContent = piece.text;
      p.append(m);
    } else p.append(document.createTextNode(piece.text));
  }
  li.append(a, p);
  return li;
}

/**
 * Wires the search form.
 * @param {(path: string) => Promise<any>} get the query API (history.js apiGetter)
 * @param {(id: string) => HTMLElement} [$]
 */
export function startSearch(get, $ = (id) => document.getElementById(id)) {
  $('search-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const q = $('search-q').value.trim();
    if (!q) return;
    $('search-status').textContent = 'Searching…';
    try {
      const r = await get(`/api/v1/search?q=${encodeURIComponent(q)}&limit=50`);
      const hits = r.hits || [];
      $('search-hits').replaceChildren(...hits.map(hitItem));
      $('search-status').textContent = hits.length
        ? `${hits.length}${r.nextCursor ? '+' : ''} document${hits.length === 1 ? '' : 's'} contain${hits.length === 1 ? 's' : ''} “${q}”.`
        : `No document contains “${q}”.`;
    } catch (err) {
      $('search-hits').replaceChildren();
      $('search-status').textContent = `Search is not available: ${err.message}.`;
    }
  });
}
