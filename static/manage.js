// Renaming and deleting a document (protocol §19, docs/api.md): the
// requests behind the editor's Rename and Delete dialogs. The server
// sequences each as an event of the document, so every open page hears
// of it through its socket; these only ask and report.

/**
 * Sends one lifecycle command.
 * @param {string} method
 * @param {string} path
 * @param {string|null} token a link's token, when the server checks access
 * @param {object|undefined} body
 * @param {typeof fetch} fetchFn
 * @returns {Promise<object>} the answer's JSON
 */
async function command(method, path, token, body, fetchFn) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetchFn(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new Error('The server could not be reached. Try again.');
  }
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = answer.error || {};
    const why = typeof e === 'string' ? e : e.message;
    throw Object.assign(new Error(describeRefusal(res.status, why)), { status: res.status, code: e.code });
  }
  return answer;
}

/** The words for a refused command. */
export function describeRefusal(status, why) {
  switch (status) {
    case 403: return 'Only an owner of this document may do that.';
    case 410: return 'This document was already deleted.';
    case 404: return 'This server does not support renaming or deleting documents.';
    case 429: return 'Too many requests; wait a moment and try again.';
    case 503: return 'The server could not store that right now. Try again.';
    default: return why ? `The server refused: ${why}.` : `The server refused (${status}).`;
  }
}

/**
 * Renames doc: lists show title instead of its first line ('' goes back
 * to the first line). id makes a retry safe.
 * @returns {Promise<number>} the version the rename took
 */
export async function renameDoc(doc, title, token, id, fetchFn = globalThis.fetch) {
  const a = await command('POST', `/api/v1/docs/${encodeURIComponent(doc)}/rename`, token, { title, id }, fetchFn);
  return a.ack.version;
}

/**
 * Deletes doc: it leaves the lists and can no longer be opened; its
 * history is kept until an owner purges it.
 * @returns {Promise<number>} the version the delete took
 */
export async function deleteDoc(doc, token, id, fetchFn = globalThis.fetch) {
  const a = await command('DELETE', `/api/v1/docs/${encodeURIComponent(doc)}?id=${encodeURIComponent(id)}`, token, undefined, fetchFn);
  return a.ack.version;
}

/**
 * The document's name (the title a rename set), '' when it has none or
 * the server cannot tell (no query side, not listed yet).
 * @returns {Promise<string>}
 */
export async function fetchName(doc, token, fetchFn = globalThis.fetch) {
  try {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const res = await fetchFn(`/api/v1/docs/${encodeURIComponent(doc)}/entry`, { headers, cache: 'no-store' });
    if (!res.ok) return '';
    const body = await res.json();
    return typeof body.name === 'string' ? body.name : '';
  } catch {
    return '';
  }
}
