package eventlog

import (
	"context"
	"sync/atomic"
	"testing"
)

func TestLastSeqAndOnCommit(t *testing.T) {
	t.Parallel()
	var commits atomic.Int64
	s := openTest(t, tempDB(t), Config{OnCommit: func() { commits.Add(1) }})
	ctx := context.Background()
	if seq, err := s.LastSeq(ctx); err != nil || seq != 0 {
		t.Fatalf("empty log: LastSeq = %d, %v; want 0, nil", seq, err)
	}
	var last Event
	for v := int64(0); v < 3; v++ {
		last = mustAppend(t, s, ev("a", v))
	}
	if seq, err := s.LastSeq(ctx); err != nil || seq != last.Seq {
		t.Fatalf("LastSeq = %d, %v; want %d", seq, err, last.Seq)
	}
	if got := commits.Load(); got != 3 {
		t.Fatalf("OnCommit called %d times, want 3", got)
	}
	// A refused append commits nothing new: no call.
	if _, err := s.Append(ctx, ev("a", 1)); err == nil {
		t.Fatal("duplicate append succeeded")
	}
	if got := commits.Load(); got != 3 {
		t.Fatalf("OnCommit after a refused append: %d calls, want 3", got)
	}
	_ = s.Close()
	if _, err := s.LastSeq(ctx); err == nil {
		t.Fatal("LastSeq after Close: want ErrClosed")
	}
}
