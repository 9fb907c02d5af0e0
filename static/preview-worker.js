// Parses Markdown off the page's thread (preview.js): a long document
// takes marked hundreds of milliseconds, which would stall typing. Gets a
// text, answers its HTML (unsanitized: the page sanitizes it).

import { toHTML } from './markdown.js';

self.addEventListener('message', (e) => {
  let html = '';
  try {
    html = toHTML(String(e.data));
  } catch {
    html = '';
  }
  self.postMessage(html);
});
