package feed

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collabedit/collab/eventlog"
)

// fast are settings compressed for tests.
var fast = Config{Poll: 5 * time.Millisecond, Heartbeat: 30 * time.Millisecond, Batch: 7}

func openLog(t *testing.T) *eventlog.Store {
	t.Helper()
	s, err := eventlog.Open(filepath.Join(t.TempDir(), "events.db"), eventlog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// write appends n events round-robin over docs, continuing each
// document's versions from its head.
func write(t *testing.T, s *eventlog.Store, docs []string, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		doc := docs[i%len(docs)]
		v, err := s.Head(ctx, doc)
		if err != nil {
			t.Fatal(err)
		}
		e := eventlog.Event{Doc: doc, Version: v, OpID: fmt.Sprintf("%s-%d", doc, v), Author: "ann", Op: []byte(`["x"]`)}
		if _, err := s.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
}

func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// received is one SSE message: an event (seq > 0) or a heartbeat.
type received struct {
	id        string
	event     string
	data      wireEvent
	heartbeat bool
}

// sse reads a stream's messages.
type sse struct {
	res *http.Response
	r   *bufio.Reader
}

func open(t *testing.T, url string, header http.Header) *sse {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, res.Header.Get("Content-Type"))
	}
	return &sse{res: res, r: bufio.NewReader(res.Body)}
}

// next reads the next event or heartbeat (skipping other comments).
func (s *sse) next(t *testing.T) received {
	t.Helper()
	var m received
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("read stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" && (m.id != "" || m.heartbeat):
			return m
		case line == ": heartbeat":
			m.heartbeat = true
		case strings.HasPrefix(line, "id: "):
			m.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			m.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(line[6:]), &m.data); err != nil {
				t.Fatalf("data %q: %v", line, err)
			}
		}
	}
}

// untilQuiet reads events until the first heartbeat, which a stream only
// sends once caught up.
func (s *sse) untilQuiet(t *testing.T) []received {
	t.Helper()
	var out []received
	for {
		m := s.next(t)
		if m.heartbeat {
			return out
		}
		out = append(out, m)
	}
}

// events reads until n events have arrived, skipping heartbeats: one may
// have been on its way before the events were written (the stream beats
// every 30 ms in tests). It fails if 5 s of heartbeats pass without them.
func (s *sse) events(t *testing.T, n int) []received {
	t.Helper()
	var out []received
	deadline := time.Now().Add(5 * time.Second)
	for len(out) < n {
		m := s.next(t)
		if m.heartbeat {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d events after 5 s of heartbeats: %+v", len(out), n, out)
			}
			continue
		}
		out = append(out, m)
	}
	return out
}
