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
import { docIdFromLocation, loadIdentity, saveName, randomId, safeColor } from './identity.js';
import { formatVersion } from './format.js';

// PRESENCE_MS spaces our cursor updates: the server forwards at most one
// per 50 ms per person anyway (§13), so sending more only costs rate.
const PRESENCE_MS = 50;
// STALL_MS: with edits unacknowledged and not one message from the server
// for this long, the connection is presumed dead (a sleeping laptop, a
// changed network) and replaced. The server pings every 25 s, but pings
// are invisible to JavaScript, so only real messages count; resending
// after a reconnect is always safe (same op id).
const STALL_MS = 30000;
const ALERT_MS = 8000;

const $ = (id) => document.getElementById(id);

function main() {
  const id = docIdFromLocation(location);
  if (!id) {
    $('status').textContent = 'This link does not name a document.';
    return;
  }
  document.title = `${id} · collab`;
  $('doc-name').textContent = id;
  $('text-label').textContent = `Text of ${id}`;

  const storage = pageStorage();
  const me = loadIdentity(storage);
  const nameInput = $('name');
  nameInput.value = me.name;
  $('my-swatch').style.setProperty('--peer', me.color);

  const ta = $('text');
  const page = { conn: null, binding: null, overlay: null };
  const client = new DocClient({
    doc: id,
    clientId: randomId(12), // per page load: two tabs are two sessions
    send: (m) => page.conn.send(m),
    connected: false,
    onChange: (ev) => page.binding.remote(ev.op),
    onStatus: () => showStatus(),
    onVersion: (v) => { $('version').textContent = formatVersion(v); },
    onPresence: () => scheduleDraw(),
    onError: (err) => showAlert(describeError(err)),
  });

  const binding = new TextareaBinding({
    textarea: ta,
    client,
    onRender: () => scheduleDraw(),
    onSelection: () => schedulePresence(),
    onError: (err) => showAlert(`This edit could not be applied: ${err.message}`),
  });
  page.binding = binding;
  page.overlay = new Overlay(ta, $('mirror'));

  const conn = new Connection({
    url: `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`,
    onOpen: () => {
      page.openedAt = Date.now();
      client.connected();
    },
    onMessage: (m) => client.receive(m),
    onClose: () => client.disconnected(),
    onState: () => showStatus(),
  });
  page.conn = conn;

  // ---- status ----

  let countdown = null;
  function showStatus() {
    const st = client.status;
    const el = $('status');
    const waiting = conn.state === 'waiting';
    let text;
    switch (st) {
      case 'saved': text = 'Saved'; break;
      case 'saving': text = 'Saving…'; break;
      case 'offline':
        text = client.pending ? 'Offline: your edits are kept and will be sent when the connection is back' : 'Offline';
        break;
      default: text = client.loaded ? 'Reconnecting…' : 'Connecting…';
    }
    if (el.textContent !== text) el.textContent = text;
    el.dataset.state = st;
    el.dataset.pending = String(client.pending);
    ta.readOnly = !client.loaded;
    $('version').textContent = client.loaded ? formatVersion(client.version) : 'Version —';
    if (client.loaded && !page.focused) {
      page.focused = true;
      if (document.activeElement === document.body) ta.focus();
    }
    $('retry').hidden = !waiting;
    document.title = `${client.pending ? '• ' : ''}${id} · collab`;
    clearInterval(countdown);
    countdown = null;
    if (waiting) {
      // The countdown lives outside the live region: announcing every
      // second would drown a screen reader.
      const tick = () => {
        const s = Math.max(0, Math.ceil((conn.retryAt - Date.now()) / 1000));
        $('retry-info').textContent = `retrying in ${s} s`;
      };
      tick();
      countdown = setInterval(tick, 1000);
    } else {
      $('retry-info').textContent = '';
    }
  }

  let alertTimer = null;
  function showAlert(text) {
    $('alert').textContent = text;
    clearTimeout(alertTimer);
    alertTimer = setTimeout(() => { $('alert').textContent = ''; }, ALERT_MS);
  }

  // ---- presence ----

  let presenceTimer = null;
  function schedulePresence() {
    if (presenceTimer !== null) return;
    presenceTimer = setTimeout(() => {
      presenceTimer = null;
      if (!client.loaded) return;
      client.setPresence({ name: me.name, color: me.color, selection: binding.selection() });
    }, PRESENCE_MS);
  }

  let drawPending = false;
  function scheduleDraw() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => {
      drawPending = false;
      draw();
    });
  }

  function draw() {
    const marks = [];
    const people = [];
    for (const p of client.peers.values()) {
      const color = safeColor(p.color, p.session);
      const name = p.name || 'Anonymous';
      people.push({ name, color });
      const sel = client.peerSelection(p.session);
      const v = sel && binding.toView(sel);
      if (v) marks.push({ ...v, name, color });
    }
    // With nobody's cursor to show, the mirror stays empty: no copy of a
    // long document to lay out on every keystroke.
    if (!binding.composing) page.overlay.render(marks.length ? binding.view : '', marks);
    drawPeople(people);
  }

  function drawPeople(people) {
    people.sort((a, b) => a.name.localeCompare(b.name));
    const items = [{ name: `${me.name || 'Anonymous'} (you)`, color: me.color }, ...people].map((p) => {
      const li = document.createElement('li');
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.setAttribute('aria-hidden', 'true');
      sw.style.setProperty('--peer', p.color);
      li.append(sw, document.createTextNode(p.name));
      return li;
    });
    $('people').replaceChildren(...items);
    $('people-heading').textContent = `People here (${items.length})`;
  }

  // ---- controls ----

  nameInput.addEventListener('input', () => {
    me.name = saveName(storage, nameInput.value);
    schedulePresence();
    scheduleDraw();
  });
  $('name-form').addEventListener('submit', (e) => {
    e.preventDefault();
    ta.focus();
  });
  $('retry').addEventListener('click', () => conn.retryNow());
  $('copy-link').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      showAlertInfo('Link copied');
    } catch {
      window.prompt('Copy this link to share the document:', location.href);
    }
  });
  function showAlertInfo(text) {
    const b = $('copy-link');
    b.textContent = text;
    setTimeout(() => { b.textContent = 'Copy link'; }, 2000);
  }

  // ---- the page's life ----

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
    if (document.activeElement === ta) schedulePresence();
  });
  setInterval(() => {
    if (conn.state === 'open' && client.pending && Date.now() - Math.max(conn.lastMessageAt, page.openedAt) > STALL_MS) {
      conn.drop();
    }
  }, 5000);

  page.openedAt = Date.now();
  client.open();
  conn.start();
  showStatus();
  drawPeople([]);
  // For tests and debugging from the console: the live objects.
  window.collab = { client, conn, binding };
}

// pageStorage is localStorage, or a memory stand-in where the browser
// refuses storage (blocked cookies): names then last for the page only.
function pageStorage() {
  try {
    const s = window.localStorage;
    s.getItem('collab.name');
    return s;
  } catch {
    const m = new Map();
    return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => { m.set(k, String(v)); } };
  }
}

function describeError(err) {
  switch (err.code) {
    case 'too_large':
      return 'That edit would make the document larger than the server allows, so it was undone.';
    case 'invalid_op':
      return 'The server refused an edit, so it was undone. The text now matches the server.';
    default:
      return `The server refused a request (${err.code}).`;
  }
}

main();
