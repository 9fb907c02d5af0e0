// Package document implements the plain-text operational-transformation
// (OT) type used by the collaborative editor: operations (Op), their
// strict wire encoding, Apply, Compose, Transform and cursor
// transformation, plus Text, a mutable document body tuned for streams of
// small edits.
//
// # Operations
//
// An Op is a list of components applied left to right with a cursor that
// starts at 0: Retain skips characters, Insert inserts text at the cursor
// and Delete removes characters at the cursor. A trailing retain may be
// left out: the part of the document an op does not mention is kept. On
// the wire an op is a JSON array such as [5, "hi", -3] (retain 5, insert
// "hi", delete 3); see Op.UnmarshalJSON for the exact grammar.
//
// # Characters are code points
//
// All lengths and positions count Unicode code points, not bytes and not
// UTF-16 units: "😀" has length 1 although it is 4 bytes in UTF-8 and 2
// units in UTF-16, and "é" written as e + U+0301 has length 2. Clients
// in UTF-16 languages must convert. Documents are expected to be valid
// UTF-8; an invalid byte in a document counts as one code point (the
// utf8.RuneCountInString rule) and Text stores it as U+FFFD.
//
// # Tie rule
//
// Transform(a, b) resolves two concurrent inserts at the same position by
// putting a's insert first. a is the op being transformed, i.e. the one the
// server sequences later, so the later op's text ends up in front. This is
// the rule of ot.js and ShareDB's text type, which keeps this server
// interoperable with their clients.
//
// # Sharing and concurrency
//
// Op values are treated as immutable once built: no function in this
// package modifies an Op it receives, and results never alias a caller's
// backing array in a way a later append could clobber. An Op can therefore
// be shared freely between goroutines (for example, decoded once and
// broadcast to many connections). A Text is a mutable buffer and is not
// safe for concurrent use; callers serialise access to it.
package document
