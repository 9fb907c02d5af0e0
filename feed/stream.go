package feed

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/collabedit/collab/eventlog"
)

// stream is one client's feed.
type stream struct {
	h     *Handler
	w     http.ResponseWriter
	rc    *http.ResponseController
	ctx   context.Context
	after int64 // the last seq read (sent or filtered out)
	allow func(doc string) bool
	buf   []byte // one batch of frames, reused
}

// run writes the headers, then batches of events and heartbeats until
// the client leaves, is too slow, the log fails or the Handler closes.
func (s *stream) run() {
	hd := s.w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	s.w.WriteHeader(http.StatusOK)
	if s.flush([]byte(": collab change feed\n\n")) != nil {
		return
	}
	poll := time.NewTicker(s.h.cfg.Poll)
	defer poll.Stop()
	quiet := time.Now()
	for {
		n, err := s.pump()
		if err != nil {
			return
		}
		if n > 0 {
			quiet = time.Now()
			continue // maybe more to catch up: read again at once
		}
		if time.Since(quiet) >= s.h.cfg.Heartbeat {
			if s.flush([]byte(": heartbeat\n\n")) != nil {
				return
			}
			quiet = time.Now()
		}
		select {
		case <-s.ctx.Done():
			return
		case <-s.h.stop:
			return
		case <-poll.C:
		}
	}
}

// pump reads one batch after s.after and writes the events the stream
// may see; it reports how many events it read (0: caught up).
func (s *stream) pump() (int, error) {
	evs, err := s.h.src.Since(s.ctx, s.after, s.h.cfg.Batch)
	if err != nil {
		// The client resumes from its last id once the log answers.
		_ = s.flush([]byte("event: error\ndata: " + strconv.Quote(err.Error()) + "\n\n"))
		return 0, fmt.Errorf("read log after %d: %w", s.after, err)
	}
	s.buf = s.buf[:0]
	for i := range evs {
		if s.allow(evs[i].Doc) {
			if s.buf, err = appendEvent(s.buf, &evs[i]); err != nil {
				return 0, err
			}
		}
	}
	if len(evs) > 0 {
		s.after = evs[len(evs)-1].Seq
	}
	if len(s.buf) > 0 {
		if err := s.flush(s.buf); err != nil {
			return 0, err
		}
	}
	return len(evs), nil
}

// flush writes b and flushes it under the write deadline; an error means
// the client is gone or too slow, and the stream ends.
func (s *stream) flush(b []byte) error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.h.cfg.WriteTimeout))
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := s.rc.Flush(); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	return nil
}

// wireEvent is an event's data line.
type wireEvent struct {
	Seq     int64           `json:"seq"`
	Doc     string          `json:"doc"`
	Version int64           `json:"version"`
	ID      string          `json:"id"`
	Author  string          `json:"author"`
	Time    time.Time       `json:"time"`
	Op      json.RawMessage `json:"op"`
	// Lifecycle events (rename, delete, purge; docs/api.md) carry their
	// kind and details and are sent as SSE event "lifecycle", so a
	// consumer that only edits text (listening for "op") still keeps the
	// version count, and one that mirrors documents must erase on purge.
	Kind string          `json:"kind,omitempty"`
	Meta json.RawMessage `json:"meta,omitempty"`
}

// appendEvent appends e as one SSE message.
func appendEvent(dst []byte, e *eventlog.Event) ([]byte, error) {
	data, err := json.Marshal(wireEvent{Seq: e.Seq, Doc: e.Doc, Version: e.Version, ID: e.OpID,
		Author: e.Author, Time: e.Time.UTC(), Op: e.Op, Kind: string(e.Kind), Meta: e.Meta})
	if err != nil {
		return dst, fmt.Errorf("encode event seq %d: %w", e.Seq, err)
	}
	dst = append(dst, "id: "...)
	dst = strconv.AppendInt(dst, e.Seq, 10)
	if e.Kind == eventlog.Op {
		dst = append(dst, "\nevent: op\ndata: "...)
	} else {
		dst = append(dst, "\nevent: lifecycle\ndata: "...)
	}
	dst = append(dst, data...)
	return append(dst, "\n\n"...), nil
}
