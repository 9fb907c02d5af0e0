// Package static is the browser client, embedded into the server binary so
// that one file deploys everything, and the HTTP handler that serves it:
//
//	/        the document list (index.html, list.js; data from GET /api/docs)
//	/d/{id}  the editor of one document (editor.html, editor.js)
//	/{file}  the ES modules and the stylesheets
//	/vendor/{file}  the two browser dependencies, vendored (see the README)
//	/vendor/codemirror/{file}  CodeMirror 6, for the example page only
//	/examples/{file}  minimal app pages using only the embeddable package
//	                  (index.js, codemirror.js; docs/client-js.md)
//
// Anything else, including /d/ with an id the protocol does not allow, gets
// 404.html with status 404.
//
// The JavaScript is plain ES modules with no build step: ot.js (the OT type,
// checked against the Go implementation), client.js (the per-document state
// machine), socket.js (the self-reconnecting WebSocket), binding.js,
// textview.js and undo.js (the textarea and its undo history), overlay.js
// (other people's cursors), identity.js and format.js (names, colours,
// links, formatting), status.js (the save state in words, and what of it
// is announced to screen readers), preview.js (the Markdown preview and
// the downloads; markdown.js parses with marked, in preview-worker.js, and
// DOMPurify sanitizes, both from vendor/) and title.js (a
// document's title, its first line; catalog.Title follows the same rules).
// Node tests of all pure logic live in static/test.
//
// static/ is also the npm-style package @collabedit/client (package.json,
// index.js and codemirror.js with their .d.ts). A page with an inline
// import map (the CodeMirror example) gets it allowed by its hash in the
// Content-Security-Policy; no other inline script runs.
//
// Long documents: the work per edit does not walk the text. ot.js keeps
// an index of each long text's astral characters (code point ↔ UTF-16 in
// O(1) for BMP text), remote ops are written with setRangeText once per
// animation frame, a large paste is sent before the textarea lays it
// out, and overlay.js draws cursors over blocks of lines of which only
// the changed ones are laid out again (docs/benchmarks.md, issue 11).
//
// Files are read once from the embedded FS when the handler is made; the
// handler then only reads immutable maps and is safe for concurrent use.
package static
