package loadgen

import (
	"math/rand/v2"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/collabedit/collab/document"
)

// The keystroke mix, in per mille of keystrokes. Typing dominates, as in
// the real traces (automerge-paper: 182k inserts against 77k deletes, but
// most deletes there are corrections made one backspace at a time).
const (
	pmType       = 832
	pmBackspace  = 120
	pmForwardDel = 30
	pmDeleteWord = 15
	pmPaste      = 3  // 20-300 characters from the clipboard
	pmJump       = 10 // the caret moves elsewhere before the keystroke
)

// letters are drawn for typed characters: English letter frequencies,
// spaces between words, a few newlines and non-ASCII code points (one
// in ~200) so multi-byte handling is exercised.
const letters = "eeeeeeeeeeeetttttttttaaaaaaaaooooooooiiiiiiinnnnnnnsssssshhhhhhrrrrrrddddllllcccuuummwwffggyyppbbvkjxqz"

var (
	nonASCII = []string{"é", "ü", "ß", "ñ", "€", "中", "😀", "👍🏽"}
	clipText = strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ", 4)
)

// typist is one editor's keystroke model: a caret in the local text and
// the text's length, both kept in code points and moved through remote
// ops, so each editor types where it was typing, as a person would.
// Methods are safe for concurrent use: keystrokes come from the editor's
// goroutine and remote ops from its client's reader.
type typist struct {
	mu     sync.Mutex
	rnd    *rand.Rand
	caret  int
	length int
	maxLen int // above it, edits shrink the text
}

func newTypist(seed uint64, length, maxLen int) *typist {
	rnd := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	return &typist{rnd: rnd, length: length, caret: rnd.IntN(length + 1), maxLen: maxLen}
}

// keystroke returns the next edit as an op on the local text, and commit,
// to call once the op has been applied (an op that did not fit is not).
func (t *typist) keystroke() (op document.Op, commit func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.caret > t.length {
		t.caret = t.length
	}
	caret := t.caret
	if t.rnd.IntN(1000) < pmJump {
		caret = t.rnd.IntN(t.length + 1)
	}
	pos, del, ins := t.choose(caret)
	n := utf8.RuneCountInString(ins)
	return document.FromPatch(pos, del, ins), func() {
		t.mu.Lock()
		t.caret, t.length = pos+n, t.length-del+n
		t.mu.Unlock()
	}
}

// choose picks an edit at caret: delete del code points at pos, then
// insert ins there.
func (t *typist) choose(caret int) (pos, del int, ins string) {
	k := t.rnd.IntN(1000)
	over := t.length > t.maxLen
	if over && k < 500 {
		k = pmType + pmBackspace + pmForwardDel // over the cap: half the keystrokes delete words
	}
	switch {
	case k < pmType:
		return caret, 0, t.char()
	case k < pmType+pmBackspace && caret > 0:
		return caret - 1, 1, ""
	case k < pmType+pmBackspace+pmForwardDel && caret < t.length:
		return caret, 1, ""
	case k < pmType+pmBackspace+pmForwardDel+pmDeleteWord && caret > 0:
		n := min(caret, 1+t.rnd.IntN(8))
		return caret - n, n, ""
	case k >= 1000-pmPaste && !over:
		start := t.rnd.IntN(len(clipText) - 300)
		return caret, 0, clipText[start : start+20+t.rnd.IntN(281)]
	default:
		return caret, 0, t.char() // a delete with nothing to delete: type instead
	}
}

func (t *typist) char() string {
	switch k := t.rnd.IntN(1000); {
	case k < 5:
		return nonASCII[t.rnd.IntN(len(nonASCII))]
	case k < 25:
		return "\n"
	case k < 190:
		return " "
	default:
		i := t.rnd.IntN(len(letters))
		return letters[i : i+1]
	}
}

// remote moves the caret and length through an op applied to the local
// text by someone else (or by a resync). A remote insert exactly at the
// caret lands before it, as editors show it.
func (t *typist) remote(op document.Op) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.caret = document.TransformIndex(t.caret, op, false)
	t.length += op.Delta()
}

// reset replaces the length after an edit did not fit: the local text is
// shorter than the typist thought.
func (t *typist) reset(length int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.length = length
	t.caret = min(t.caret, length)
}
