// The Markdown preview beside the text of the editor page, and the
// download buttons. The text is rendered by marked (in a worker,
// preview-worker.js, so that a long document does not stall typing) and
// the HTML is sanitized by DOMPurify on the page before it reaches the
// page (both vendored in vendor/, see the README): nothing in a document
// runs, whoever wrote it. On top of that, the page's
// Content-Security-Policy allows no inline script at all, so even markup
// that got past the sanitizer could not run.

import DOMPurify from './vendor/purify.es.js';
import { toHTML } from './markdown.js';
import { titleOf, fileName, DOWNLOAD_TYPES } from './title.js';

// Rendering waits at least this long after the last render: each
// keystroke in a long document would otherwise parse it all again. When
// a render itself takes longer (a very long document), the wait grows to
// a few times its cost, up to MAX_WAIT_MS, so typing stays responsive.
const THROTTLE_MS = 100;
const MAX_WAIT_MS = 1000;
// The preview's open/closed choice, kept across visits.
const OPEN_KEY = 'collab.preview';

// What the sanitizer lets through: HTML only (no SVG or MathML), no
// forms, no styles (the CSP would refuse inline styles anyway), no
// frames. DOMPurify already removes scripts, event handlers and
// javascript:/data: URLs in links.
const PURIFY = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'frame', 'object', 'embed', 'base', 'meta', 'link'],
  FORBID_ATTR: ['style', 'id', 'name', 'srcset', 'action', 'formaction'],
  RETURN_DOM_FRAGMENT: true,
};

let hooked = false;
function hookLinks() {
  if (hooked) return;
  hooked = true;
  // Links open in a new tab and tell the target nothing about this page.
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A' && node.hasAttribute('href')) {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer nofollow');
    }
  });
}

/**
 * sanitize turns marked's HTML into a DocumentFragment safe to show.
 * @param {string} html
 * @returns {DocumentFragment}
 */
export function sanitize(html) {
  hookLinks();
  return DOMPurify.sanitize(html, PURIFY);
}

/**
 * Preview keeps the preview pane, the title and the download buttons in
 * step with the document's text.
 */
export class Preview {
  /**
   * @param {object} opts
   * @param {() => string} opts.text the document's current text, as shown
   * @param {() => string} [opts.file] the text to download (the document's
   *   own, whose "\r\n" the textarea shows as "\n"); opts.text by default
   * @param {string} opts.id the document's id, the title when it has none
   * @param {(title: string) => void} opts.onTitle called when the title changes
   * @param {Storage|{getItem: Function, setItem: Function}} [opts.storage]
   */
  constructor({ text, file, id, onTitle, storage }) {
    this.text = text;
    this.file = file || text;
    this.id = id;
    this.onTitle = onTitle;
    this.storage = storage;
    this.pane = document.getElementById('preview');
    this.body = document.getElementById('preview-body');
    this.toggle = document.getElementById('preview-toggle');
    this.panes = document.querySelector('.doc-panes');
    this.title = '';
    this.rendered = null; // the text last rendered
    this.timer = null;
    this.lastAt = 0;
    this.cost = 0; // how long the last render took on this thread, ms
    this.worker = null; // parses off this thread; null: parse here
    this.parsing = null; // the text the worker is parsing
    this.again = false; // the text changed while the worker parsed
  }

  // startWorker starts the parser's worker; where workers cannot start
  // (an old browser, a policy), parsing stays on this thread.
  startWorker() {
    try {
      this.worker = new Worker(new URL('./preview-worker.js', import.meta.url), { type: 'module' });
    } catch {
      this.worker = null;
      return;
    }
    this.worker.addEventListener('message', (e) => {
      const text = this.parsing;
      this.parsing = null;
      if (text !== null) this.show(text, String(e.data));
      if (this.again) {
        this.again = false;
        this.update();
      }
    });
    this.worker.addEventListener('error', () => {
      this.worker.terminate();
      this.worker = null;
      this.parsing = null;
      this.render();
    });
  }

  start() {
    this.startWorker();
    this.toggle.addEventListener('click', () => this.setOpen(this.pane.hidden));
    document.getElementById('download-md').addEventListener('click', () => this.download('.md'));
    document.getElementById('download-txt').addEventListener('click', () => this.download('.txt'));
    let open = false;
    try { open = this.storage?.getItem(OPEN_KEY) === '1'; } catch { /* no storage */ }
    this.setOpen(open, false);
    this.update();
  }

  /** Shows or hides the preview. */
  setOpen(open, remember = true) {
    this.pane.hidden = !open;
    this.toggle.setAttribute('aria-pressed', String(open));
    this.panes.classList.toggle('with-preview', open);
    if (remember) {
      try { this.storage?.setItem(OPEN_KEY, open ? '1' : '0'); } catch { /* no storage */ }
    }
    if (open) this.render();
  }

  /**
   * update is called on every change of the text, local or remote: the
   * title follows at once (it is cheap), the preview at most every
   * THROTTLE_MS and on an animation frame.
   */
  update() {
    const title = titleOf(this.text());
    if (title !== this.title) {
      this.title = title;
      this.onTitle(title);
    }
    if (this.pane.hidden || this.timer !== null) return;
    const gap = Math.min(MAX_WAIT_MS, Math.max(THROTTLE_MS, 3 * this.cost));
    const wait = Math.max(0, this.lastAt + gap - performance.now());
    this.timer = setTimeout(() => {
      requestAnimationFrame(() => {
        this.timer = null;
        this.render();
      });
    }, wait);
  }

  render() {
    this.lastAt = performance.now();
    if (this.pane.hidden) return;
    const text = this.text();
    if (text === this.rendered || text === this.parsing) return;
    if (!this.worker) {
      this.show(text, toHTML(text));
      return;
    }
    if (this.parsing !== null) {
      this.again = true; // one text at a time: the latest goes next
      return;
    }
    this.parsing = text;
    this.worker.postMessage(text);
  }

  /** Shows html, marked's rendering of text, sanitized. */
  show(text, html) {
    const start = performance.now();
    this.rendered = text;
    this.body.replaceChildren(sanitize(html));
    this.cost = performance.now() - start;
    this.pane.dataset.rendered = String(text.length); // for tests: what was drawn
  }

  /** Offers the current text as a file. */
  download(ext) {
    const blob = new Blob([this.file()], { type: DOWNLOAD_TYPES[ext] });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = fileName(this.title, this.id, ext);
    a.hidden = true;
    document.body.append(a);
    a.click();
    a.remove();
    // For tests: the page's CSP (connect-src 'self') keeps fetch() off blob: URLs.
    window.collabLastDownload = { href: a.href, name: a.download, type: blob.type, blob };
    // The browser has taken the file once click() returns; revoke later
    // so that slow browsers still read it.
    setTimeout(() => URL.revokeObjectURL(a.href), 60000);
  }
}
