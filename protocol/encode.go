package protocol

import (
	"strconv"
	"unicode/utf8"

	"github.com/collabedit/collab/document"
)

// Server → client message types of protocol v1.
const (
	TypeSnapshot = "snapshot"
	TypeOpened   = "opened"
	TypeAck      = "ack"
	TypeError    = "error"
	// TypeOp ("op") is shared with the client → server direction.
)

// AppendSnapshot appends {"type":"snapshot","doc":…,"version":…,"text":…}.
func AppendSnapshot(dst []byte, doc string, version int64, text string) []byte {
	dst = appendHead(dst, TypeSnapshot, doc, version)
	dst = append(dst, `,"text":`...)
	dst = AppendString(dst, text)
	return append(dst, '}')
}

// AppendOpened appends {"type":"opened","doc":…,"version":…}.
func AppendOpened(dst []byte, doc string, version int64) []byte {
	return append(appendHead(dst, TypeOpened, doc, version), '}')
}

// AppendAck appends {"type":"ack","doc":…,"version":…,"id":…}.
func AppendAck(dst []byte, doc, id string, version int64) []byte {
	dst = appendHead(dst, TypeAck, doc, version)
	dst = append(dst, `,"id":`...)
	dst = AppendString(dst, id)
	return append(dst, '}')
}

// AppendOp appends {"type":"op","doc":…,"version":…,"id":…,"op":[…],"author":…};
// author is left out when empty.
func AppendOp(dst []byte, doc string, version int64, id, author string, op document.Op) []byte {
	dst = appendHead(dst, TypeOp, doc, version)
	dst = append(dst, `,"id":`...)
	dst = AppendString(dst, id)
	dst = append(dst, `,"op":`...)
	dst = op.AppendJSON(dst)
	if author != "" {
		dst = append(dst, `,"author":`...)
		dst = AppendString(dst, author)
	}
	return append(dst, '}')
}

// AppendError appends {"type":"error","code":…,"message":…} with doc and id
// when set.
func AppendError(dst []byte, e *Error) []byte {
	dst = append(dst, `{"type":"error","code":`...)
	dst = AppendString(dst, string(e.Code))
	dst = append(dst, `,"message":`...)
	dst = AppendString(dst, e.Message)
	if e.Doc != "" {
		dst = append(dst, `,"doc":`...)
		dst = AppendString(dst, e.Doc)
	}
	if e.ID != "" {
		dst = append(dst, `,"id":`...)
		dst = AppendString(dst, e.ID)
	}
	return append(dst, '}')
}

func appendHead(dst []byte, typ, doc string, version int64) []byte {
	dst = append(dst, `{"type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `","doc":`...)
	dst = AppendString(dst, doc)
	dst = append(dst, `,"version":`...)
	return strconv.AppendInt(dst, version, 10)
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. It escapes what JSON requires
// (quote, backslash, control characters) plus U+2028/U+2029, and replaces
// invalid UTF-8 with U+FFFD as encoding/json does; it leaves <, > and &
// alone because frames are never embedded in HTML.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			if r == utf8.RuneError {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			}
			start = i + size
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
