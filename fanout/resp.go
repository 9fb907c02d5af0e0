package fanout

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unsafe"
)

// maxBulk bounds one bulk string read from Redis: a published event is at
// most the hub's message limit (1 MiB by default) plus its envelope, so
// 64 MiB is far above anything sent, and stops a corrupt length from
// allocating gigabytes.
const maxBulk = 64 << 20

// replyError is an error reply from Redis ("-MOVED 42 10.0.0.1:7000").
type replyError string

func (e replyError) Error() string { return "redis: " + string(e) }

// appendCommand appends args as a RESP array of bulk strings.
func appendCommand(b []byte, args ...string) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

// maxDepth bounds the nesting of arrays: a pushed message is one level.
const maxDepth = 8

// readReply reads one RESP2 value: a string for a simple or bulk
// string (nil for a null one), an int64, a replyError, or []any for an
// array.
func readReply(br *bufio.Reader) (any, error) { return readValue(br, 0) }

func readValue(br *bufio.Reader, depth int) (any, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("redis reply: malformed line %q", line)
	}
	kind, body := line[0], line[1:len(line)-2]
	switch kind {
	case '+':
		return string(body), nil
	case '-':
		return replyError(body), nil
	case ':':
		n, ok := parseInt(body)
		if !ok {
			return nil, fmt.Errorf("redis reply: bad integer %q", body)
		}
		return n, nil
	case '$':
		n, ok := parseInt(body)
		switch {
		case !ok || n > maxBulk:
			return nil, fmt.Errorf("redis reply: bad bulk length %q", body)
		case n < 0:
			return nil, nil
		case n == 0:
			return "", readCRLF(br)
		}
		// Read straight into the string's own bytes: one allocation for
		// the payload, which nothing else holds.
		buf := make([]byte, n)
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, err
		}
		if err := readCRLF(br); err != nil {
			return nil, err
		}
		return unsafe.String(&buf[0], len(buf)), nil
	case '*':
		n, ok := parseInt(body)
		if !ok || n > 1<<20 || depth >= maxDepth {
			return nil, fmt.Errorf("redis reply: bad array length %q", body)
		}
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readValue(br, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, errors.New("redis reply: unknown type " + strconv.Quote(string(kind)))
}

// readCRLF reads the CRLF that ends a bulk string.
func readCRLF(br *bufio.Reader) error {
	b, err := br.Peek(2)
	if err != nil {
		return err
	}
	if b[0] != '\r' || b[1] != '\n' {
		return fmt.Errorf("redis reply: bulk string not ended by CRLF: %q", b)
	}
	_, err = br.Discard(2)
	return err
}

// parseInt parses a RESP length or integer without allocating.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
