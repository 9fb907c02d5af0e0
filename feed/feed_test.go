package feed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/collabedit/collab/eventlog"
)

// TestResumeFromEveryPosition: for every position of a log of N events,
// given as ?from or as Last-Event-ID, the stream yields each later event
// exactly once, in seq order, with its fields.
func TestResumeFromEveryPosition(t *testing.T) {
	t.Parallel()
	const n = 50
	s := openLog(t)
	write(t, s, []string{"a", "b", "c"}, n)
	all, err := s.Since(context.Background(), 0, 0)
	if err != nil || len(all) != n {
		t.Fatalf("%d events, %v", len(all), err)
	}
	srv := serve(t, New(s, fast))
	positions := rand.Perm(n + 1)
	for i, from := range positions {
		url, hdr := srv.URL+"?from="+strconv.Itoa(from), http.Header{}
		if i%2 == 1 {
			url = srv.URL + "?from=0" // Last-Event-ID wins
			hdr.Set("Last-Event-ID", strconv.Itoa(from))
		}
		got := open(t, url, hdr).untilQuiet(t)
		if len(got) != n-from {
			t.Fatalf("from %d: %d events, want %d", from, len(got), n-from)
		}
		for k, m := range got {
			want := all[from+k]
			d := m.data
			if m.id != strconv.FormatInt(want.Seq, 10) || m.event != "op" || d.Seq != want.Seq || d.Doc != want.Doc ||
				d.Version != want.Version || d.ID != want.OpID || d.Author != "ann" || string(d.Op) != `["x"]` || d.Time.IsZero() {
				t.Fatalf("from %d, event %d: %+v, want %+v", from, k, m, want)
			}
		}
	}
}

// TestLiveEventsAfterCatchUp: a caught-up stream receives events as they
// commit, and heartbeats while nothing happens.
func TestLiveEventsAfterCatchUp(t *testing.T) {
	t.Parallel()
	s := openLog(t)
	write(t, s, []string{"a"}, 3)
	st := open(t, serve(t, New(s, fast)).URL, nil)
	if got := st.untilQuiet(t); len(got) != 3 {
		t.Fatalf("catch-up: %d events", len(got))
	}
	if m := st.next(t); !m.heartbeat {
		t.Fatalf("idle stream sent %+v, want a heartbeat", m)
	}
	write(t, s, []string{"a", "b"}, 4)
	got := st.events(t, 4)
	if got[0].data.Seq != 4 || got[3].data.Seq != 7 {
		t.Fatalf("live: %+v", got)
	}
	if extra := st.untilQuiet(t); len(extra) != 0 {
		t.Fatalf("live: %d events more than written: %+v", len(extra), extra)
	}
}

// TestDocFilterAndAccess: ?doc keeps one document; an Access filter
// hides documents; an Access refusal answers its status.
func TestDocFilterAndAccess(t *testing.T) {
	t.Parallel()
	s := openLog(t)
	write(t, s, []string{"a", "b", "c"}, 9)
	cfg := fast
	cfg.Access = func(r *http.Request) (func(string) bool, int, string) {
		if r.Header.Get("Authorization") == "" {
			return nil, http.StatusUnauthorized, "no token"
		}
		return func(doc string) bool { return doc != "c" }, 0, ""
	}
	srv := serve(t, New(s, cfg))
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("refused: %d", res.StatusCode)
	}
	auth := http.Header{"Authorization": {"Bearer x"}}
	count := func(url string) map[string]int {
		m := map[string]int{}
		for _, e := range open(t, url, auth).untilQuiet(t) {
			m[e.data.Doc]++
		}
		return m
	}
	if got := count(srv.URL); got["a"] != 3 || got["b"] != 3 || got["c"] != 0 {
		t.Fatalf("filtered by access: %v", got)
	}
	if got := count(srv.URL + "?doc=b"); len(got) != 1 || got["b"] != 3 {
		t.Fatalf("?doc=b: %v", got)
	}
	if got := count(srv.URL + "?doc=c"); len(got) != 0 {
		t.Fatalf("?doc=c without access: %v", got)
	}
	for _, q := range []string{"?from=x", "?from=-1", "?doc=a%20b"} {
		res, err := http.Get(srv.URL + q)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", q, res.StatusCode)
		}
	}
}

// endless is a log that always has another large event.
type endless struct{ op []byte }

func (e endless) Since(_ context.Context, after int64, limit int) ([]eventlog.Event, error) {
	out := make([]eventlog.Event, limit)
	for i := range out {
		out[i] = eventlog.Event{Seq: after + int64(i) + 1, Doc: "big", Version: after + int64(i), OpID: fmt.Sprint(after + int64(i)), Op: e.op}
	}
	return out, nil
}

// TestSlowClientDisconnected: a client that stops reading is cut off
// once a batch cannot be written within the write deadline, rather than
// the server buffering for it.
func TestSlowClientDisconnected(t *testing.T) {
	t.Parallel()
	op := []byte(`["` + string(make([]byte, 0)) + fmt.Sprintf("%0*d", 32<<10, 0) + `"]`)
	cfg := fast
	cfg.WriteTimeout = 100 * time.Millisecond
	h := New(endless{op: op}, cfg)
	done := make(chan struct{})
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		h.ServeHTTP(w, r)
	}))
	res, err := http.Get(srv.URL) // and never read the body
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a client that does not read was not disconnected")
	}
}

// TestCloseEndsStreams: Close ends open streams (so a graceful shutdown
// does not wait for them) and refuses new ones.
func TestCloseEndsStreams(t *testing.T) {
	t.Parallel()
	s := openLog(t)
	h := New(s, fast)
	srv := serve(t, h)
	st := open(t, srv.URL, nil)
	st.untilQuiet(t)
	h.Close()
	if _, err := st.r.ReadString(0); err == nil {
		t.Fatal("stream still open after Close")
	}
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("after Close: %d", res.StatusCode)
	}
}
