// The editor's save and connection state in words: the visible status,
// and the few changes worth saying aloud to a screen reader.
//
// The visible status flips between "Saving…" and "All changes saved" on every
// keystroke; a live region doing the same would talk over the person
// typing. So the status itself is not live: StatusAnnouncer picks out
// the changes that matter (the connection lost, back, and the edits kept
// offline saved at last) for a separate polite live region.
//
// Pure functions and plain data: tested under node.

/**
 * The words of the visible status.
 * @param {string} st DocClient status: connecting, saving, saved, offline
 * @param {boolean} pending edits not acknowledged yet
 * @param {boolean} loaded the document has arrived once
 * @returns {string}
 */
export function statusText(st, pending, loaded) {
  switch (st) {
    case 'deleted': return 'This document was deleted';
    case 'saved': return 'All changes saved';
    case 'saving': return 'Saving…';
    case 'offline': return pending ? 'Offline: your edits are kept' : 'Offline';
    default: return loaded ? 'Reconnecting…' : 'Connecting…';
  }
}

/**
 * The status in a word or two, for a phone's one-row bar; statusText is
 * still there for screen readers and in the tooltip.
 * @param {string} st DocClient status: connecting, saving, saved, offline
 * @returns {string}
 */
export function statusShort(st) {
  switch (st) {
    case 'deleted': return 'Deleted';
    case 'saved': return 'Saved';
    case 'saving': return 'Saving…';
    case 'offline': return 'Offline';
    default: return 'Connecting…';
  }
}

/**
 * The state the page shows: the DocClient's status, except that the
 * client counts itself offline until it is told a socket is open, so
 * a page still making its very first attempt to connect, or whose socket
 * has just opened, is "connecting": "Offline" flashing up on every page
 * load would be a false alarm.
 * @param {string} st DocClient status
 * @param {string} connState Connection state (idle, connecting, open, waiting, stopped)
 * @param {number} attempts Connection attempts made so far
 * @returns {string}
 */
export function pageState(st, connState, attempts) {
  if (st !== 'offline') return st;
  const first = connState === 'idle' || (connState === 'connecting' && attempts <= 1);
  return first || connState === 'open' ? 'connecting' : st;
}

/**
 * Decides what to announce as the status changes. Feed it every status
 * change; it returns the sentence to announce, or '' for none.
 */
export class StatusAnnouncer {
  constructor() {
    this._offline = false; // announced "Offline", not yet "Back online"
    this._awaitSave = false; // back online with edits still unsaved
  }

  /**
   * @param {string} st DocClient status
   * @param {boolean} pending edits not acknowledged yet
   * @returns {string}
   */
  update(st, pending) {
    if (st === 'offline') {
      if (this._offline) return '';
      this._offline = true;
      this._awaitSave = false;
      return 'Offline. You can keep typing: your edits are kept in this page and sent when the connection is back.';
    }
    if (st === 'connecting') return ''; // transient: wait for the outcome
    if (this._offline) {
      this._offline = false;
      if (st === 'saved' && !pending) return 'Back online. All edits saved.';
      this._awaitSave = true;
      return 'Back online. Saving your edits.';
    }
    if (this._awaitSave && st === 'saved' && !pending) {
      this._awaitSave = false;
      return 'All edits saved.';
    }
    return '';
  }
}
