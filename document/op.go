package document

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Component is one op component; exactly one of the fields is non-zero.
//
// The zero Component and components with several fields set are invalid
// (see Op.Validate). Functions that cannot report errors (Transform,
// Normalize, AppendJSON, ...) read such a component as its Insert if that
// is non-empty, else its Retain if positive, else its Delete if positive,
// and skip it otherwise, so they never panic on bad input; their results
// for invalid ops are otherwise unspecified.
type Component struct {
	Retain int    // > 0: skip this many code points
	Delete int    // > 0: delete this many code points (wire form: negative integer)
	Insert string // non-empty: insert this text
}

// Op is an operation: components applied left to right with a cursor that
// starts at 0. A trailing retain may be omitted. Ops are immutable once
// built; see the package documentation.
type Op []Component

// maxCount bounds a single retain or delete count (2^31-1 code points,
// far beyond any real document). The bound guarantees that sums such as
// BaseLen cannot overflow int: an op would need 2^32 components, i.e. tens
// of gigabytes, to overflow int64.
const maxCount = 1<<31 - 1

// ErrInvalidOp is the sentinel for every invalid-op error in this package;
// errors.Is(err, ErrInvalidOp) holds for all of them.
var ErrInvalidOp = errors.New("invalid op")

// OpError describes why an op is invalid or does not fit a document.
// errors.Is(err, ErrInvalidOp) is true for an *OpError.
type OpError struct {
	Index  int    // index of the offending component, or -1 if the op as a whole is at fault
	Reason string // lowercase description, e.g. "retain past end of document (length 5)"
}

// Error returns a message such as
// "invalid op: component 2: retain past end of document (length 5)".
func (e *OpError) Error() string {
	if e.Index < 0 {
		return "invalid op: " + e.Reason
	}
	return "invalid op: component " + strconv.Itoa(e.Index) + ": " + e.Reason
}

// Unwrap returns ErrInvalidOp.
func (e *OpError) Unwrap() error { return ErrInvalidOp }

func opErr(index int, format string, args ...any) *OpError {
	return &OpError{Index: index, Reason: fmt.Sprintf(format, args...)}
}

// kind classifies a component for the lenient readers.
type kind uint8

const (
	kNone kind = iota
	kRetain
	kInsert
	kDelete
)

// classify implements the lenient reading documented on Component.
func classify(c Component) kind {
	switch {
	case c.Insert != "":
		return kInsert
	case c.Retain > 0:
		return kRetain
	case c.Delete > 0:
		return kDelete
	}
	return kNone
}

// checkComponent is the strict per-component check shared by Validate,
// Apply, Compose and Text.Apply.
func checkComponent(i int, c Component) *OpError {
	set := 0
	if c.Retain != 0 {
		set++
	}
	if c.Delete != 0 {
		set++
	}
	if c.Insert != "" {
		set++
	}
	switch {
	case set == 0:
		return opErr(i, "empty component")
	case set > 1:
		return opErr(i, "more than one of retain, delete and insert set")
	case c.Retain < 0:
		return opErr(i, "negative retain %d", c.Retain)
	case c.Delete < 0:
		return opErr(i, "negative delete %d (use a positive count)", c.Delete)
	case c.Retain > maxCount:
		return opErr(i, "retain %d too large (max %d)", c.Retain, maxCount)
	case c.Delete > maxCount:
		return opErr(i, "delete %d too large (max %d)", c.Delete, maxCount)
	case c.Insert != "" && !utf8.ValidString(c.Insert):
		return opErr(i, "insert is not valid UTF-8")
	}
	return nil
}

// Validate checks the structure of an op built in Go: every component has
// exactly one field set, counts are positive and at most 2^31-1, inserts
// are non-empty valid UTF-8. It does not check the op against a document
// (Apply does). Decoded ops (UnmarshalJSON) always pass.
func (op Op) Validate() error {
	for i, c := range op {
		if err := checkComponent(i, c); err != nil {
			return err
		}
	}
	return nil
}

// BaseLen returns the number of code points the op consumes (retains plus
// deletes), i.e. the minimum length of a document it applies to. Because a
// trailing retain may be omitted, longer documents fit as well.
func (op Op) BaseLen() int {
	n := 0
	for _, c := range op {
		switch classify(c) {
		case kRetain:
			n += c.Retain
		case kDelete:
			n += c.Delete
		}
	}
	return n
}

// Delta returns the change in document length: code points inserted minus
// code points deleted.
func (op Op) Delta() int {
	n := 0
	for _, c := range op {
		switch classify(c) {
		case kInsert:
			n += utf8.RuneCountInString(c.Insert)
		case kDelete:
			n -= c.Delete
		}
	}
	return n
}

// IsNoop reports whether the op leaves every document unchanged (it has no
// inserts and no deletes).
func (op Op) IsNoop() bool {
	for _, c := range op {
		if k := classify(c); k == kInsert || k == kDelete {
			return false
		}
	}
	return true
}

// Normalize returns the canonical form of op: adjacent components of the
// same kind merged, an insert placed before an adjacent delete (as ot.js
// does; the two orders have the same effect), empty components dropped and
// the trailing retain removed. Two ops with the same effect on every
// document do not necessarily normalise to the same value, but every op
// produced by this package is normal.
//
// If op is already normal it is returned as is; otherwise the result is a
// fresh slice and op is left untouched.
func (op Op) Normalize() Op {
	if isNormal(op) {
		return op
	}
	var b builder
	b.ops = make(Op, 0, len(op))
	for _, c := range op {
		switch classify(c) {
		case kRetain:
			b.retain(c.Retain)
		case kInsert:
			b.insert(c.Insert)
		case kDelete:
			b.delete(c.Delete)
		}
	}
	return b.done()
}

func isNormal(op Op) bool {
	prev := kNone
	for _, c := range op {
		k := classify(c)
		if k == kNone || k == prev || (prev == kDelete && k == kInsert) {
			return false
		}
		// A component with more than one field set is not normal either.
		if (k != kRetain && c.Retain != 0) || (k != kDelete && c.Delete != 0) {
			return false
		}
		prev = k
	}
	return prev != kRetain
}

// FromPatch returns the normalised op that deletes del code points at
// position pos and inserts ins there (the editing-trace patch format).
// Non-positive pos or del are treated as 0.
func FromPatch(pos, del int, ins string) Op {
	var b builder
	b.ops = make(Op, 0, 3)
	b.retain(pos)
	b.insert(ins)
	b.delete(del)
	return b.done()
}

// builder accumulates an op in normal form, in the manner of ot.js's
// TextOperation append methods.
type builder struct {
	ops Op
}

func (b *builder) retain(n int) {
	if n <= 0 {
		return
	}
	if l := len(b.ops); l > 0 && b.ops[l-1].Retain > 0 {
		b.ops[l-1].Retain += n
		return
	}
	b.ops = append(b.ops, Component{Retain: n})
}

func (b *builder) delete(n int) {
	if n <= 0 {
		return
	}
	if l := len(b.ops); l > 0 && b.ops[l-1].Delete > 0 {
		b.ops[l-1].Delete += n
		return
	}
	b.ops = append(b.ops, Component{Delete: n})
}

func (b *builder) insert(s string) {
	if s == "" {
		return
	}
	l := len(b.ops)
	if l > 0 && b.ops[l-1].Insert != "" {
		b.ops[l-1].Insert += s
		return
	}
	if l > 0 && b.ops[l-1].Delete > 0 {
		// Keep inserts before deletes: "delete then insert" and "insert
		// then delete" at the same spot are equivalent, and a single
		// canonical order makes equal edits compare equal.
		if l > 1 && b.ops[l-2].Insert != "" {
			b.ops[l-2].Insert += s
			return
		}
		d := b.ops[l-1]
		b.ops[l-1] = Component{Insert: s}
		b.ops = append(b.ops, d)
		return
	}
	b.ops = append(b.ops, Component{Insert: s})
}

// done drops the trailing retain and returns the op. The result is capped
// at its length so that an append by the caller copies instead of writing
// into spare capacity that could be shared.
func (b *builder) done() Op {
	ops := b.ops
	if l := len(ops); l > 0 && ops[l-1].Retain > 0 {
		ops = ops[:l-1]
	}
	if ops == nil {
		return Op{}
	}
	return ops[:len(ops):len(ops)]
}

// runeOffset returns the byte offset in s just after its first n code
// points (len(s) if s is shorter).
func runeOffset(s string, n int) int {
	i := 0
	for ; n > 0 && i < len(s); n-- {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return i
}
