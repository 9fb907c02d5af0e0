// A minimal app page: a CodeMirror 6 editor on a collab document, using
// only the package's public API (index.js and codemirror.js). Open
// /examples/codemirror.html?doc=<id>&name=<your name>.
import { connect } from '../index.js';
import { collab } from '../codemirror.js';
import { EditorView } from '@codemirror/view';
import { basicSetup, markdown } from '../vendor/codemirror/setup.js';

const params = new URLSearchParams(location.search);
const id = params.get('doc') || 'example';
const name = params.get('name') || 'CodeMirror user';

const conn = connect('/ws');
const doc = conn.open(id, { presence: { name } });

document.getElementById('doc-name').textContent = id;
doc.on('status', (s) => { document.getElementById('status').textContent = s; });
doc.on('presence', (peers) => {
  document.getElementById('people').textContent = peers.length ? `with ${peers.map((p) => p.name).join(', ')}` : 'nobody else here';
});
doc.on('error', (err) => { document.getElementById('status').textContent = `error: ${err.message}`; });

const view = new EditorView({
  doc: doc.text,
  extensions: [basicSetup, markdown(), EditorView.lineWrapping, collab(doc)],
  parent: document.getElementById('editor'),
});

// For tests and the console.
window.example = { conn, doc, view };
