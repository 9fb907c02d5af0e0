package presence

import "github.com/collabedit/collab/document"

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
