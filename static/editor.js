// The editor page (/d/<id>): wires the textarea (binding.js), the
// document's state machine (client.js), the WebSocket (socket.js), other
// people's cursors (overlay.js) and the status bar together.
//
// What the page promises the person typing: every keystroke shows at once
// and is sent; the status says honestly whether it has reached the server
// ("Saved"), is on its way ("Saving…") or is kept here until the
// connection is back ("Offline"); closing the page with unsaved edits
// asks first.

import { DocClient } from './client.js';
import { Connection } from './socket.js';
import { TextareaBinding } from './binding.js';
import { Overlay } from './overlay.js';
import { docIdFromLocation, loadIdentity, saveName, randomId, safeColor, resolveColor } from './identity.js';
import { formatVersion } from './format.js';
import { statusText, statusShort, pageState, StatusAnnouncer } from './status.js';
import { Preview } from './preview.js';
import { takeToken, accessProblem, createShareLink, LINK_LIFETIMES } from './access.js';
import { renameDoc, deleteDoc, fetchName } from './manage.js';
import { HistoryPanel, apiGetter } from './history.js';

// PRESENCE_MS spaces our cursor updates: the server forwards at most one
// per 50 ms per person anyway (§13), so sending more only costs rate.
const PRESENCE_MS = 50;
// STALL_MS: with edits unacknowledged and not one message from the server
// for this long, the connection is presumed dead (a sleeping laptop, a
// changed network) and replaced. The server pings every 25 s, but pings
// are invisible to JavaScript, so only real messages count; resending
// after a reconnect is always safe (same op id). Checked every 5 s.
const STALL_MS = 30000;
const STALL_CHECK_MS = 5000;
// Remote ops are written into the textarea on the next animation frame,
// just before the browser lays the page out, so that all those arriving
// within one frame cost one layout, and each is on screen by the frame
// after it arrived. A hidden tab gets no frames: there a timer writes them
// after REMOTE_WRITE_MS.
const REMOTE_WRITE_MS = 100;

// How long an error message stays up, and "Link copied".
const ALERT_MS = 8000;
const COPIED_MS = 2000;

const $ = (id) => document.getElementById(id);

/** The editor page of one document. */
class EditorPage {
  /** @param {string} id the document */
  constructor(id) {
    this.id = id;
    this.ta = $('text');
    this.storage = webStorage('localStorage');
    this.me = loadIdentity(this.storage);
    this.color = this.me.color; // shown: yours unless someone here had it first
    this.placed = false; // the caret was put somewhere (the textarea got focus)
    this.loadedOnce = false;
    this.lastState = '';
    this.openedAt = Date.now();
    this.announcer = new StatusAnnouncer();
    this.announceTimer = null;
    // A link's token (access.js), when the server checks access (§18).
    this.token = takeToken(location, history, webStorage('sessionStorage'));
    this.blocked = null; // why the server will not let this page in, once it said so
    this.client = new DocClient({
      doc: id,
      clientId: randomId(12), // per page load: two tabs are two sessions
      send: (m) => this.conn.send(m),
      connected: false,
      onChange: (ev) => this.binding.remote(ev.op),
      onStatus: () => this.showStatus(),
      onVersion: () => this.showStatus(),
      onPresence: () => this.scheduleDraw(),
      onError: (err) => (err.code === 'gone' ? this.deleted() : this.showAlert(describeError(err))),
      onAccess: (role) => this.showAccess(role),
      onLifecycle: (ev) => this.lifecycle(ev),
    });
    this.binding = new TextareaBinding({
      textarea: this.ta,
      client: this.client,
      onRender: () => {
        this.preview.update(); // the title, and the preview when shown
        this.scheduleDraw();
        this.showStatus(); // offline edits change the words, not the state
      },
      onSelection: () => this.schedulePresence(),
      // Remote ops are written at most once a frame: a browser lays a
      // textarea's whole text out again after every change (some 20 ms
      // for 100,000 characters), so each write must come right before
      // the frame's own layout, not between frames, where a keystroke
      // would have to wait for a layout of its own.
      defer: nextFrame,
      // A large paste is written into the textarea (and laid out) once
      // it has left the page, which needs the page's thread.
      afterSend: (fn) => this.conn.whenSent(fn),
      // An edit over the server's limits is refused before it is sent
      // (err.local, with a message for people) and taken off the page.
      onError: (err) => this.showAlert(err.local ? err.message : `This edit could not be applied: ${err.message}`),
    });
    this.overlay = new Overlay(this.ta, $('mirror'));
    // The title is the text's first line (title.js); the id until it has one.
    this.title = '';
    // The name a rename set (§19), shown instead of the title; '' for none.
    this.name = '';
    this.lifecycleSeq = 0; // numbers this page's rename and delete ids
    this.preview = new Preview({
      text: () => this.binding.view,
      file: () => this.client.text,
      id,
      storage: this.storage,
      onTitle: (title) => this.showTitle(title),
    });
    this.conn = new Connection({
      url: `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`,
      onOpen: () => {
        this.openedAt = Date.now();
        this.client.connected();
      },
      onMessage: (m) => {
        if (m.type === 'authenticated') this.showIdentity(m);
        this.client.receive(m);
      },
      onClose: (info) => {
        this.client.disconnected();
        this.refused(info);
      },
      onState: () => this.showStatus(),
      getToken: this.token ? () => this.token : null,
    });
    this.history = new HistoryPanel({
      doc: id,
      get: apiGetter(this.token),
      head: () => this.client.version,
      restore: (text) => this.binding.replaceAll(text),
      announce: (msg) => this.announce(msg),
    });
    this.presenceTimer = null;
    this.drawPending = false;
    this.countdown = null;
    this.countdownFor = 0; // the retryAt the countdown counts to
    this.alertTimer = null;
    this.peopleKey = ''; // what the people list shows (drawPeople)
    this.versionShown = -1; // the version formatVersion last formatted
    this.versionText = '';
  }

  /** Fills in the page, listens, connects. */
  start() {
    document.title = `${this.id} · collab`;
    $('doc-name').textContent = this.id;
    $('doc-name').title = this.id; // cut short on a phone
    $('text-label').textContent = `Text of ${this.id}`;
    $('name').value = this.me.name;
    $('my-swatch').style.setProperty('--peer', this.color);
    this.listen();
    this.client.open();
    this.conn.start();
    this.showStatus();
    this.drawPeople([]);
    this.preview.start();
    this.history.start();
    // For tests and debugging from the console: the live objects.
    window.collab = { client: this.client, conn: this.conn, binding: this.binding, overlay: this.overlay, preview: this.preview, history: this.history };
  }

  // ---- status ----

  /**
   * Shows the connection and save state (the version in its tooltip), the retry
   * countdown. Cheap when nothing changed: it runs on every keystroke.
   */
  showStatus() {
    const { client, conn } = this;
    const st = pageState(client.status, conn.state, conn.attempts);
    const el = $('status');
    setText($('status-long'), statusText(st, client.pending, client.loaded));
    setText($('status-short'), statusShort(st));
    if (el.dataset.state !== st) el.dataset.state = st;
    // The version is for the curious (and support): a tooltip, not jargon
    // in the bar.
    if (this.versionShown !== client.version) { // formatting it costs more than the rest
      this.versionShown = client.version;
      this.versionText = formatVersion(client.version);
    }
    const version = client.loaded ? ` ${this.versionText} of this document.` : '';
    const title = st === 'offline' && client.pending
      ? `Your edits are kept in this page and sent when the connection is back. Keep the page open.${version}`
      : `${statusText(st, client.pending, client.loaded)}.${version}`;
    if (el.title !== title) el.title = title;
    // Each attribute set, even to its value, costs a style check of the
    // textarea: set only what changed (this runs on every keystroke).
    const ro = !client.loaded || client.role === 'read' || client.deleted;
    if (this.ta.readOnly !== ro) this.ta.readOnly = ro;
    if (this.blocked) {
      setText($('status-long'), 'No access');
      setText($('status-short'), 'No access');
      el.dataset.state = 'offline';
      if (el.title !== this.blocked) el.title = this.blocked;
    }
    const retry = $('retry');
    if (retry.hidden !== (conn.state !== 'waiting')) retry.hidden = conn.state !== 'waiting';
    const docTitle = `${client.pending ? '• ' : ''}${this.name || this.title || this.id} · collab`;
    if (document.title !== docTitle) document.title = docTitle;
    this.announce(this.announcer.update(st, client.pending));
    if (st !== this.lastState) {
      this.lastState = st;
      this.scheduleDraw(); // others are shown only while connected
    }
    if (client.loaded && !this.loadedOnce) this.firstLoad();
    this.showCountdown(conn.state === 'waiting' ? conn.retryAt : 0);
  }

  /**
   * Shows our role (§18): a read-only document says "View only" and
   * cannot be typed into; an owner with a link's token can share.
   */
  showAccess(role) {
    $('view-only').hidden = role !== 'read';
    $('history-restore').hidden = role === 'read';
    $('share').hidden = !(role === 'owner' && this.token);
    this.showManage();
    if (role === 'read') this.announce('This document is view only.');
    this.showStatus();
  }

  /**
   * Shows who the server says we are (§18): others see the token's name,
   * not the one typed here, so the name field shows it and is locked.
   */
  showIdentity(m) {
    if (!m.sub) return; // -auth none: nothing was checked
    if (m.guest) {
      // A share link's visitor names itself; others see it marked as
      // a guest's ("Ann (guest)"), so the field says so.
      $('name').title = 'Others see this name marked as a guest\'s, as you came through a link';
      return;
    }
    const name = m.name || m.sub;
    this.me.name = name;
    const input = $('name');
    input.value = name;
    input.readOnly = true;
    input.title = 'Your name comes from your link or sign-in';
    this.scheduleDraw();
  }

  // refused stops the page when the server closed it for access reasons
  // that reconnecting with the same token cannot mend (§18).
  refused(info) {
    const p = accessProblem(info, this.token);
    if (!p) return;
    this.blocked = p.text;
    $('alert').textContent = p.text; // stays: nothing will change it
    clearTimeout(this.alertTimer);
    if (p.stop) this.conn.stop();
    this.showStatus();
  }

  share() {
    const dlg = $('share-dialog');
    $('share-error').textContent = '';
    $('share-url').value = '';
    $('share-copy').disabled = true;
    if (!dlg.open) dlg.showModal();
  }

  async makeLink() {
    const role = $('share-role').value;
    const lifetime = $('share-lifetime').value;
    $('share-error').textContent = '';
    try {
      const link = await createShareLink(this.id, this.token, role, lifetime, location);
      $('share-url').value = link.url;
      $('share-copy').disabled = false;
      $('share-url').select();
      this.announce(`${role === 'read' ? 'View-only' : 'Edit'} link made; it expires ${new Date(link.expires).toLocaleString()}.`);
    } catch (e) {
      $('share-error').textContent = e.message;
    }
  }

  /** Shows the document's title (its first line) in the header and tab. */
  showTitle(title) {
    this.title = title;
    const h = $('doc-name');
    const shown = this.name || title;
    setText(h, shown || this.id);
    h.title = shown ? `Document ${this.id}` : '';
    this.showStatus();
  }

  /**
   * Rename and Delete are for owners (§19): with access control, those
   * the server calls owner; without it (no role said), everyone.
   */
  showManage() {
    const { role, deleted, loaded } = this.client;
    const may = loaded && !deleted && (role === 'owner' || role === null);
    $('rename').hidden = !may;
    $('delete').hidden = !may;
  }

  // A rename or delete of this document, by anyone (§19).
  lifecycle(ev) {
    if (ev.kind === 'rename') {
      this.name = ev.title || '';
      this.showTitle(this.title);
      this.announce(ev.title ? `The document was renamed “${ev.title}”.` : 'The document\'s name was cleared.');
    }
  }

  // The document was deleted: the page stops and says so for good.
  deleted() {
    this.conn.stop();
    $('rename-dialog').close();
    $('delete-dialog').close();
    this.showManage();
    clearTimeout(this.alertTimer);
    const a = $('alert');
    a.replaceChildren('This document was deleted. ');
    const back = document.createElement('a');
    back.href = '/';
    back.textContent = 'See all documents';
    a.append(back);
    this.showStatus();
  }

  nextLifecycleId() {
    this.lifecycleSeq += 1;
    return `${this.client.clientId}:life-${this.lifecycleSeq}`;
  }

  renameDialog() {
    $('rename-error').textContent = '';
    $('rename-title').value = this.name || this.title;
    $('rename-dialog').showModal();
    $('rename-title').select();
  }

  async rename() {
    const title = $('rename-title').value.trim();
    $('rename-save').disabled = true;
    try {
      await renameDoc(this.id, title, this.token, this.nextLifecycleId());
      $('rename-dialog').close();
    } catch (e) {
      $('rename-error').textContent = e.message;
    } finally {
      $('rename-save').disabled = false;
    }
  }

  async remove() {
    $('delete-confirm').disabled = true;
    try {
      await deleteDoc(this.id, this.token, this.nextLifecycleId());
      $('delete-dialog').close(); // the socket's "gone" stops the page
    } catch (e) {
      $('delete-error').textContent = e.message;
    } finally {
      $('delete-confirm').disabled = false;
    }
  }

  // Says text in the live region (not the visible status, which changes
  // on every keystroke). Emptied first, so that the same sentence twice
  // is announced twice.
  announce(text) {
    if (!text) return;
    const el = $('announce');
    el.textContent = '';
    clearTimeout(this.announceTimer);
    this.announceTimer = setTimeout(() => { el.textContent = text; }, 100);
  }

  firstLoad() {
    this.loadedOnce = true;
    // The caret starts at the top, where the text is shown: the snapshot
    // was written in front of the empty textarea's caret, which pushed it
    // to the end, out of sight on a long document.
    this.ta.setSelectionRange(0, 0);
    this.ta.scrollTop = 0;
    if (document.activeElement === document.body) this.ta.focus();
    this.schedulePresence(); // tell the others who joined
    this.showManage();
    // A renamed document's name comes from the list's read model; a
    // rename heard on the socket meanwhile is newer and wins.
    fetchName(this.id, this.token).then((name) => {
      if (name && !this.name) {
        this.name = name;
        this.showTitle(this.title);
      }
    });
  }

  // The seconds until the next attempt live outside the live region:
  // announcing every second would drown a screen reader.
  // retryAt 0: no attempt is waiting.
  showCountdown(retryAt) {
    if (retryAt === this.countdownFor) return;
    this.countdownFor = retryAt;
    clearInterval(this.countdown);
    this.countdown = null;
    const info = $('retry-info');
    if (!retryAt) {
      info.textContent = '';
      return;
    }
    const tick = () => {
      const s = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
      setText(info, `retrying in ${s} s`);
    };
    tick();
    this.countdown = setInterval(tick, 1000);
  }

  showAlert(text) {
    $('alert').textContent = text;
    clearTimeout(this.alertTimer);
    this.alertTimer = setTimeout(() => { $('alert').textContent = ''; }, ALERT_MS);
  }

  // ---- presence ----

  schedulePresence() {
    if (this.presenceTimer !== null) return;
    this.presenceTimer = setTimeout(() => {
      this.presenceTimer = null;
      // While an IME composes, the textarea holds text the document does
      // not have yet: a caret read from it would be off by that text.
      // compositionend reports the caret again (binding onSelection).
      if (!this.client.loaded || this.binding.composing) return;
      // Until you first put the caret somewhere, you have none to show:
      // an untouched textarea's selection (0) would be a lie.
      const selection = this.placed ? this.binding.selection() : null;
      this.client.setPresence({ name: this.me.name, color: this.color, selection });
    }, PRESENCE_MS);
  }

  scheduleDraw() {
    if (this.drawPending) return;
    this.drawPending = true;
    requestAnimationFrame(() => {
      this.drawPending = false;
      this.draw();
    });
  }

  /** Draws the others: their cursors over the text, and the list. */
  draw() {
    const { client, binding } = this;
    const marks = [];
    const people = [];
    // Offline, we do not know who is still here or where: show nobody.
    const offline = client.status === 'offline';
    const peers = offline ? [] : [...client.peers.values()];
    for (const p of peers) {
      const color = safeColor(p.color, p.session);
      const name = p.name || 'Anonymous';
      people.push({ name, color, session: p.session });
      const sel = client.peerSelection(p.session);
      const v = sel && binding.toView(sel);
      if (v) marks.push({ ...v, name, color, since: p.seenAt });
    }
    if (!offline) this.pickColor(people);
    // With nobody's cursor to show, the mirror stays empty: no copy of a
    // long document to lay out on every keystroke.
    if (!binding.composing) this.overlay.render(marks.length ? binding.view : '', marks);
    this.drawPeople(people);
  }

  drawPeople(people) {
    people.sort((a, b) => a.name.localeCompare(b.name));
    const all = [{ name: `${this.me.name || 'Anonymous'} (you)`, color: this.color }, ...people];
    // Drawn on every keystroke and remote edit: rebuilt only if it changed.
    const key = JSON.stringify(all.map((p) => [p.name, p.color]));
    if (key === this.peopleKey) return;
    this.peopleKey = key;
    $('people').replaceChildren(...all.map(personItem));
    $('people-heading').textContent = `People here (${all.length})`;
  }

  // Two people in one colour cannot be told apart: the later one of
  // them (see resolveColor) shows in another colour for the rest of this
  // visit (not back and forth as people come and go).
  pickColor(people) {
    const color = resolveColor(this.color, this.client.clientId, people);
    if (color === this.color) return;
    this.color = color;
    $('my-swatch').style.setProperty('--peer', color);
    this.schedulePresence();
  }

  // ---- controls and the page's life ----

  listen() {
    const { ta, conn, client, binding } = this;
    ta.addEventListener('focus', () => {
      this.placed = true;
      this.schedulePresence();
    });
    $('name').addEventListener('input', () => {
      if ($('name').readOnly) return;
      this.me.name = saveName(this.storage, $('name').value);
      this.schedulePresence();
      this.scheduleDraw();
    });
    $('name-form').addEventListener('submit', (e) => {
      e.preventDefault();
      ta.focus();
    });
    $('retry').addEventListener('click', () => conn.retryNow());
    $('copy-link').addEventListener('click', () => this.copyLink());
    $('share').addEventListener('click', () => this.share());
    $('rename').addEventListener('click', () => this.renameDialog());
    $('rename-form').addEventListener('submit', (e) => { e.preventDefault(); this.rename(); });
    $('rename-cancel').addEventListener('click', () => $('rename-dialog').close());
    $('delete').addEventListener('click', () => { $('delete-error').textContent = ''; $('delete-dialog').showModal(); });
    $('delete-confirm').addEventListener('click', () => this.remove());
    $('delete-cancel').addEventListener('click', () => $('delete-dialog').close());
    $('share-make').addEventListener('click', () => this.makeLink());
    $('share-copy').addEventListener('click', () => copyText($('share-url').value, $('share-copy'), 'Copy', (t) => this.announce(t)));
    $('share-close').addEventListener('click', () => $('share-dialog').close());
    $('share-lifetime').replaceChildren(...LINK_LIFETIMES.map(([label, v]) => new Option(label, v)));
    window.addEventListener('beforeunload', (e) => {
      if (client.pending || binding.composing) {
        e.preventDefault();
        e.returnValue = ''; // older browsers need it set to show the prompt
      }
    });
    // The browser knows about network loss long before a socket does.
    window.addEventListener('offline', () => conn.drop());
    window.addEventListener('online', () => conn.retryNow());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') conn.retryNow();
    });
    document.addEventListener('selectionchange', () => {
      if (document.activeElement === ta) this.schedulePresence();
    });
    setInterval(() => this.checkStall(), STALL_CHECK_MS);
  }

  checkStall() {
    const { conn, client } = this;
    if (conn.state === 'open' && client.pending && Date.now() - Math.max(conn.lastMessageAt, this.openedAt) > STALL_MS) {
      conn.drop();
    }
  }

  async copyLink() {
    const b = $('copy-link');
    try {
      await navigator.clipboard.writeText(location.href);
      b.textContent = 'Link copied';
      this.announce('Link copied to the clipboard.'); // a button's new text is not read out
      setTimeout(() => { b.textContent = 'Copy link'; }, COPIED_MS);
    } catch {
      window.prompt('Copy this link to share the document:', location.href);
    }
  }
}

// nextFrame runs fn once, on the next animation frame, or after
// REMOTE_WRITE_MS if no frame comes first (a hidden tab).
function nextFrame(fn) {
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    fn();
  };
  const timer = setTimeout(run, REMOTE_WRITE_MS);
  requestAnimationFrame(run);
}

// setText changes an element's text only if it differs: no layout, and
// no needless mutation for assistive technology to notice.
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function personItem(p) {
  const li = document.createElement('li');
  const sw = document.createElement('span');
  sw.className = 'swatch';
  sw.setAttribute('aria-hidden', 'true');
  sw.style.setProperty('--peer', p.color);
  li.append(sw, document.createTextNode(p.name));
  return li;
}

// webStorage is window[kind] (localStorage for the name, sessionStorage
// for a link's token), or a memory stand-in where the browser refuses
// storage (blocked cookies): what it holds then lasts for the page only.
function webStorage(kind) {
  try {
    const s = window[kind];
    s.getItem('collab.probe');
    return s;
  } catch {
    const m = new Map();
    return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => { m.set(k, String(v)); } };
  }
}

// copyText copies text, showing "Copied" on button for a moment.
async function copyText(text, button, label, announce) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
    announce('Copied to the clipboard.');
    setTimeout(() => { button.textContent = label; }, COPIED_MS);
  } catch {
    window.prompt('Copy this link:', text);
  }
}

function describeError(err) {
  switch (err.code) {
    case 'gone':
      return 'This document was deleted.';
    case 'forbidden':
      return err.local ? err.message : 'You may not do that in this document.';
    case 'too_large':
      return 'That edit would make the document larger than the server allows, so it was undone.';
    case 'invalid_op':
      return 'The server refused an edit, so it was undone. The text now matches the server.';
    default:
      return `The server refused a request (${err.code}).`;
  }
}

const docId = docIdFromLocation(location);
if (docId) new EditorPage(docId).start();
else $('status').textContent = 'This link does not name a document.';
