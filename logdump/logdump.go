package logdump

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/collabedit/collab/eventlog"
)

// Format and Version name the dump format in its first line.
const (
	Format  = "collab-eventlog"
	Version = 1
)

// ErrCorrupt refuses a dump whose checksum, count or lines do not add up.
var ErrCorrupt = errors.New("dump corrupt")

// header is a dump's first line.
type header struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Created time.Time `json:"created"`
}

// line is one event's line.
type line struct {
	Seq     int64           `json:"seq"`
	Doc     string          `json:"doc"`
	Version int64           `json:"v"`
	ID      string          `json:"id"`
	Author  string          `json:"author"`
	Time    int64           `json:"time"`
	Op      json.RawMessage `json:"op"`
	Prev    string          `json:"prev,omitempty"`
	Size    *int64          `json:"size,omitempty"` // absent: unknown
	Kind    eventlog.Kind   `json:"kind,omitempty"`
	Meta    json.RawMessage `json:"meta,omitempty"`
}

// trailer is a dump's last line.
type trailer struct {
	End    bool   `json:"end"`
	Events int64  `json:"events"`
	SHA256 string `json:"sha256"`
}

func lineOf(e eventlog.Event) line {
	l := line{Seq: e.Seq, Doc: e.Doc, Version: e.Version, ID: e.OpID, Author: e.Author, Time: e.Time.UnixNano(),
		Op: e.Op, Prev: e.Prev, Kind: e.Kind, Meta: e.Meta}
	if e.Size >= 0 {
		size := e.Size
		l.Size = &size
	}
	return l
}

func (l line) event() eventlog.Event {
	e := eventlog.Event{Doc: l.Doc, Version: l.Version, OpID: l.ID, Author: l.Author, Time: time.Unix(0, l.Time),
		Op: []byte(l.Op), Prev: l.Prev, Size: -1, Kind: l.Kind, Meta: []byte(l.Meta)}
	if l.Size != nil {
		e.Size = *l.Size
	}
	if len(e.Meta) == 0 {
		e.Meta = nil
	}
	return e
}

// Source is what Write reads: any event log (eventlog.Log).
type Source interface {
	Since(ctx context.Context, afterSeq int64, limit int) ([]eventlog.Event, error)
	LastSeq(ctx context.Context) (int64, error)
}

// page is how many events one read brings in: a dump of a million events
// takes a thousand reads, and a page of megabyte pastes stays bounded.
const page = 1000

// Write dumps every event of src committed up to now to w, and returns
// how many it wrote.
func Write(ctx context.Context, src Source, w io.Writer) (int64, error) {
	last, err := src.LastSeq(ctx)
	if err != nil {
		return 0, fmt.Errorf("dump: %w", err)
	}
	sum := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(w, sum), 1<<16)
	if err := writeLine(bw, header{Format: Format, Version: Version, Created: time.Now().UTC()}); err != nil {
		return 0, err
	}
	var n, after int64
	for after < last {
		evs, err := src.Since(ctx, after, page)
		if err != nil {
			return n, fmt.Errorf("dump: read after seq %d: %w", after, err)
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			if e.Seq > last {
				break
			}
			if err := writeLine(bw, lineOf(e)); err != nil {
				return n, err
			}
			n++
			after = e.Seq
		}
		if evs[len(evs)-1].Seq > last {
			break
		}
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("dump: write: %w", err)
	}
	// The trailer goes to w alone: the checksum covers what precedes it.
	t, _ := json.Marshal(trailer{End: true, Events: n, SHA256: hex.EncodeToString(sum.Sum(nil))})
	if _, err := w.Write(append(t, '\n')); err != nil {
		return n, fmt.Errorf("dump: write: %w", err)
	}
	return n, nil
}

func writeLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("dump: encode: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("dump: write: %w", err)
	}
	return nil
}

// maxLine bounds one line of a dump: an event's op is at most the
// server's message limit (1 MiB by default), escaped at worst 6× in JSON.
const maxLine = 64 << 20

// scan calls fn with each event line of the dump in r, checking the
// header, the count and the checksum; fn nil just checks. A checksum or
// count that does not match is reported after the last line, so callers
// that must not act on a corrupt dump check it first (Verify).
func scan(r io.Reader, fn func(line) error) (int64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), maxLine)
	sum := sha256.New()
	var n int64
	first := true
	for sc.Scan() {
		b := sc.Bytes()
		if first {
			first = false
			var h header
			if err := json.Unmarshal(b, &h); err != nil || h.Format != Format {
				return 0, fmt.Errorf("%w: not a %s dump", ErrCorrupt, Format)
			}
			if h.Version != Version {
				return 0, fmt.Errorf("%w: dump format version %d, this build reads %d", ErrCorrupt, h.Version, Version)
			}
			hashLine(sum, b)
			continue
		}
		var t trailer
		if json.Unmarshal(b, &t) == nil && t.End {
			return n, checkTrailer(t, n, sum, sc)
		}
		var l line
		if err := json.Unmarshal(b, &l); err != nil {
			return n, fmt.Errorf("%w: line %d: %v", ErrCorrupt, n+2, err)
		}
		hashLine(sum, b)
		n++
		if fn != nil {
			if err := fn(l); err != nil {
				return n, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("read dump: %w", err)
	}
	return n, fmt.Errorf("%w: no end line (truncated?)", ErrCorrupt)
}

func hashLine(h hash.Hash, b []byte) {
	h.Write(b)
	h.Write([]byte{'\n'})
}

func checkTrailer(t trailer, n int64, sum hash.Hash, sc *bufio.Scanner) error {
	switch {
	case t.Events != n:
		return fmt.Errorf("%w: %d events, the end line says %d", ErrCorrupt, n, t.Events)
	case t.SHA256 != hex.EncodeToString(sum.Sum(nil)):
		return fmt.Errorf("%w: checksum does not match", ErrCorrupt)
	case sc.Scan():
		return fmt.Errorf("%w: data after the end line", ErrCorrupt)
	}
	return nil
}

// Verify checks a dump (format, every line, count, checksum) without
// loading it, and returns its number of events.
func Verify(r io.Reader) (int64, error) { return scan(r, nil) }
