package document

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MarshalJSON encodes op in wire form, e.g. [5,"hi",-3]. A nil Op encodes
// as [] (null is not a valid op). It returns an *OpError if op fails
// Validate, so an invalid Go-built op never reaches the wire.
func (op Op) MarshalJSON() ([]byte, error) {
	if err := op.Validate(); err != nil {
		return nil, err
	}
	return op.AppendJSON(make([]byte, 0, 2+8*len(op))), nil
}

// AppendJSON appends the wire form of op to dst and returns the extended
// slice. The output is byte-for-byte what MarshalJSON returns for a valid
// op: no whitespace, strings escaped as encoding/json does with HTML
// escaping off (", \ and control characters escaped, \b \f \n \r \t in
// short form, invalid UTF-8 as \ufffd, U+2028 and U+2029 as \u escapes).
// It is meant for encode-once broadcast and does not validate; invalid
// components are read as documented on Component.
func (op Op) AppendJSON(dst []byte) []byte {
	dst = append(dst, '[')
	first := true
	for _, c := range op {
		k := classify(c)
		if k == kNone {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		switch k {
		case kRetain:
			dst = strconv.AppendInt(dst, int64(c.Retain), 10)
		case kDelete:
			dst = strconv.AppendInt(dst, -int64(c.Delete), 10)
		default:
			dst = AppendJSONString(dst, c.Insert)
		}
	}
	return append(dst, ']')
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string exactly as encoding/json does
// with HTML escaping off (Go 1.22+: \b and \f in short form, U+2028/U+2029
// escaped, invalid UTF-8 as U+FFFD). The protocol encoders use it too, so
// every frame the server writes escapes strings one way.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		// U+2028/U+2029 are valid JSON but break JavaScript string
		// literals (JSONP); encoding/json always escapes them.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// UnmarshalJSON decodes the wire form strictly. The input must be exactly
// one JSON array (surrounding JSON whitespace allowed) whose elements are:
//
//   - a non-zero integer literal: n > 0 retains n, n < 0 deletes -n; the
//     magnitude must be at most 2^31-1; 0, -0, leading zeros and literals
//     with a fraction or exponent (1.0, 1e2) are rejected;
//   - a non-empty string: an insert. Escapes are decoded exactly as
//     encoding/json does, including \uXXXX surrogate pairs; lone
//     surrogates and invalid UTF-8 bytes become U+FFFD.
//
// Objects, booleans, null and nested arrays are rejected, as are a null or
// non-array body, truncated input and anything after the closing bracket.
// [] decodes to an empty, non-nil no-op. Every failure is an *OpError (its
// Index is the component index, or -1 for errors outside a component) and
// leaves *op unchanged. The decoded op is not normalised.
func (op *Op) UnmarshalJSON(b []byte) error {
	d := decoder{b: b}
	res, err := d.op()
	if err != nil {
		return err
	}
	*op = res
	return nil
}

type decoder struct {
	b []byte
	i int
}

func (d *decoder) skipSpace() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// describe names the JSON value that starts with c, for error messages.
func describe(c byte) string {
	switch {
	case c == '{':
		return "object"
	case c == '[':
		return "nested array"
	case c == '"':
		return "string"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	}
	return "invalid character " + strconv.QuoteRune(rune(c))
}

func (d *decoder) op() (Op, error) {
	d.skipSpace()
	if d.i >= len(d.b) {
		return nil, opErr(-1, "empty input")
	}
	if c := d.b[d.i]; c != '[' {
		return nil, opErr(-1, "op must be a JSON array, got %s", describe(c))
	}
	d.i++
	// Most ops have at most three components (retain, insert, delete).
	ops := make(Op, 0, 3)
	d.skipSpace()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return ops, d.end()
	}
	for idx := 0; ; idx++ {
		d.skipSpace()
		if d.i >= len(d.b) {
			return nil, opErr(-1, "unexpected end of input")
		}
		switch c := d.b[d.i]; {
		case c == '"':
			s, err := d.str(idx)
			if err != nil {
				return nil, err
			}
			if s == "" {
				return nil, opErr(idx, "empty insert")
			}
			ops = append(ops, Component{Insert: s})
		case c == '-' || (c >= '0' && c <= '9'):
			n, err := d.num(idx)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				ops = append(ops, Component{Retain: n})
			} else {
				ops = append(ops, Component{Delete: -n})
			}
		case c == ']':
			return nil, opErr(idx, "unexpected ']' after ','")
		default:
			return nil, opErr(idx, "%s is not a valid component", describe(c))
		}
		d.skipSpace()
		if d.i >= len(d.b) {
			return nil, opErr(-1, "unexpected end of input (missing ']')")
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return ops, d.end()
		default:
			return nil, opErr(idx, "expected ',' or ']' at byte %d, got %s", d.i, strconv.QuoteRune(rune(d.b[d.i])))
		}
	}
}

// end checks that only whitespace follows the closing bracket.
func (d *decoder) end() error {
	d.skipSpace()
	if d.i != len(d.b) {
		return opErr(-1, "unexpected data after op at byte %d", d.i)
	}
	return nil
}

// num parses an integer component; d.i is at '-' or a digit.
func (d *decoder) num(idx int) (int, error) {
	start := d.i
	neg := false
	if d.b[d.i] == '-' {
		neg = true
		d.i++
	}
	if d.i >= len(d.b) || d.b[d.i] < '0' || d.b[d.i] > '9' {
		return 0, opErr(idx, "invalid number at byte %d", start)
	}
	n := 0
	tooLarge := false
	if d.b[d.i] == '0' {
		d.i++
		if d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			return 0, opErr(idx, "invalid number at byte %d (leading zero)", start)
		}
	} else {
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			if !tooLarge {
				n = n*10 + int(d.b[d.i]-'0')
				tooLarge = n > maxCount
			}
			d.i++
		}
	}
	if d.i < len(d.b) {
		if c := d.b[d.i]; c == '.' || c == 'e' || c == 'E' {
			return 0, opErr(idx, "number with fraction or exponent is not a valid component (counts are integers)")
		}
	}
	lit := string(d.b[start:d.i])
	switch {
	case tooLarge:
		return 0, opErr(idx, "count %s too large (max %d)", lit, maxCount)
	case n == 0:
		return 0, opErr(idx, "zero is not a valid component")
	case neg:
		return -n, nil
	}
	return n, nil
}

// str parses a string literal; d.i is at the opening quote.
func (d *decoder) str(idx int) (string, error) {
	d.i++
	start := d.i
	ascii := true
	// Fast path: no escapes, no control characters, valid UTF-8. This is
	// the common case (typed text) and costs one allocation.
	for i := start; i < len(d.b); i++ {
		c := d.b[i]
		if c == '"' {
			if ascii || utf8.Valid(d.b[start:i]) {
				d.i = i + 1
				return string(d.b[start:i]), nil
			}
			break
		}
		if c == '\\' || c < 0x20 {
			break
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
	}
	return d.strSlow(idx, start)
}

// strSlow decodes a string literal starting after its opening quote,
// replicating encoding/json's unquote.
func (d *decoder) strSlow(idx, start int) (string, error) {
	b := d.b
	buf := make([]byte, 0, len(b)-start)
	r := start
	for r < len(b) {
		c := b[r]
		switch {
		case c == '"':
			d.i = r + 1
			return string(buf), nil
		case c == '\\':
			if r+1 >= len(b) {
				return "", opErr(idx, "unterminated string")
			}
			switch b[r+1] {
			case '"', '\\', '/':
				buf = append(buf, b[r+1])
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				rr := getu4(b[r:])
				if rr < 0 {
					return "", opErr(idx, "invalid \\u escape at byte %d", r)
				}
				r += 6
				if utf16.IsSurrogate(rr) {
					// A high surrogate followed by a low one is one code
					// point; anything else is a lone surrogate, which
					// encoding/json (and so this decoder) turns into U+FFFD.
					if dec := utf16.DecodeRune(rr, getu4(b[r:])); dec != utf8.RuneError {
						buf = utf8.AppendRune(buf, dec)
						r += 6
						continue
					}
					rr = utf8.RuneError
				}
				buf = utf8.AppendRune(buf, rr)
				continue
			default:
				return "", opErr(idx, "invalid escape at byte %d", r)
			}
			r += 2
		case c < 0x20:
			return "", opErr(idx, "control character in string at byte %d", r)
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			r++
		default:
			rr, size := utf8.DecodeRune(b[r:])
			if rr == utf8.RuneError && size == 1 {
				buf = utf8.AppendRune(buf, utf8.RuneError)
			} else {
				buf = append(buf, b[r:r+size]...)
			}
			r += size
		}
	}
	return "", opErr(idx, "unterminated string")
}

// getu4 decodes \uXXXX at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c = c - '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}
