// Other people's cursors and selections drawn over the textarea.
//
// A textarea cannot style parts of its text, so a "mirror" div lies
// exactly over the textarea's client area with the same font, padding and
// wrapping rules (the shared .doc-text class), holds the same text in
// transparent ink, and wraps each peer's selection in a tinted span and
// puts a coloured bar with the peer's name at each caret. Because the
// mirror wraps lines exactly like the textarea, the marks land on the
// right characters; it scrolls with the textarea and ignores the pointer.
//
// layoutMarks is the pure part (tested under node); Overlay does the DOM.

/**
 * One peer's marks in textarea (view) indices.
 * @typedef {{from: number, to: number, head: number, name: string, color: string}} Mark
 */

/**
 * Cuts [0, len) into pieces at every mark boundary and puts carets
 * between them: text pieces {kind: 'text', from, to, marks: [index...]}
 * (the marks whose selection covers the piece) and {kind: 'caret', at,
 * mark: index}, in text order. Positions are clamped to [0, len].
 * @param {number} len
 * @param {Mark[]} marks
 * @returns {Array<{kind: string, from?: number, to?: number, at?: number, marks?: number[], mark?: number}>}
 */
export function layoutMarks(len, marks) {
  const clamp = (x) => Math.max(0, Math.min(len, x));
  const ms = marks.map((m) => ({ from: clamp(Math.min(m.from, m.to)), to: clamp(Math.max(m.from, m.to)), head: clamp(m.head) }));
  const cuts = new Set([0, len]);
  for (const m of ms) {
    cuts.add(m.from);
    cuts.add(m.to);
    cuts.add(m.head);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const out = [];
  const caretsAt = (p) => {
    ms.forEach((m, i) => {
      if (m.head === p) out.push({ kind: 'caret', at: p, mark: i });
    });
  };
  for (let k = 0; k < points.length - 1; k++) {
    const from = points[k];
    const to = points[k + 1];
    caretsAt(from);
    const cover = [];
    ms.forEach((m, i) => {
      if (m.from <= from && to <= m.to && m.from < m.to) cover.push(i);
    });
    out.push({ kind: 'text', from, to, marks: cover });
  }
  caretsAt(len);
  return out;
}

/**
 * Draws marks in a mirror element over a textarea.
 */
export class Overlay {
  /**
   * @param {HTMLTextAreaElement} textarea
   * @param {HTMLElement} mirror positioned (absolute) in the textarea's
   *   positioned parent, with the textarea's .doc-text class
   */
  constructor(textarea, mirror) {
    this.ta = textarea;
    this.mirror = mirror;
    textarea.addEventListener('scroll', () => this.syncScroll());
    if (typeof ResizeObserver !== 'undefined') new ResizeObserver(() => this.syncBox()).observe(textarea);
    this.syncBox();
  }

  /**
   * Redraws: view is the textarea's text, marks the peers to show.
   * @param {string} view
   * @param {Mark[]} marks
   */
  render(view, marks) {
    const nodes = [];
    const carets = [];
    for (const p of layoutMarks(view.length, marks)) {
      if (p.kind === 'caret') {
        const m = marks[p.mark];
        const c = el('span', 'peer-caret', m.color);
        const label = el('span', 'peer-name', m.color);
        label.textContent = m.name;
        c.append(label);
        nodes.push(c);
        carets.push(c);
        continue;
      }
      const text = view.slice(p.from, p.to);
      if (p.marks.length === 0) {
        nodes.push(document.createTextNode(text));
      } else {
        // Overlapping selections show the colour of the latest peer.
        const s = el('span', 'peer-sel', marks[p.marks[p.marks.length - 1]].color);
        s.textContent = text;
        nodes.push(s);
      }
    }
    // A final line break only makes a line in a div when something follows
    // it; U+200B is invisible and, at the very end, moves no line break.
    nodes.push(document.createTextNode('\u200b'));
    // Room to scroll as far as the textarea, whose scroll height may round
    // differently; it comes after all text, so it moves no character.
    const tail = document.createElement('div');
    tail.className = 'mirror-tail';
    nodes.push(tail);
    this.mirror.replaceChildren(...nodes);
    this.syncBox();
    // Names go above the caret, except on the first line where they would
    // be cut off: there they go below.
    const first = parseFloat(getComputedStyle(this.mirror).paddingTop) + 4;
    for (const c of carets) c.classList.toggle('below', c.offsetTop < first);
  }

  /** Follows the textarea's size (its scrollbar narrows the text). */
  syncBox() {
    const ta = this.ta;
    const st = this.mirror.style;
    st.top = `${ta.offsetTop + ta.clientTop}px`;
    st.left = `${ta.offsetLeft + ta.clientLeft}px`;
    st.width = `${ta.clientWidth}px`;
    st.height = `${ta.clientHeight}px`;
    this.syncScroll();
  }

  /** Follows the textarea's scroll position. */
  syncScroll() {
    this.mirror.scrollTop = this.ta.scrollTop;
    this.mirror.scrollLeft = this.ta.scrollLeft;
  }
}

function el(tag, cls, color) {
  const e = document.createElement(tag);
  e.className = cls;
  e.style.setProperty('--peer', color);
  return e;
}
