package eventlog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/collabedit/collab/internal/poll"
)

// holdWriterLock takes the store's cross-process writer lock as another
// process would, so the writer blocks on its next batch. The returned
// release is idempotent and also runs at cleanup, which is registered
// after the store's Close and so runs before it.
func holdWriterLock(t *testing.T, s *Store) (release func()) {
	t.Helper()
	f, err := os.OpenFile(s.path()+"-writer.lock", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { f.Close() }) }
	t.Cleanup(release)
	return release
}

// waitWriterBusy waits until the writer has taken a batch (and is blocked).
func waitWriterBusy(t *testing.T, s *Store) {
	t.Helper()
	poll.Until(t, "the writer to take the first append", func() bool { return s.Stats().BatchAge != 0 })
}

type answer struct {
	version int64
	err     error
}

// TestAppendAsyncNeverBlocks fills the queue while the writer is blocked
// (another process holds the writer lock), once by its slots and once by
// its byte bound: every further append is answered at once, on the
// caller's goroutine, with ErrBusy; snapshots are dropped; a blocking
// Append waits for room; once the writer runs, the queued appends commit
// and are answered in call order.
func TestAppendAsyncNeverBlocks(t *testing.T) {
	t.Parallel()
	op := []byte(strings.Repeat("x", 4000))
	// request size of ev2(v): op + doc "q" + op id "q-op-N" + author "a"
	size := func(v int64) int64 { return int64(len(op) + 1 + len(fmt.Sprintf("q-op-%d", v)) + 1) }
	tests := []struct {
		name     string
		cfg      Config
		op       []byte
		accepted func() int // how many appends fit beside the one in the writer
	}{
		{"4096 slots", Config{MaxBatch: 1}, nil, func() int { return queueSize }},
		{"byte bound", Config{MaxQueueBytes: 64 << 10}, op, func() int {
			var n int
			var sum int64
			for v := int64(0); sum+size(v) <= 64<<10; v++ {
				sum += size(v)
				n++
			}
			return n - 1 // the first is in the writer's batch, still counted
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := openTest(t, tempDB(t), tt.cfg)
			release := holdWriterLock(t, s)
			answers := make(chan answer, queueSize+200)
			ev2 := func(v int64) Event {
				return Event{Doc: "q", Version: v, OpID: fmt.Sprintf("q-op-%d", v), Author: "a", Op: tt.op}
			}
			appendOne := func(v int64) {
				s.AppendAsync(ev2(v), func(e Event, err error) { answers <- answer{e.Version, err} })
			}
			appendOne(0)
			waitWriterBusy(t, s)

			// Fill the queue until the first refusal, then 100 more; on the
			// old blocking queue this goroutine would never finish.
			type outcome struct {
				accepted, refused int
				err               error
			}
			filled := make(chan outcome, 1)
			go func() {
				var o outcome
				for v := int64(1); v < queueSize+200 && o.refused < 100; v++ {
					appendOne(v)
					select {
					case a := <-answers: // only a refusal can be answered now
						if a.version != v || !errors.Is(a.err, ErrBusy) || !errors.Is(a.err, ErrUnavailable) {
							o.err = fmt.Errorf("append %d answered at once with version %d, %v; want ErrBusy for it", v, a.version, a.err)
							filled <- o
							return
						}
						o.refused++
					default:
						if o.refused > 0 {
							o.err = fmt.Errorf("append %d accepted after %d refusals while the writer is blocked", v, o.refused)
							filled <- o
							return
						}
						o.accepted++
					}
				}
				filled <- o
			}()
			var o outcome
			select {
			case o = <-filled:
			case <-time.After(20 * time.Second):
				t.Fatal("AppendAsync blocked on a full queue")
			}
			if o.err != nil {
				t.Fatal(o.err)
			}
			if want := tt.accepted(); o.accepted != want || o.refused != 100 {
				t.Fatalf("%d accepted, %d refused; want %d and 100", o.accepted, o.refused, want)
			}
			st := s.Stats()
			if st.QueuedAppends != int64(o.accepted+1) || st.Busy != 100 {
				t.Fatalf("stats %+v: want %d queued appends and 100 busy", st, o.accepted+1)
			}
			var bytes int64
			for v := int64(0); v <= int64(o.accepted); v++ {
				bytes += int64(len(tt.op) + 1 + len(fmt.Sprintf("q-op-%d", v)) + 1)
			}
			if st.QueuedBytes != bytes {
				t.Fatalf("%d queued bytes, want %d", st.QueuedBytes, bytes)
			}

			s.PutSnapshotAsync(Snapshot{Doc: "q", Version: 1, Text: string(tt.op) + "x"})
			if st := s.Stats(); st.SnapshotsDropped != 1 {
				t.Fatalf("%d snapshots dropped, want 1", st.SnapshotsDropped)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			_, err := s.Append(ctx, ev2(int64(o.accepted)+1))
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrBusy) {
				t.Fatalf("blocking Append on a full queue: %v, want it to wait for room until its deadline", err)
			}
			waited := make(chan error, 1)
			go func() {
				_, err := s.Append(context.Background(), ev2(int64(o.accepted)+1))
				waited <- err
			}()

			release()
			for v := int64(0); v <= int64(o.accepted); v++ {
				a := <-answers
				if a.err != nil || a.version != v {
					t.Fatalf("answer %d: version %d, %v; want version %d committed, in call order", v, a.version, a.err, v)
				}
			}
			if err := <-waited; err != nil {
				t.Fatalf("Append that waited for room: %v", err)
			}
			if _, ok, _ := s.LatestSnapshot(context.Background(), "q"); ok {
				t.Fatal("the dropped snapshot was stored")
			}
			if st := s.Stats(); st.QueuedAppends != 0 || st.QueuedBytes != 0 {
				t.Fatalf("stats %+v: the queue's gauges did not return to 0", st)
			}
		})
	}
}

// TestOversizeRequestFitsAnEmptyQueue: a request larger than the byte
// bound is still stored when nothing else is queued.
func TestOversizeRequestFitsAnEmptyQueue(t *testing.T) {
	t.Parallel()
	s := openTest(t, tempDB(t), Config{MaxQueueBytes: 1 << 10})
	// Were it refused, Append would wait for room forever: bound it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e := ev("big", 0)
	e.Op = []byte(`"` + strings.Repeat("y", 4<<10) + `"`)
	if _, err := s.Append(ctx, e); err != nil {
		t.Fatalf("append of 4 KiB with a 1 KiB bound: %v", err)
	}
	if err := s.PutSnapshot(ctx, Snapshot{Doc: "big", Version: 1, Text: strings.Repeat("y", 4<<10)}); err != nil {
		t.Fatalf("snapshot of 4 KiB with a 1 KiB bound: %v", err)
	}
	s.AppendAsync(ev("big", 1), func(_ Event, err error) {})
	if st := s.Stats(); st.Busy != 0 {
		t.Fatalf("stats %+v: a request was refused", st)
	}
}
