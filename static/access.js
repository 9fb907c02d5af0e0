// access.js — the browser side of access control (docs/protocol.md §18,
// docs/security.md): the token a page acts with, share links, and what
// to tell people when the server refuses them.
//
// A token reaches a page in the URL's fragment (#token=…), which browsers
// never send to a server or in a Referer. The page moves it into session
// storage (this tab only, gone when the tab closes) and takes it out of
// the address bar and the history, so that a copied address, a bookmark
// or a screenshot does not carry it.

const KEY = 'collab.token';

/**
 * Takes a token from the location's fragment into storage and removes it
 * from the address bar; returns the token to use (the new one, else the
 * one stored earlier in this tab), or '' when there is none.
 * @param {{hash: string, href: string}} loc
 * @param {{replaceState: Function}} hist
 * @param {{getItem: Function, setItem: Function}} storage session storage
 * @returns {string}
 */
export function takeToken(loc, hist, storage) {
  const m = /(?:^#|&)token=([^&]+)/.exec(loc.hash || '');
  if (m) {
    const token = decodeURIComponent(m[1]);
    try {
      storage.setItem(KEY, token);
    } catch {
      // storage refused (private mode): the token lives in this page only
    }
    const rest = loc.hash.slice(1).split('&').filter((p) => p && !p.startsWith('token=')).join('&');
    hist.replaceState(null, '', loc.href.split('#')[0] + (rest ? `#${rest}` : ''));
    return token;
  }
  try {
    return storage.getItem(KEY) || '';
  } catch {
    return '';
  }
}

/**
 * Reads a token's claims without checking its signature: for what the
 * page shows (who, until when), never for a decision the server makes.
 * @param {string} token
 * @returns {{sub?: string, name?: string, exp?: number, docs?: object}|null}
 */
export function tokenClaims(token) {
  const part = String(token).split('.')[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const json = new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
    const c = JSON.parse(json);
    return c && typeof c === 'object' ? c : null;
  } catch {
    return null;
  }
}

/**
 * Whether a token's exp has passed at now (ms), by its own claims.
 * @param {string} token
 * @param {number} [now]
 */
export function tokenExpired(token, now = Date.now()) {
  const c = tokenClaims(token);
  return !!c && typeof c.exp === 'number' && c.exp * 1000 <= now;
}

/**
 * What to tell people when the server closes the connection for access
 * reasons, or null for any other close (the page just reconnects).
 * 'stop' is true when reconnecting with the same token cannot help.
 * @param {{code: number, reason: string}|null} close
 * @param {string} token the token the page has ('' for none)
 * @returns {{text: string, stop: boolean}|null}
 */
export function accessProblem(close, token) {
  if (!close) return null;
  if (close.code === 4403) {
    return { text: 'Your access to this document was withdrawn. Ask its owner for a new link.', stop: true };
  }
  if (close.code !== 4401) return null;
  if (!token) {
    return { text: 'This server needs a link to open documents. Ask the document\'s owner for one.', stop: true };
  }
  if (/expired/.test(close.reason) || tokenExpired(token)) {
    return { text: 'This link has expired. Ask the document\'s owner for a new one.', stop: true };
  }
  return { text: 'This link is not valid on this server. Ask the document\'s owner for a new one.', stop: true };
}

/** Lifetimes offered for a share link: [label, Go duration]. */
export const LINK_LIFETIMES = [['1 day', '24h'], ['7 days', '168h'], ['30 days', '720h']];

/**
 * Asks the server for a share link to doc (an owner's token) and returns
 * its absolute URL and expiry, or throws an Error with a message for
 * people.
 * @param {string} doc
 * @param {string} token the owner's token
 * @param {'read'|'write'} role
 * @param {string} expiresIn a Go duration, e.g. "168h"
 * @param {{origin: string}} loc
 * @param {typeof fetch} [fetchFn]
 * @returns {Promise<{url: string, expires: string, role: string}>}
 */
export async function createShareLink(doc, token, role, expiresIn, loc, fetchFn = globalThis.fetch) {
  let res;
  try {
    res = await fetchFn(`/api/docs/${encodeURIComponent(doc)}/links`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ role, expiresIn }),
    });
  } catch {
    throw new Error('The server could not be reached. Try again.');
  }
  let body = {};
  try {
    body = await res.json();
  } catch {
    // an error page, not JSON
  }
  if (!res.ok) throw new Error(body.error ? `The link could not be made: ${body.error}.` : `The link could not be made (${res.status}).`);
  return { url: loc.origin + body.url, expires: body.expires, role: body.role };
}
