// FakeTextarea: the part of HTMLTextAreaElement that binding.js uses, with
// the browser's behaviour where it matters: the value normalises line
// breaks ("\r\n" and "\r" become "\n"), selection indices are UTF-16,
// setRangeText with 'preserve' moves the selection like the HTML spec.
// Helpers act like a user: type, select, compose with an IME.

export class FakeTextarea {
  constructor() {
    this._value = '';
    this.selectionStart = 0;
    this.selectionEnd = 0;
    this.selectionDirection = 'none';
    this.scrollTop = 0;
    this.scrollLeft = 0;
    this.readOnly = false;
    this._listeners = new Map();
    /** Every setRangeText call as [replacement, start, end], for tests. */
    this.rangeTexts = [];
  }

  get value() { return this._value; }

  set value(v) {
    this._value = String(v).replace(/\r\n?/g, '\n');
    this.selectionStart = this.selectionEnd = this._value.length;
  }

  addEventListener(type, fn) {
    if (!this._listeners.has(type)) this._listeners.set(type, []);
    this._listeners.get(type).push(fn);
  }

  dispatch(type, props = {}) {
    const ev = { type, defaultPrevented: false, preventDefault() { this.defaultPrevented = true; }, ...props };
    for (const fn of this._listeners.get(type) || []) fn(ev);
    return ev;
  }

  setSelectionRange(start, end, dir = 'none') {
    const n = this._value.length;
    this.selectionStart = Math.min(start, n);
    this.selectionEnd = Math.max(this.selectionStart, Math.min(end, n));
    this.selectionDirection = dir;
  }

  setRangeText(rep, start, end, mode) {
    if (mode !== 'preserve') throw new Error('fake supports preserve only');
    if (!(start >= 0 && start <= end && end <= this._value.length)) throw new RangeError(`setRangeText(${start}, ${end}) out of range`);
    this.rangeTexts.push([rep, start, end]);
    rep = rep.replace(/\r\n?/g, '\n');
    const v = this._value;
    this._value = v.slice(0, start) + rep + v.slice(end);
    const delta = rep.length - (end - start);
    const fix = (p) => {
      if (p > end) return p + delta;
      if (p > start) return start;
      return p;
    };
    this.selectionStart = fix(this.selectionStart);
    this.selectionEnd = fix(this.selectionEnd);
  }

  // ---- user actions ----

  select(start, end = start, dir = 'forward') {
    this.setSelectionRange(start, end, dir);
  }

  // type replaces the selection with s, as typing or pasting does.
  type(s, inputType = 'insertText') {
    const before = this.dispatch('beforeinput', { inputType, data: s });
    if (before.defaultPrevented) return;
    const v = this._value;
    this._value = v.slice(0, this.selectionStart) + s.replace(/\r\n?/g, '\n') + v.slice(this.selectionEnd);
    this.selectionStart = this.selectionEnd = this.selectionStart + s.replace(/\r\n?/g, '\n').length;
    this.dispatch('input', { inputType, isComposing: false });
  }

  backspace() {
    if (this.selectionStart === this.selectionEnd) {
      let s = this.selectionStart - 1;
      const c = this._value.charCodeAt(s);
      if (c >= 0xdc00 && c <= 0xdfff && s > 0) s--; // browsers delete whole pairs
      this.selectionStart = Math.max(0, s);
    }
    this.type('', 'deleteContentBackward');
  }

  key(key, mods = {}) {
    return this.dispatch('keydown', { key, code: /^[a-z]$/i.test(key) ? 'Key' + key.toUpperCase() : key, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, isComposing: false, ...mods });
  }

  // compose runs an IME composition: each step replaces the composing
  // text; the last is committed. Returns nothing; hooks run between steps.
  compose(steps, between = () => {}) {
    this.dispatch('compositionstart', {});
    const start = this.selectionStart;
    let len = this.selectionEnd - start;
    for (const s of steps) {
      const v = this._value;
      this._value = v.slice(0, start) + s + v.slice(start + len);
      len = s.length;
      this.selectionStart = this.selectionEnd = start + len;
      this.dispatch('input', { inputType: 'insertCompositionText', isComposing: true });
      between();
    }
    this.dispatch('compositionend', {});
  }
}
