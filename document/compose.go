package document

// Compose returns an op equivalent to applying a and then b: for every
// document S that a fits and every b that fits Apply(S, a),
// Apply(S, Compose(a, b)) == Apply(Apply(S, a), b). The result is
// normalised.
//
// Compose returns an *OpError if a or b is structurally invalid (see
// Validate). Because trailing retains are implicit, a's output length is
// not known without the document, so the part of b beyond a's explicit
// components is taken to act on a's implicit trailing retain; whether b
// really fits is only decided when the result is applied. One consequence:
// a retain of b past a's explicit end is dropped from the normalised
// result, so the composition may fit shorter documents than the pair.
func Compose(a, b Op) (Op, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	if err := b.Validate(); err != nil {
		// Index refers to b; say so, since the caller passed two ops.
		e := err.(*OpError)
		return nil, &OpError{Index: e.Index, Reason: "second op: " + e.Reason}
	}
	ra, rb := newReader(a), newReader(b)
	var out builder
	out.ops = make(Op, 0, len(a)+len(b))
	for ra.cur.k != kNone || rb.cur.k != kNone {
		// a's deletes remove text b never sees; b's inserts add text a
		// never produced. Both pass straight through.
		if ra.cur.k == kDelete {
			out.delete(ra.takeAll().n)
			continue
		}
		if rb.cur.k == kInsert {
			out.insert(rb.takeAll().s)
			continue
		}
		if ra.cur.k == kNone { // a's implicit trailing retain
			p := rb.takeAll()
			if p.k == kRetain {
				out.retain(p.n)
			} else {
				out.delete(p.n)
			}
			continue
		}
		if rb.cur.k == kNone { // b's implicit trailing retain
			p := ra.takeAll()
			if p.k == kRetain {
				out.retain(p.n)
			} else {
				out.insert(p.s)
			}
			continue
		}
		// a: retain or insert; b: retain or delete.
		m := min(ra.cur.n, rb.cur.n)
		pa, pb := ra.take(m), rb.take(m)
		switch {
		case pa.k == kRetain && pb.k == kRetain:
			out.retain(m)
		case pa.k == kRetain: // b deletes original text
			out.delete(m)
		case pb.k == kRetain: // b keeps text a inserted
			out.insert(pa.s)
		default: // b deletes text a inserted: it never existed
		}
	}
	return out.done(), nil
}
