// UndoManager: undo and redo of your own edits in a shared document.
//
// The browser's own undo history of a textarea cannot work here: it
// replays positions recorded before other people's edits arrived, and it
// is wiped whenever the page writes their edits into the textarea. So the
// editor keeps its own stacks of inverse ops (code points), and moves
// every entry through each op it applies from someone else, as ot.js's
// transform does for pending edits. Undo therefore undoes only your edits,
// at the place they are now, and never someone else's.
//
// Pure logic, no DOM: tested under node.

import { compose, transform, isNoop } from './ot.js';

/**
 * Undo and redo stacks of inverse ops.
 */
export class UndoManager {
  /**
   * @param {object} [opts]
   * @param {number} [opts.limit=500] most undo steps kept
   * @param {number} [opts.groupMs=1000] edits of one kind less than this
   *   apart undo together (typing a word is one step, not one per letter)
   * @param {() => number} [opts.now=Date.now]
   */
  constructor({ limit = 500, groupMs = 1000, now = () => Date.now() } = {}) {
    this.limit = limit;
    this.groupMs = groupMs;
    this.now = now;
    // Each entry {op, kind, at}: op undoes one step and applies to the
    // text as it will be once every entry above it has been undone.
    this._undo = [];
    this._redo = [];
  }

  /** Whether there is something to undo. @returns {boolean} */
  get canUndo() { return this._undo.length > 0; }

  /** Whether there is something to redo. @returns {boolean} */
  get canRedo() { return this._redo.length > 0; }

  /**
   * Records a local edit by its inverse (the op that undoes it on the text
   * after it). kind groups consecutive edits: 'insert', 'delete' or any
   * other string, which never groups. A new edit clears the redo stack.
   * @param {Array<number|string>} inverse
   * @param {string} [kind='other']
   */
  record(inverse, kind = 'other') {
    if (isNoop(inverse)) return;
    const at = this.now();
    const top = this._undo[this._undo.length - 1];
    this._redo = [];
    if (top && kind === top.kind && kind !== 'other' && at - top.at < this.groupMs) {
      // Undo the newer edit first, then the older: compose(newer, older).
      top.op = compose(inverse, top.op);
      top.at = at;
      return;
    }
    this._undo.push({ op: inverse, kind, at });
    if (this._undo.length > this.limit) this._undo.shift();
  }

  /** Makes the next recorded edit a step of its own (the caret moved away). */
  breakGroup() {
    const top = this._undo[this._undo.length - 1];
    if (top) top.kind = 'other';
  }

  /**
   * Moves both stacks through op, an edit applied to the document by
   * someone else (or by the server), so entries keep undoing the same
   * characters wherever they now are.
   * @param {Array<number|string>} op
   */
  transform(op) {
    this._undo = transformStack(this._undo, op);
    this._redo = transformStack(this._redo, op);
  }

  /**
   * Undoes one step: apply(op) must apply op to the document as a local
   * edit and return its inverse, which goes onto the redo stack.
   * @param {(op: Array<number|string>) => Array<number|string>} apply
   * @returns {boolean} whether there was a step to undo
   */
  undo(apply) {
    const e = this._undo.pop();
    if (!e) return false;
    this._redo.push({ op: apply(e.op), kind: 'other', at: 0 });
    return true;
  }

  /**
   * Redoes one undone step (see undo).
   * @param {(op: Array<number|string>) => Array<number|string>} apply
   * @returns {boolean} whether there was a step to redo
   */
  redo(apply) {
    const e = this._redo.pop();
    if (!e) return false;
    this._undo.push({ op: apply(e.op), kind: 'other', at: 0 });
    return true;
  }

  /** Forgets everything (the document was replaced). */
  clear() {
    this._undo = [];
    this._redo = [];
  }
}

// transformStack moves a stack through op, which applies to the text the
// top entry applies to: the top entry first, then op (moved past that
// entry) for the one below, and so on. Entries that become no-ops (what
// they undid was deleted by someone else) are dropped.
function transformStack(stack, op) {
  const out = [];
  let o = op;
  for (let i = stack.length - 1; i >= 0; i--) {
    const e = stack[i];
    const [mine, theirs] = transform(e.op, o);
    o = theirs;
    if (!isNoop(mine)) out.push({ ...e, op: mine });
  }
  return out.reverse();
}
