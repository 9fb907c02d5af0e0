package protocol

import "github.com/collabedit/collab/document"

// Selection is a caret or selection in code points (not bytes or UTF-16
// units, so "😀" counts 1, as in ops); Anchor == Head is a caret. Anchor
// is where the selection started and may be after Head.
type Selection struct {
	Anchor int `json:"anchor"`
	Head   int `json:"head"`
}

// Transform returns where s ends up after op is applied to the document s
// refers to. Both ends move as document.TransformIndex with
// ownInsertsFirst false: text inserted before an end shifts it right, text
// inserted exactly at an end moves that end after the text (a caret
// follows text typed at it), deleted text before an end shifts it left,
// and an end inside a deleted range moves to the start of that range.
//
// The Version of the Peer holding s must be advanced by the caller.
func (s Selection) Transform(op document.Op) Selection {
	return Selection{
		Anchor: document.TransformIndex(s.Anchor, op, false),
		Head:   document.TransformIndex(s.Head, op, false),
	}
}
