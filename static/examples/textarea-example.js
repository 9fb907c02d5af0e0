// A minimal app page: a textarea on a collab document, using only the
// package's public API. Open /examples/textarea.html?doc=<id>&name=<name>.
import { connect } from '../index.js';

const params = new URLSearchParams(location.search);
const id = params.get('doc') || 'example';
const name = params.get('name') || 'Textarea user';

const conn = connect('/ws');
const doc = conn.open(id, { presence: { name } });
const textarea = document.getElementById('text');
const bound = doc.bindTextarea(textarea);

document.getElementById('doc-name').textContent = id;
doc.on('status', (s) => { document.getElementById('status').textContent = s; });
doc.on('presence', (peers) => {
  document.getElementById('people').textContent = peers.length
    ? peers.map((p) => `${p.name}${p.selection ? ` at ${p.selection.head}` : ''}`).join(', ')
    : 'nobody else here';
});
doc.on('error', (err) => { document.getElementById('status').textContent = `error: ${err.message}`; });

window.example = { conn, doc, textarea, bound };
