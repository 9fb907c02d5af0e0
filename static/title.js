// A document's title and downloads, as pure functions (tested in node):
// the title is the first line that has any text, without Markdown's
// heading or emphasis markers, trimmed and cut to MAX_TITLE code points.

/** MAX_TITLE is the longest title shown, in code points. */
export const MAX_TITLE = 80;

/**
 * titleOf returns the title of a document's text: its first non-blank
 * line, with an ATX heading's leading "#"s (and closing ones), a
 * blockquote's ">" and a list item's marker stripped, whitespace
 * collapsed, cut to max code points with "…". '' when the text has none.
 * @param {string} text
 * @param {number} [max]
 */
export function titleOf(text, max = MAX_TITLE) {
  if (typeof text !== 'string') return '';
  // Only the start of a long document is looked at.
  const head = text.length > 4096 ? text.slice(0, 4096) : text;
  for (const raw of head.split(/\r\n|\r|\n/)) {
    let line = raw.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
    line = line.replace(/^(?:>\s*)+/, '');
    line = line.replace(/^#{1,6}(?:\s+|$)/, '');
    line = line.replace(/\s+#+\s*$/, '');
    line = line.replace(/^(?:[-*+]|\d{1,9}[.)])\s+/, '');
    line = line.replace(/\s+/g, ' ').trim();
    // A setext underline or a thematic break is no title.
    if (/^(?:[=\-*_]\s*)+$/.test(line)) continue;
    if (line) return cut(line, max);
  }
  return '';
}

function cut(s, max) {
  const cps = [...s];
  if (cps.length <= max) return s;
  return `${cps.slice(0, max - 1).join('').trimEnd()}…`;
}

/**
 * fileName returns a safe download name for a document: its title (or
 * its id when it has none) with characters that file systems refuse
 * replaced, plus ext (".md", ".txt").
 * @param {string} title
 * @param {string} id
 * @param {string} ext
 */
export function fileName(title, id, ext) {
  let base = (title || '').replace(/[\\/:*?"<>|\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  base = base.replace(/^\.+/, '').replace(/[. ]+$/, '');
  if (!base) base = id || 'document';
  const cps = [...base];
  if (cps.length > 100) base = cps.slice(0, 100).join('').trimEnd();
  return base + ext;
}

/** Download types: the text as Markdown or as plain text, in UTF-8. */
export const DOWNLOAD_TYPES = {
  '.md': 'text/markdown;charset=utf-8',
  '.txt': 'text/plain;charset=utf-8',
};
