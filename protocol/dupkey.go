package protocol

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode"
)

// duplicateKey refuses a JSON text in which some object, at any depth,
// has two members whose names encoding/json would match to the same
// field: equal once unescaped and compared ignoring case ("doc", "Doc"
// and "d\u006fc" are one name). encoding/json keeps the last of them, so
// a frame such as {"doc":"a","doc":"b"} meant whatever the reader took it
// to mean; a proxy or log that keeps the first saw another document.
//
// data must be valid JSON (json.Unmarshal accepted it): the walk relies
// on that and checks no syntax. It runs only on the reference path (the
// fast path gives up on a repeated key), in about a tenth of the time of
// a json.Decoder.Token walk, which is the tests' oracle.
func duplicateKey(data []byte) *Error {
	w := keyWalker{scanner: scanner{b: data}}
	for w.i < len(w.b) {
		if err := w.step(); err != nil {
			return err
		}
	}
	return nil
}

// keyWalker walks a valid JSON text byte by byte. Only strings need
// reading: a member name is the string right after an object's '{' or a
// ',' inside an object; numbers, literals, ':' and whitespace are stepped
// over, since none of them holds a '"', brace, bracket or ','.
type keyWalker struct {
	scanner              // the text and the position in it; its skipString reads strings
	wantName bool        // the next string is a member name
	open     []container // the objects and arrays the walk is in, innermost last
	names    [][]byte    // the names of the open objects, unescaped, in order
}

// container is an open object or array.
type container struct {
	object bool
	first  int               // where its names start in keyWalker.names
	folded map[string][]byte // foldName(name) → name, once it has linearNames names
}

// linearNames is how many names of one object are compared one by one
// with each new name: no allocation, and a client frame has at most 11
// keys. Past it, a map: a 1 MiB object of 100,000 names then costs
// 100,000 lookups rather than 5·10⁹ comparisons.
const linearNames = 16

// step reads one byte, or one string.
func (w *keyWalker) step() *Error {
	c := w.b[w.i]
	if c == '"' {
		start := w.i
		w.skipString()
		if w.wantName {
			w.wantName = false
			return w.add(w.b[start:w.i])
		}
		return nil
	}
	w.i++
	switch c {
	case '{', '[':
		w.open = append(w.open, container{object: c == '{', first: len(w.names)})
		w.wantName = c == '{'
	case '}', ']':
		w.names = w.names[:w.open[len(w.open)-1].first]
		w.open = w.open[:len(w.open)-1]
	case ',':
		w.wantName = w.open[len(w.open)-1].object
	}
	return nil
}

// add records the member name quoted (with its quotes, as in the text) in
// the innermost object, or refuses it when that object already has it.
func (w *keyWalker) add(quoted []byte) *Error {
	name := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(name, '\\') >= 0 {
		var s string
		_ = json.Unmarshal(quoted, &s) // cannot fail: the text is valid JSON
		name = []byte(s)
	}
	obj := &w.open[len(w.open)-1]
	earlier := w.names[obj.first:]
	if len(earlier) >= linearNames && obj.folded == nil {
		obj.folded = make(map[string][]byte, 2*linearNames)
		for _, e := range earlier {
			obj.folded[foldName(e)] = e
		}
	}
	if obj.folded != nil {
		key := foldName(name)
		if first, dup := obj.folded[key]; dup {
			return duplicateError(name, first)
		}
		obj.folded[key] = name
	} else {
		for _, first := range earlier {
			if bytes.EqualFold(first, name) {
				return duplicateError(name, first)
			}
		}
	}
	w.names = append(w.names, name)
	return nil
}

func duplicateError(name, first []byte) *Error {
	if bytes.Equal(name, first) {
		return Errorf(CodeBadRequest, "duplicate field %q", name)
	}
	return Errorf(CodeBadRequest, "duplicate field %q (the same as %q: field names are matched ignoring case)", name, first)
}

// foldName maps names that are equal ignoring case (bytes.EqualFold, which
// is also how encoding/json matches names to fields) to one string: each
// rune becomes the smallest rune of its case-folding orbit, so "k", "K"
// and the Kelvin sign "\u212a" all become "K". Invalid UTF-8 bytes become
// U+FFFD each, as encoding/json reads them.
func foldName(name []byte) string {
	return strings.Map(func(r rune) rune {
		for {
			next := unicode.SimpleFold(r)
			if next <= r {
				return next
			}
			r = next
		}
	}, string(name))
}
