// An app's use of @collabedit/client, type-checked against static/*.d.ts
// by scripts/typecheck.sh: every line must check, and every line marked
// ts-expect-error directive must be refused (or tsc fails: unused directive).
import { connect, VERSION, PROTOCOL_VERSION, type Peer, type ChangeEvent, type Status, fromPatch, transformSelection } from '../../static/index.js';
import { collab, bindCodeMirror, remote } from '../../static/codemirror.js';
import { EditorView } from '@codemirror/view';
import { EditorState } from '@codemirror/state';

const v: string = VERSION;
const pv: 1 = PROTOCOL_VERSION;
const conn = connect('wss://example.com/ws', { heartbeatMs: 5000, heartbeatTimeoutMs: 10000, reconnect: { min: 500, max: 30000 } });
conn.on('state', (s) => { const x: 'idle' | 'connecting' | 'open' | 'waiting' | 'stopped' = s; void x; });
const doc = conn.open('notes', { presence: { name: 'Ada', color: '#1565c0' } });
doc.on('change', (ev: ChangeEvent) => {
  const t: string = ev.text;
  if (ev.local) doc.setSelection(transformSelection({ anchor: 0, head: 0 }, ev.op));
  void t;
});
doc.on('presence', (peers: Peer[]) => peers.forEach((p) => p.selection?.head.toFixed()));
doc.on('status', (s: Status) => s === 'saved');
doc.on('error', (e) => console.log(e.code, e.message));
const off = doc.once('load', (text) => text.length);
off();
async function main() {
  const text: string = await doc.whenLoaded();
  doc.insert(0, 'hi');
  doc.edit(fromPatch(0, 1, 'x'));
  doc.replace(0, 1, 'y', { origin: 'me' });
  await doc.whenSaved();
  const ta = document.createElement('textarea');
  const h = doc.bindTextarea(ta, { presence: true, onError: (e) => e.code });
  h.selection().anchor;
  h.destroy();
  const view = new EditorView({ state: EditorState.create({ doc: text, extensions: [collab(doc, { presence: true })] }) });
  const b = bindCodeMirror(view, doc);
  b.destroy();
  view.state.update({ annotations: remote.of(true) });
  const n: number = doc.version;
  doc.setPresence({ name: 'Ada', selection: null });
  doc.close();
  conn.close();
  void v; void pv; void n;

  // @ts-expect-error: no such event
  doc.on('chnage', () => {});
  // @ts-expect-error: positions are numbers
  doc.insert('0', 'x');
  // @ts-expect-error: a status is not any string
  const s: Status = 'done';
  // @ts-expect-error: ops are numbers and strings
  doc.edit([true]);
  // @ts-expect-error: collab needs a document
  collab();
  void s;
}
void main;
