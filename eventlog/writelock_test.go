package eventlog

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestWriterQueuesOnLockFile: while another process holds the writer lock,
// an append waits; it commits as soon as the lock is released.
func TestWriterQueuesOnLockFile(t *testing.T) {
	t.Parallel()
	path := tempDB(t)
	s := openTest(t, path, Config{})
	f, err := os.OpenFile(path+"-writer.lock", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("the store did not create its lock file: %v", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.Append(context.Background(), Event{Doc: "l", OpID: "x:1", Op: []byte(`["a"]`)})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("append committed while another writer held the lock (err %v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("append still waiting after the lock was released")
	}
}

// TestWaitingWriterCommitsWhatQueuedMeanwhile: appends queued while the
// writer waited for another process's lock go into the same transaction,
// so processes taking turns still batch (cross-process group commit).
func TestWaitingWriterCommitsWhatQueuedMeanwhile(t *testing.T) {
	t.Parallel()
	path := tempDB(t)
	s := openTest(t, path, Config{})
	f, err := os.OpenFile(path+"-writer.lock", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	const n = 20
	done := make(chan error, n)
	s.AppendAsync(Event{Doc: "g", Version: 0, OpID: "x:0", Op: []byte(`["a"]`)}, func(_ Event, err error) { done <- err })
	waitWriterBusy(t, s) // the writer has taken x:0 and waits for the lock
	for v := 1; v < n; v++ {
		// Queued when AppendAsync returns.
		s.AppendAsync(Event{Doc: "g", Version: int64(v), OpID: "x:" + string(rune('a'+v)), Op: []byte(`["a"]`)},
			func(_ Event, err error) { done <- err })
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if st := s.Stats(); st.Commits != 1 || st.Events != n {
		t.Fatalf("%d events in %d commits, want %d in 1", st.Events, st.Commits, n)
	}
}
