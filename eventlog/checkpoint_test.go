package eventlog

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestCheckpointsOffTheCommitPath: commits never checkpoint (the WAL grows
// past SQLite's automatic 1,000-page threshold when nothing else runs),
// and the background checkpointer keeps the WAL short. Not parallel: the
// checkpointer must get its ticks in the pauses.
func TestCheckpointsOffTheCommitPath(t *testing.T) {
	walAfter := func(t *testing.T, every, pause time.Duration) int64 {
		t.Helper()
		path := tempDB(t)
		s := openTest(t, path, Config{CheckpointEvery: every})
		// Each event carries ~6 KB (two pages) and commits alone: 600
		// commits write well over 1,000 WAL pages.
		payload := `["` + strings.Repeat("x", 6000) + `"]`
		for v := int64(0); v < 600; v++ {
			e := ev("c", v)
			e.Op = []byte(payload)
			mustAppend(t, s, e)
			if v%100 == 99 {
				// Room for a checkpoint, if one ticks: time passing on
				// purpose (the test is whether a checkpoint runs in it).
				time.Sleep(pause)
			}
		}
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	never := walAfter(t, time.Hour, 30*time.Millisecond)
	if never < 1200*4096 {
		t.Fatalf("WAL %d bytes with no checkpointer: the commits checkpointed by themselves", never)
	}
	ticking := walAfter(t, 20*time.Millisecond, 30*time.Millisecond)
	if ticking*2 > never {
		t.Fatalf("WAL %d bytes with the checkpointer, %d without: it did not keep the WAL short", ticking, never)
	}
	t.Logf("WAL after 600 commits: %d KB without checkpoints, %d KB with them every 20ms", never/1024, ticking/1024)
}
