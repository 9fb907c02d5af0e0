package document

import "unicode/utf8"

// Transform transforms two concurrent ops a and b, both valid on the same
// document S, and returns aPrime (a rebased onto b) and bPrime (b rebased
// onto a) such that
//
//	Apply(Apply(S, b), aPrime) == Apply(Apply(S, a), bPrime)
//
// When both insert at the same position, a's insert goes first. The server
// calls Transform(incoming, concurrent) for each op the client had not yet
// seen, so the op sequenced later wins ties, as in ot.js and ShareDB.
//
// a and b may have different BaseLen: the part of S beyond an op's last
// component is an implicit retain. Overlapping deletes are deleted once;
// text inserted inside a range the other op deletes survives. The results
// are normalised, and so, for tie-breaking, are the inputs. Transform assumes valid ops (see Validate); it does not
// panic on invalid ones but the results are then unspecified.
func Transform(a, b Op) (aPrime, bPrime Op) {
	// Tie-breaking looks at which insert comes first, so work on the
	// normal form (inserts before adjacent deletes): [del 2, "x"] and
	// ["x", del 2] are the same edit and must win the same ties. Normalize
	// returns the op itself, without allocating, when it is already normal.
	a, b = a.Normalize(), b.Normalize()
	ra, rb := newReader(a), newReader(b)
	var ap, bp builder
	ap.ops = make(Op, 0, len(a)+2)
	bp.ops = make(Op, 0, len(b)+2)
	for ra.cur.k != kNone || rb.cur.k != kNone {
		if ra.cur.k == kInsert { // checked first: a wins ties
			p := ra.takeAll()
			ap.insert(p.s)
			bp.retain(p.n)
			continue
		}
		if rb.cur.k == kInsert {
			p := rb.takeAll()
			ap.retain(p.n)
			bp.insert(p.s)
			continue
		}
		// Both are retain, delete or exhausted (an infinite retain).
		var m int
		switch {
		case ra.cur.k == kNone:
			m = rb.cur.n
		case rb.cur.k == kNone:
			m = ra.cur.n
		default:
			m = min(ra.cur.n, rb.cur.n)
		}
		ka, kb := ra.cur.k, rb.cur.k
		if ka != kNone {
			ra.take(m)
		}
		if kb != kNone {
			rb.take(m)
		}
		aDel, bDel := ka == kDelete, kb == kDelete
		switch {
		case aDel && bDel:
			// Both delete the same text: nothing left to do for either.
		case aDel:
			ap.delete(m) // b kept the text, so a' still deletes it
		case bDel:
			bp.delete(m)
		default:
			ap.retain(m)
			bp.retain(m)
		}
	}
	return ap.done(), bp.done()
}

// TransformIndex returns where a cursor at code point position pos in a
// document S ends up after op is applied to S.
//
// The rule:
//   - Text inserted strictly before pos shifts the cursor right by its
//     length; text inserted strictly after pos does not move it.
//   - Text inserted exactly at pos moves the cursor after it when
//     ownInsertsFirst is false (the ot.js behaviour: a caret follows text
//     typed at it). When ownInsertsFirst is true the cursor stays in front
//     of that text, as if the cursor were an insert of its own that wins
//     the tie the way a's insert wins in Transform(a, op).
//   - Deleted text before pos shifts the cursor left; if pos lies inside a
//     deleted range the cursor moves to the start of that range.
//   - Whether an insert is "at pos" is decided as in the normal form, where
//     inserts come before adjacent deletes: an insert that directly follows
//     a delete starting at pos counts as at pos.
//
// Equivalently, the result is where a zero-width marker inserted at pos
// ends up: Transform(marker, op)'s aPrime when ownInsertsFirst is true,
// Transform(op, marker)'s bPrime when it is false (a property test checks
// this). pos < 0 is treated as 0. For 0 <= pos <= len(S) the result lies in
// [0, len(Apply(S, op))].
func TransformIndex(pos int, op Op, ownInsertsFirst bool) int {
	if pos < 0 {
		pos = 0
	}
	out := pos
	base := 0 // position in S reached by op's cursor
	gap := 0  // position in S where an insert would land in normal form
	for _, c := range op {
		if gap > pos {
			break
		}
		switch classify(c) {
		case kRetain:
			base += c.Retain
			gap = base
		case kInsert:
			if gap < pos || (gap == pos && !ownInsertsFirst) {
				out += utf8.RuneCountInString(c.Insert)
			}
		case kDelete:
			if base < pos {
				out -= min(c.Delete, pos-base)
			}
			base += c.Delete
		}
	}
	return out
}

// BaseIndex maps a position in Apply(S, op) back to S: the inverse of
// TransformIndex for positions op did not create. A position inside (or
// at the start of) text op inserted maps to the insertion point; text op
// deleted has no position in the result, so nothing maps into it. It lets
// a client state its caret, kept on its local text, in the coordinates of
// the server's version while its own edits are not yet acknowledged, in
// time proportional to op rather than to the document (static/client.js
// has the same function).
func BaseIndex(pos int, op Op) int {
	src, dst := 0, 0 // positions in S and in the result
	for _, c := range op {
		switch classify(c) {
		case kInsert:
			n := utf8.RuneCountInString(c.Insert)
			if pos < dst+n {
				return src
			}
			dst += n
		case kRetain:
			if pos < dst+c.Retain {
				return src + pos - dst
			}
			src += c.Retain
			dst += c.Retain
		case kDelete:
			src += c.Delete
		}
	}
	return src + max(0, pos-dst)
}
