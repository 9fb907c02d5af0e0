package projection

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/collabedit/collab/eventlog"
)

// refuseDoc fails with an *EventError for every event of doc.
func refuseDoc(name, doc string) *hooked {
	return &hooked{name: name, version: 1, hook: func(_ context.Context, _ int64, evs []eventlog.Event) error {
		for _, e := range evs {
			if e.Doc == doc {
				return &EventError{Seq: e.Seq, Err: errors.New("cannot handle " + doc)}
			}
		}
		return nil
	}}
}

func deadLetters(t *testing.T, pr *Projector, name string) []int64 {
	t.Helper()
	var seqs []int64
	err := pr.Read(context.Background(), name, func(ctx context.Context, tx *sql.Tx, _ Tables, _ Position) error {
		rows, err := tx.QueryContext(ctx, `SELECT seq, error FROM projector_dead_letters WHERE name = ? ORDER BY seq`, name)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var seq int64
			var msg string
			if err := rows.Scan(&seq, &msg); err != nil {
				return err
			}
			if !strings.Contains(msg, "cannot handle") {
				t.Errorf("dead letter %d: error %q", seq, msg)
			}
			seqs = append(seqs, seq)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return seqs
}

func TestDeadLetterSkip(t *testing.T) {
	t.Parallel()
	s, dir := openLog(t, nil)
	appendN(t, s, 300, "a", "bad", "c")
	pr := newProjector(t, dir, s, refuseDoc("skippy", "bad"))
	pr.BatchSize = 64
	open(t, pr)
	st := caughtUp(t, pr, s, "skippy")
	if st.DeadLetters != 100 || st.State != Running || !strings.Contains(st.LastError, "cannot handle") {
		t.Fatalf("stats = %+v, want 100 dead letters, running", st)
	}
	got, _ := readCounts(t, pr, "skippy")
	sameCounts(t, got, logCounts(t, s, "bad"))
	if n := len(deadLetters(t, pr, "skippy")); n != 100 {
		t.Fatalf("%d dead letters recorded, want 100", n)
	}
	if err := pr.Health(context.Background()); err != nil {
		t.Fatalf("health with skipped events: %v", err)
	}
}

func TestDeadLetterStop(t *testing.T) {
	t.Parallel()
	s, dir := openLog(t, nil)
	appendN(t, s, 20, "a")
	appendN(t, s, 1, "bad")
	appendN(t, s, 20, "a")
	pr := newProjector(t, dir, s, refuseDoc("stoppy", "bad"))
	pr.OnError = Stop
	open(t, pr)
	var st Stats
	waitFor(t, "stopped", func() bool { st = statsOf(pr, "stoppy"); return st.State == Stopped })
	if st.Seq != 20 || st.DeadLetters != 1 || st.LagEvents != 21 {
		t.Fatalf("stats = %+v, want stopped at 20 with one dead letter", st)
	}
	if seqs := deadLetters(t, pr, "stoppy"); len(seqs) != 1 || seqs[0] != 21 {
		t.Fatalf("dead letters %v, want [21]", seqs)
	}
	err := pr.Health(context.Background())
	if err == nil || !strings.Contains(err.Error(), "stoppy") || !strings.Contains(err.Error(), "seq 21") {
		t.Fatalf("health = %v, want the stopped projection", err)
	}
	got, pos := readCounts(t, pr, "stoppy")
	if got["a"] != 20 || pos.Seq != 20 || pos.LagEvents != 21 {
		t.Fatalf("read while stopped: %v at %+v", got, pos)
	}
}
