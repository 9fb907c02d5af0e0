// history.js — the editor's History panel (issue 13): scrub through a
// document's versions with a slider, see what changed since then against
// now, who wrote the text, its editing sessions, and restore an earlier
// version as a new edit (history is never rewritten).
//
// Everything comes from the query API (docs/api.md): the text as of a
// version (/text?version=N: the nearest snapshot plus a bounded replay,
// so a step costs the same on a document with 50,000 versions), the diff
// against now (/diff), the sessions (/history) and the authorship runs
// (/authorship); the diff over a long span compares the two texts rather
// than composing every op between them, so it too costs the same
// whatever the span. The slider fetches at most one version at a time,
// the latest position asked for, at most every FETCH_MS while it moves,
// so the panel follows a drag instead of waiting for it to stop.

import { codePointToUtf16 } from './ot.js';
import { safeColor } from './identity.js';

// FETCH_MS: while the slider moves, the version under it is asked for at
// most this often (a throttle, not a debounce: a drag never waits to
// stop). Each answer takes 10–30 ms on a 50,000-version document
// (docs/benchmarks.md), so a drag shows a new version ~15 times a second.
const FETCH_MS = 50;

/**
 * Builds a fetch of the query API with the page's token.
 * @param {string} token '' without access control
 * @param {typeof fetch} [fetchFn]
 */
export function apiGetter(token, fetchFn = globalThis.fetch) {
  return async (path) => {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const res = await fetchFn(path, { headers, cache: 'no-store' });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error || `the server answered ${res.status}`);
    return body;
  };
}

/**
 * Appends diff segments ({op: equal|insert|delete, text}) to el as text
 * nodes: deletions struck through, insertions marked. Never markup from
 * the document.
 * @param {HTMLElement} el
 * @param {{op: string, text: string}[]} segments
 */
export function renderDiff(el, segments) {
  const nodes = segments.map((s) => {
    if (s.op === 'equal') return document.createTextNode(s.text);
    const m = document.createElement(s.op === 'insert' ? 'ins' : 'del');
    m.textContent = s.text;
    return m;
  });
  el.replaceChildren(...nodes);
}

/**
 * Appends text to el coloured by who wrote it: each authorship run
 * ({start, len, author}, in code points) a span tinted in its author's
 * colour, named in its title. Text nodes only.
 * @param {HTMLElement} el
 * @param {string} text
 * @param {{start: number, len: number, author: string}[]} runs
 */
export function renderAuthorship(el, text, runs) {
  const nodes = [];
  let at = 0; // UTF-16 index reached
  for (const r of runs) {
    const from = codePointToUtf16(text, r.start);
    const to = codePointToUtf16(text, r.start + r.len);
    if (from > at) nodes.push(document.createTextNode(text.slice(at, from)));
    const span = document.createElement('span');
    span.className = 'by';
    span.style.setProperty('--peer', safeColor('', r.author || 'anonymous'));
    span.title = `Written by ${r.author || 'anonymous'}`;
    span.textContent = text.slice(from, to);
    nodes.push(span);
    at = to;
  }
  if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
  el.replaceChildren(...nodes);
}

/**
 * Describes a session for the list: who, when, how many edits.
 * @param {{authors: string[], start: string, end: string, events: number}} s
 * @param {(t: string) => string} when formats a time
 */
export function sessionLabel(s, when) {
  const who = s.authors.length ? s.authors.join(', ') : 'someone';
  return `${who} · ${when(s.end)} · ${s.events} edit${s.events === 1 ? '' : 's'}`;
}

/** The History panel of one document. */
export class HistoryPanel {
  /**
   * @param {object} opts
   * @param {string} opts.doc
   * @param {(path: string) => Promise<any>} opts.get apiGetter's result
   * @param {() => number} opts.head the document's current version
   * @param {(text: string) => void} opts.restore makes the text current (as a new edit)
   * @param {(msg: string) => void} opts.announce says something to screen readers
   * @param {(id: string) => HTMLElement} [opts.$]
   */
  constructor({ doc, get, head, restore, announce, $ = (id) => document.getElementById(id) }) {
    this.doc = doc;
    this.get = get;
    this.head = head;
    this.restore = restore;
    this.announce = announce;
    this.$ = $;
    this.version = -1; // shown
    this.want = -1; // asked for by the slider
    this.text = '';
    this.busy = false;
    this.timer = null;
    this.runs = null; // authorship of the current version, {version, runs}
  }

  /** Wires the controls. */
  start() {
    const { $ } = this;
    $('history-toggle').addEventListener('click', () => this.toggle());
    $('history-slider').addEventListener('input', () => this.scrub(Number($('history-slider').value)));
    $('history-restore').addEventListener('click', () => this.restoreShown());
    $('history-close').addEventListener('click', () => this.toggle(false));
  }

  /** Opens or closes the panel. @param {boolean} [open] */
  toggle(open = this.$('history').hidden) {
    const { $ } = this;
    $('history').hidden = !open;
    $('history-toggle').setAttribute('aria-pressed', String(open));
    if (open) this.refresh();
  }

  get open() { return !this.$('history').hidden; }

  /** Loads the sessions and sets the slider to now. */
  async refresh() {
    const { $ } = this;
    const head = this.head();
    const slider = $('history-slider');
    slider.max = String(head);
    slider.value = String(head);
    this.scrub(head);
    try {
      const h = await this.get(`/api/v1/docs/${encodeURIComponent(this.doc)}/history?limit=200`);
      this.drawSessions(h.sessions || []);
      const a = await this.get(`/api/v1/docs/${encodeURIComponent(this.doc)}/authorship`);
      this.runs = { version: a.version, runs: a.runs || [] };
      this.drawAuthors(this.runs.runs);
      if (this.version === this.head()) this.version = -1; // redraw now with the authors' colours
      this.load();
    } catch (e) {
      $('history-info').textContent = `History is not available: ${e.message}.`;
    }
  }

  drawSessions(sessions) {
    const when = (t) => new Date(t).toLocaleString();
    const items = sessions.map((s) => {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = sessionLabel(s, when);
      b.addEventListener('click', () => {
        this.$('history-slider').value = String(s.toVersion);
        this.scrub(s.toVersion);
      });
      li.append(b);
      return li;
    });
    this.$('history-sessions').replaceChildren(...items);
  }

  // Who wrote how much of the current text, largest share first.
  drawAuthors(runs) {
    const by = new Map();
    for (const r of runs) by.set(r.author, (by.get(r.author) || 0) + r.len);
    const total = [...by.values()].reduce((a, b) => a + b, 0) || 1;
    const items = [...by].sort((a, b) => b[1] - a[1]).map(([author, n]) => {
      const li = document.createElement('li');
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.setAttribute('aria-hidden', 'true');
      sw.style.setProperty('--peer', safeColor('', author || 'anonymous'));
      li.append(sw, document.createTextNode(` ${author || 'anonymous'}: ${Math.round((100 * n) / total)} %`));
      return li;
    });
    this.$('history-authors').replaceChildren(...items);
  }

  /** Asks for version v within FETCH_MS, however the slider goes on moving. @param {number} v */
  scrub(v) {
    this.want = v;
    this.$('history-version').textContent = `Version ${v} of ${this.head()}`;
    if (this.timer !== null) return; // the load on its way takes the latest want
    this.timer = setTimeout(() => {
      this.timer = null;
      this.load();
    }, FETCH_MS);
  }

  // Fetches the wanted version and its diff against now; one at a time,
  // and again if the slider moved meanwhile.
  async load() {
    if (this.busy || this.want === this.version) return;
    this.busy = true;
    const v = this.want;
    const doc = encodeURIComponent(this.doc);
    try {
      const head = this.head();
      const [t, d] = await Promise.all([
        this.get(`/api/v1/docs/${doc}/text?version=${v}`),
        this.get(`/api/v1/docs/${doc}/diff?from=${Math.min(v, head)}&to=${head}`),
      ]);
      this.version = v;
      this.text = t.text;
      // Now, with the authorship read model caught up with it: who wrote
      // what, in their colours. Otherwise what changed since.
      if (v === head && this.runs && this.runs.version === head) renderAuthorship(this.$('history-diff'), t.text, this.runs.runs);
      else renderDiff(this.$('history-diff'), d.segments || []);
      const at = t.time ? ` · ${new Date(t.time).toLocaleString()}` : '';
      this.$('history-info').textContent = v === head
        ? 'This is the current version.'
        : `Version ${v}${at}. Struck-through text was removed since, marked text added since.`;
      this.$('history-restore').disabled = v === head;
    } catch (e) {
      this.$('history-info').textContent = `Version ${v} could not be loaded: ${e.message}.`;
    } finally {
      this.busy = false;
      if (this.want !== this.version) this.load();
    }
  }

  restoreShown() {
    if (this.version < 0) return;
    this.restore(this.text);
    this.announce(`Version ${this.version} restored as a new edit; undo reverts it.`);
    this.toggle(false);
  }
}
