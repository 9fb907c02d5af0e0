// Markdown to HTML, the same on the page and in preview-worker.js: marked
// (vendored, see the README) with GitHub's flavour. The HTML is NOT safe:
// raw HTML in the text passes through. preview.js sanitizes it before it
// reaches the page.

import { Marked } from './vendor/marked.esm.js';

const markdown = new Marked({ gfm: true, breaks: false });

/**
 * toHTML renders text as HTML (unsanitized).
 * @param {string} text
 * @returns {string}
 */
export function toHTML(text) {
  return markdown.parse(text, { async: false });
}
