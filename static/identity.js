// Who you are in a document (display name and colour, kept in
// localStorage), ids for editing sessions and documents, and document
// links. Pure functions over an injected storage: tested under node.

/**
 * Colours handed out to people: distinct, and dark enough for white name
 * labels to meet WCAG AA for small text (4.5:1; every one is 4.9:1 or more,
 * tested in page.test.mjs), readable as 2 px carets. The blue, orange and
 * teal of an earlier palette gave 3.7 to 4.5:1.
 */
export const PALETTE = ['#d81b60', '#1565c0', '#2e7d32', '#b45309', '#8e24aa', '#006f7a', '#6d4c41', '#3949ab'];

/** Longest display name the server accepts, in code points (§13). */
export const MAX_NAME = 64;

const NAME_KEY = 'collab.name';
const COLOR_KEY = 'collab.color';
const DOC_ID = /^[A-Za-z0-9._-]{1,128}$/;
const HEX = /^#(?:[0-9a-f]{3}|[0-9a-f]{4}|[0-9a-f]{6}|[0-9a-f]{8})$/i;

/**
 * Why id is not a valid document id, in words for the page, or '' when it
 * is valid. The server's rule (protocol.ValidateDocID): 1 to 128 of
 * A-Z a-z 0-9 . _ -, but not "." or "..", which a browser removes from a
 * URL path (/d/.. is /), so the document could not be opened by its link.
 * @param {string} id
 * @returns {string}
 */
export function docIdProblem(id) {
  if (typeof id !== 'string' || id === '') return 'Type a name for the document.';
  if (id === '.' || id === '..') return `“${id}” alone cannot be a name: in a web address it means a folder.`;
  if (!DOC_ID.test(id)) return 'A name may only use letters A–Z, digits and . _ - (up to 128).';
  return '';
}

/**
 * Whether id is a valid document id (see docIdProblem).
 * @param {string} id
 * @returns {boolean}
 */
export function validDocId(id) {
  return docIdProblem(id) === '';
}

/**
 * The path of a document's editor page; id must be valid, and then needs
 * no escaping.
 * @param {string} id
 * @returns {string}
 */
export function docLink(id) {
  return `/d/${id}`;
}

/**
 * The document id of an editor page URL (/d/<id>), or null.
 * @param {{pathname: string}} loc
 * @returns {string|null}
 */
export function docIdFromLocation(loc) {
  if (!loc.pathname.startsWith('/d/')) return null;
  let id;
  try {
    id = decodeURIComponent(loc.pathname.slice(3));
  } catch {
    return null;
  }
  return validDocId(id) ? id : null;
}

/**
 * A random id of n base-36 characters (client ids, new document names).
 * @param {number} [n=10]
 * @param {() => number} [random]
 * @returns {string}
 */
export function randomId(n = 10, random = cryptoRandom) {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(random() * 36).toString(36);
  return s;
}

function cryptoRandom() {
  const c = globalThis.crypto;
  if (c && c.getRandomValues) return c.getRandomValues(new Uint32Array(1))[0] / 2 ** 32;
  return Math.random();
}

/**
 * A stable palette colour for key (a peer's session without a colour).
 * @param {string} key
 * @returns {string}
 */
export function colorFor(key) {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

/**
 * A peer's colour if it is a hex colour, otherwise a stable palette
 * colour. Colours come from other clients: only hex is put into styles.
 * @param {unknown} color
 * @param {string} key the peer's session
 * @returns {string}
 */
export function safeColor(color, key) {
  return typeof color === 'string' && HEX.test(color) ? color : colorFor(key);
}

/**
 * Trims a display name and cuts it to MAX_NAME code points.
 * @param {string} name
 * @returns {string}
 */
export function cleanName(name) {
  return Array.from(String(name).replace(/\s+/g, ' ').trim()).slice(0, MAX_NAME).join('');
}

/**
 * Your name and colour from storage, picking (and saving) a colour the
 * first time. Storage that throws (private browsing) gives a fresh
 * identity each time.
 * @param {Storage} storage
 * @param {() => number} [random]
 * @returns {{name: string, color: string}}
 */
export function loadIdentity(storage, random = cryptoRandom) {
  const get = (k) => {
    try {
      return storage.getItem(k);
    } catch {
      return null;
    }
  };
  const name = cleanName(get(NAME_KEY) || '');
  let color = get(COLOR_KEY);
  if (!color || !HEX.test(color)) {
    color = PALETTE[Math.floor(random() * PALETTE.length)];
    try {
      storage.setItem(COLOR_KEY, color);
    } catch { /* not kept */ }
  }
  return { name, color };
}

/**
 * Saves your display name and returns it cleaned.
 * @param {Storage} storage
 * @param {string} name
 * @returns {string}
 */
export function saveName(storage, name) {
  const n = cleanName(name);
  try {
    storage.setItem(NAME_KEY, n);
  } catch { /* not kept */ }
  return n;
}

/**
 * The colour to show yourself in, given the people already here: your
 * own (preferred) unless one of them has it and came first (a smaller
 * session id); then the first palette colour nobody here uses, searched
 * from a place that depends on your session so that two newcomers do
 * not pick the same one. Only the later of two people changes, so both
 * pages agree on who is which colour; with the palette used up you keep
 * yours.
 * @param {string} preferred your colour (hex)
 * @param {string} session your session id
 * @param {Array<{session: string, color: string}>} peers the others, with safe colours
 * @returns {string}
 */
export function resolveColor(preferred, session, peers) {
  const clash = peers.some((p) => p.session < session && sameColor(p.color, preferred));
  if (!clash) return preferred;
  const start = PALETTE.indexOf(colorFor(session));
  for (let i = 0; i < PALETTE.length; i++) {
    const c = PALETTE[(start + i) % PALETTE.length];
    if (!peers.some((p) => sameColor(p.color, c))) return c;
  }
  return preferred;
}

function sameColor(a, b) {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * White, or black where white would be hard to read on color (a hex
 * colour; anything else gets white): names on carets come in other
 * people's colours, and light ones need dark ink.
 * @param {string} color
 * @returns {string}
 */
export function inkFor(color) {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(color);
  if (!m) return '#fff';
  const lin = (h) => {
    const v = parseInt(h, 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const l = 0.2126 * lin(m[1]) + 0.7152 * lin(m[2]) + 0.0722 * lin(m[3]);
  // WCAG contrast against white is 1.05 / (l + 0.05), against black
  // (l + 0.05) / 0.05. White while it reads well enough (4.5, AA for
  // small text: the palette's usual look), else the better of the two.
  const white = 1.05 / (l + 0.05);
  return white >= 4.5 || white >= (l + 0.05) / 0.05 ? '#fff' : '#000';
}

/**
 * A valid document name close to what someone typed ("My notes!" →
 * "My-notes"), to suggest after refusing it, or '' if nothing is left.
 * Accents are dropped (é → e), runs of other characters become one "-".
 * @param {string} name
 * @returns {string}
 */
export function suggestDocId(name) {
  const s = String(name).normalize('NFD').replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 128);
  return validDocId(s) ? s : '';
}
