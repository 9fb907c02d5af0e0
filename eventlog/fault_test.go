package eventlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/collabedit/collab/internal/mounttest"
	"github.com/collabedit/collab/internal/poll"
)

// Tests against real filesystem faults: a small tmpfs filled up, and an
// ext4 image frozen with fsfreeze (internal/mounttest). They are not
// parallel: they bound how long calls take on those filesystems.

const mib = 1 << 20

// bigEvent is version v of doc carrying an op of n bytes.
func bigEvent(doc string, v int64, n int) Event {
	e := ev(doc, v)
	e.Op = []byte(`"` + strings.Repeat(string(rune('a'+v%26)), n-2) + `"`)
	return e
}

// appendUntilRefused appends 128 KiB events to doc until one fails, and
// returns how many were stored and the error.
func appendUntilRefused(t *testing.T, s *Store, doc string) (int64, error) {
	t.Helper()
	for v := int64(0); v < 400; v++ {
		if _, err := s.Append(context.Background(), bigEvent(doc, v, 128<<10)); err != nil {
			return v, err
		}
	}
	t.Fatal("400 appends of 128 KiB fit on a 20 MiB filesystem")
	return 0, nil
}

// TestDiskReserve: on a 20 MiB tmpfs with an 8 MiB reserve, appends are
// refused with ErrDiskFull while the filesystem still has room, snapshots
// too, Health says so; deleting a file lets writes resume by themselves.
func TestDiskReserve(t *testing.T) {
	dir := mounttest.Tmpfs(t, 20*mib)
	filler := mounttest.Fill(t, filepath.Join(dir, "filler"), 6*mib)
	const reserve = 8 * mib
	s := openTest(t, filepath.Join(dir, "log.db"), Config{MinFreeBytes: reserve})
	ctx := context.Background()

	stored, err := appendUntilRefused(t, s, "full")
	free := mounttest.Free(t, dir)
	var dfe *DiskFullError
	if !errors.As(err, &dfe) || !errors.Is(err, ErrDiskFull) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("append %d: %v, want a *DiskFullError matching ErrDiskFull and ErrUnavailable", stored, err)
	}
	if dfe.Reserve != reserve || dfe.Free >= reserve || free < reserve/2 {
		t.Fatalf("refused with %+v, %d bytes free now; want the 8 MiB reserve, while more than 4 MiB are free", dfe, free)
	}
	if want := "below the 8.0 MiB reserve; writes resume when space is freed"; !strings.Contains(err.Error(), want) {
		t.Fatalf("message %q lacks %q", err, want)
	}
	t.Logf("%d events stored; refused with %s free: %v", stored, formatBytes(free), err)
	if err := s.PutSnapshot(ctx, Snapshot{Doc: "full", Version: stored, Text: "t"}); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("snapshot below the reserve: %v, want ErrDiskFull", err)
	}
	if err := s.Health(ctx); !errors.As(err, &dfe) {
		t.Fatalf("health below the reserve: %v, want a *DiskFullError", err)
	}
	if st := s.Stats(); st.DiskFull < 2 || st.Failures != 0 {
		t.Fatalf("stats %+v: want 2 refused batches and no failed transaction", st)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, bigEvent("full", stored, 128<<10))
	if err := s.Health(ctx); err != nil {
		t.Fatalf("health after space was freed: %v", err)
	}
	if h, _ := s.Head(ctx, "full"); h != stored+1 {
		t.Fatalf("head %d, want %d: a refused append was stored", h, stored+1)
	}
}

// TestDiskReserveDefault: the zero value reserves 5% of a small
// filesystem (2 MiB of 40 MiB).
func TestDiskReserveDefault(t *testing.T) {
	dir := mounttest.Tmpfs(t, 40*mib)
	s := openTest(t, filepath.Join(dir, "log.db"), Config{})
	mustAppend(t, s, ev("d", 0))
	mounttest.Fill(t, filepath.Join(dir, "filler"), mounttest.Free(t, dir)-mib)
	_, err := s.Append(context.Background(), ev("d", 1))
	var dfe *DiskFullError
	if !errors.As(err, &dfe) || dfe.Reserve != 2*mib {
		t.Fatalf("append with 1 MiB free: %v, want a *DiskFullError with the 2 MiB default reserve", err)
	}
}

// TestDiskReallyFull: with the reserve disabled, appends fill the
// filesystem until SQLite itself fails with SQLITE_FULL. The store stays
// usable: Health reports the failure and its cause until a write succeeds,
// writes succeed once space is freed, and the file is intact.
func TestDiskReallyFull(t *testing.T) {
	dir := mounttest.Tmpfs(t, 20*mib)
	filler := mounttest.Fill(t, filepath.Join(dir, "filler"), 4*mib)
	path := filepath.Join(dir, "log.db")
	s := openTest(t, path, Config{MinFreeBytes: -1})
	ctx := context.Background()

	stored, err := appendUntilRefused(t, s, "full")
	var se sqlite3.Error
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrDiskFull) || !errors.As(err, &se) || se.Code != sqlite3.ErrFull {
		t.Fatalf("append %d on a full disk: %v, want SQLITE_FULL as ErrDiskFull and ErrUnavailable", stored, err)
	}
	t.Logf("%d events stored, then: %v", stored, err)
	if free := mounttest.Free(t, dir); free > mib {
		t.Fatalf("SQLITE_FULL with %d bytes free", free)
	}
	herr := s.Health(ctx)
	if !errors.Is(herr, ErrDiskFull) || !strings.Contains(fmt.Sprint(herr), "database or disk is full") {
		t.Fatalf("health after SQLITE_FULL: %v, want the failure and its cause", herr)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := s.Health(ctx); err == nil {
		t.Fatal("health is fine although no write has succeeded since the failure")
	}
	for v := stored; v < stored+5; v++ {
		mustAppend(t, s, bigEvent("full", v, 128<<10))
	}
	if err := s.Health(ctx); err != nil {
		t.Fatalf("health after writes succeeded again: %v", err)
	}
	evs, err := s.Events(ctx, "full", 0, 0)
	if err != nil || int64(len(evs)) != stored+5 || evs[len(evs)-1].Version != stored+4 {
		t.Fatalf("%d events, %v; want %d in order", len(evs), err, stored+5)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q, %v", check, err)
	}
}

// TestStuckDisk freezes the filesystem under appends in flight: Health
// reports the writer stuck once StallAfter has passed and never blocks
// past its context; AppendAsync keeps answering at once (ErrBusy once the
// queue's bytes are spent); after the thaw the stuck appends commit and
// new ones succeed.
func TestStuckDisk(t *testing.T) {
	dir := mounttest.Ext4(t, 64*mib)
	const stall = 300 * time.Millisecond
	s := openTest(t, filepath.Join(dir, "log.db"), Config{StallAfter: stall, MaxQueueBytes: mib})
	ctx := context.Background()
	mustAppend(t, s, ev("warm", 0))
	if err := s.Health(ctx); err != nil {
		t.Fatalf("health before the freeze: %v", err)
	}

	thaw := mounttest.Freeze(t, dir)
	frozen := time.Now()
	answers := make(chan answer, 100)
	var accepted int64
	var slowest time.Duration
	refused := 0
	for v := int64(0); v < 100 && refused < 20; v++ {
		start := time.Now()
		s.AppendAsync(bigEvent("stuck", v, 64<<10), func(e Event, err error) { answers <- answer{e.Version, err} })
		slowest = max(slowest, time.Since(start))
		select {
		case a := <-answers: // the writer is frozen: only a refusal is answered
			if a.version != v || !errors.Is(a.err, ErrBusy) {
				t.Fatalf("append %d answered at once: version %d, %v; want ErrBusy", v, a.version, a.err)
			}
			refused++
		default:
			if refused > 0 {
				t.Fatalf("append %d accepted after a refusal on a frozen disk", v)
			}
			accepted++
		}
	}
	if refused == 0 || accepted < 2 || accepted > 16 {
		t.Fatalf("%d accepted, %d refused; want the 1 MiB bound to stop 64 KiB appends after at most 16", accepted, refused)
	}
	if slowest > time.Second {
		t.Fatalf("an AppendAsync call took %v on a frozen disk", slowest)
	}

	var stallErr *StallError
	var err error
	reported := func() bool {
		hctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		err = s.Health(hctx)
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("Health took %v with a 500ms context", took)
		}
		return errors.As(err, &stallErr)
	}
	wctx, wcancel := context.WithDeadline(ctx, frozen.Add(stall+5*time.Second))
	defer wcancel()
	if !poll.Wait(wctx, reported) {
		t.Fatalf("health %v, %v after the freeze: the stuck writer was not reported", err, time.Since(frozen))
	}
	t.Logf("stuck reported %v after the freeze: %v", time.Since(frozen).Round(time.Millisecond), err)
	if stallErr.For < stall || !errors.Is(stallErr, ErrUnavailable) ||
		!strings.HasSuffix(stallErr.Error(), "s: the disk is not answering") {
		t.Fatalf("%v (stuck for %v), want at least %v and the operator's wording", stallErr, stallErr.For, stall)
	}
	if st := s.Stats(); st.QueuedAppends != accepted || st.QueuedBytes < accepted*64<<10 || st.BatchAge < stall || st.Busy != int64(refused) {
		t.Fatalf("stats %+v with %d appends accepted and %d refused", st, accepted, refused)
	}

	thaw()
	for v := int64(0); v < accepted; v++ {
		select {
		case a := <-answers:
			if a.err != nil || a.version != v {
				t.Fatalf("after the thaw: version %d, %v; want version %d committed", a.version, a.err, v)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("append %d still unanswered 30s after the thaw", v)
		}
	}
	mustAppend(t, s, bigEvent("stuck", accepted, 64<<10))
	hctx, hcancel := context.WithTimeout(ctx, 10*time.Second)
	defer hcancel()
	if !poll.Wait(hctx, func() bool { err = s.Health(ctx); return err == nil }) {
		t.Fatalf("health after the thaw: %v", err)
	}
}
